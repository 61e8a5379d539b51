#!/usr/bin/env bash
# Installs BuildGrid's server (a second, independent REAPI implementation) from PyPI into a venv.
# Idempotent: prints the path of its `bgd` command.
set -euo pipefail
version=0.4.4
root="${GALLEY_TEST_SERVERS:-$HOME/.cache/galley-test-servers}"
mkdir -p "$root"
# One installer at a time (test files may start at once).
exec 9>"$root/.install-$(basename "$0" .sh).lock"
flock 9
venv="$root/buildgrid-$version"
# A venv names its own path in its scripts, so it is made in place; the marker says it is whole.
if [ ! -e "$venv/.installed" ]; then
  py=""
  for c in python3.11 "$(command -v pyenv >/dev/null && pyenv root)/versions/3.11"*/bin/python3 python3; do
    if [ -x "$(command -v "$c" 2>/dev/null)" ] && "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      py="$c"
      break
    fi
  done
  [ -n "$py" ] || { echo "buildgrid: needs Python 3.11" >&2; exit 1; }
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "buildgrid==$version" >&2
  touch "$venv/.installed"
fi
echo "$venv/bin/bgd"
