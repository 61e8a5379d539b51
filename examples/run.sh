#!/usr/bin/env bash
# The main job on the bundled example, as a Dockerfile does it: prepare a recipe from the
# manifests, cook the dependencies in a fresh directory, then build the real sources there.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
galley="$here/../dist/galley"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
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
echo "== run"
./target/release/hello-service
