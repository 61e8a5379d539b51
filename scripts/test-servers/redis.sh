#!/usr/bin/env bash
# Installs Debian's redis-server (the shared-store tests start it on 127.0.0.1).
# Idempotent: prints the path of the redis-server binary.
set -euo pipefail
if ! command -v redis-server >/dev/null; then
  command -v apt-get >/dev/null || { echo "redis: install redis-server" >&2; exit 1; }
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2 || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server >&2
fi
command -v redis-server
