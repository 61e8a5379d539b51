#!/usr/bin/env bash
# Installs the servers the shared-store tests start on 127.0.0.1, once, cached between runs:
#   redis-server  Debian's package
#   s3s-fs        an S3 server on a directory (crates.io), built into ~/.cache/galley-test-servers
# Usage: scripts/test-servers.sh [redis] [s3]   (both when none is named)
# Prints nothing on success when everything is already there.
set -euo pipefail
root="${GALLEY_TEST_SERVERS:-$HOME/.cache/galley-test-servers}"
mkdir -p "$root"
exec 9>"$root/.install.lock"
flock 9

want="${*:-redis s3}"

if [[ " $want " == *" redis "* ]] && ! command -v redis-server >/dev/null 2>&1; then
  echo "installing redis-server (Debian)" >&2
  apt_get() { if [ "$(id -u)" = 0 ]; then apt-get "$@"; else sudo apt-get "$@"; fi; }
  { apt_get update -qq && DEBIAN_FRONTEND=noninteractive apt_get install -y -qq redis-server; } >&2
fi

S3S_VERSION=0.14.1
if [[ " $want " == *" s3 "* ]] && [ ! -x "$root/s3s-fs-$S3S_VERSION/bin/s3s-fs" ]; then
  echo "building s3s-fs $S3S_VERSION (crates.io; a few minutes, once)" >&2
  cargo install s3s-fs --version "$S3S_VERSION" --locked --features binary \
    --root "$root/s3s-fs-$S3S_VERSION" >&2
fi
