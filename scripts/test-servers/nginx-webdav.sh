#!/usr/bin/env bash
# Installs nginx with its WebDAV module (Debian's nginx-light has dav_methods PUT).
# Idempotent: prints the path of the nginx binary.
set -euo pipefail
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  command -v apt-get >/dev/null || { echo "nginx: install nginx with its dav module (dav_methods PUT)" >&2; exit 1; }
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2 || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nginx-light >&2
fi
bin="$(command -v nginx || echo /usr/sbin/nginx)"
"$bin" -V 2>&1 | grep -q http_dav_module || { echo "nginx: $bin lacks the dav module" >&2; exit 1; }
echo "$bin"
