#!/usr/bin/env bash
# Builds s3s-fs (an S3 server on a directory, from crates.io) once into
# ~/.cache/galley-test-servers: a few minutes the first time, then cached.
# Idempotent: prints the path of the s3s-fs binary.
set -euo pipefail
version=0.14.1
root="${GALLEY_TEST_SERVERS:-$HOME/.cache/galley-test-servers}/s3s-fs-$version"
mkdir -p "$root"
exec 9>"$root/.install.lock"
flock 9
if [ ! -x "$root/bin/s3s-fs" ]; then
  echo "building s3s-fs $version (crates.io; once)" >&2
  cargo install s3s-fs --version "$version" --locked --features binary --root "$root" >&2
fi
echo "$root/bin/s3s-fs"
