#!/usr/bin/env bash
# Installs bazel-remote (gRPC + HTTP cache server) for the tests, built from its Go module.
# Idempotent: prints the binary's path; a second run finds it in the cache and builds nothing.
set -euo pipefail
version=v2.6.2
root="${GALLEY_TEST_SERVERS:-$HOME/.cache/galley-test-servers}"
mkdir -p "$root"
# One installer at a time (test files may start at once).
exec 9>"$root/.install-$(basename "$0" .sh).lock"
flock 9
bin="$root/bazel-remote-$version/bazel-remote"
if [ ! -x "$bin" ]; then
  command -v go >/dev/null || { echo "bazel-remote: needs Go on PATH" >&2; exit 1; }
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$(dirname "$bin")"
  # `go install` of this module is refused (it has replace directives): build it from a throw-away module.
  (
    cd "$work"
    go mod init galley-test-servers/bazel-remote >/dev/null 2>&1
    go get "github.com/buchgr/bazel-remote/v2@$version" >&2
    CGO_ENABLED=0 go build -o "$bin.tmp" github.com/buchgr/bazel-remote/v2 >&2
  )
  mv "$bin.tmp" "$bin"
fi
echo "$bin"
