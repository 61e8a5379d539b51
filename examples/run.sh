#!/usr/bin/env bash
# galley's main job on the bundled example, as a Dockerfile does it: prepare a recipe from the
# project, cook the dependencies in a fresh directory, build the real sources there with galley as
# the compiler cache, then build again from a fresh target directory: every unit is restored.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
galley="$here/../dist/galley"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export RUSTC_WRAPPER="$galley" GALLEY_DIR="$work/cache" CARGO_INCREMENTAL=0
cp -r "$here/hello-service/." "$work/src"
cd "$work/src"
echo "== galley prepare (planner stage)"
"$galley" prepare --recipe-path "$work/recipe.json"
mkdir "$work/build" && cp "$work/recipe.json" "$work/build/"
cd "$work/build"
echo "== galley cook --release --locked (dependency layer)"
"$galley" cook --release --locked --recipe-path recipe.json
echo "== copy the real sources, cargo build --release --locked"
cp -r "$work/src/." .
cargo build --release --locked
./target/release/hello-service
echo "== the same build from a fresh target directory: restored from galley's cache"
rm -rf target
"$galley" stats --zero >/dev/null
cargo build --release --locked
./target/release/hello-service
"$galley" stats
