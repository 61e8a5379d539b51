/**
 * galley prepare, masking and lints: local versions become 0.0.1 everywhere they appear (manifests,
 * path-dependency requirements, Cargo.lock entries and references) so that a version bump keeps the
 * dependency layer, cargo --locked still accepts the result, and `lints` cannot fail dummy builds.
 */
import { beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  at,
  cargoView,
  ok,
  prepareRecipe,
  type RecipeJson,
  recipeFile,
  recipeManifest,
  run,
  scratchSpace,
  writeTree,
} from "../helpers.ts";

setDefaultTimeout(120_000);

const { scratch, cook, targetDir: TARGET_DIR } = scratchSpace("galley-prepare-masking-");

/**
 * A workspace whose local versions appear in every place cargo allows: package versions (own and
 * inherited), renamed and target-specific path dependencies, [workspace.dependencies], and a local
 * package named like a registry crate (so Cargo.lock references it with its version).
 */
const MASKING_WS: Record<string, string> = {
  "Cargo.toml": `[workspace]
members = ["app", "core", "util", "plat", "crates/*"]
resolver = "2"

[workspace.package]
version = "2.5.0"
edition = "2021"

[workspace.dependencies]
core-lib = { path = "core", version = "2.5.0" }
itoa = "1"
`,
  "app/Cargo.toml": `[package]
name = "app"
version = "3.1.4"
edition = "2021"

[dependencies]
core-lib = { workspace = true }
helpers = { package = "util", path = "../util", version = "^0.9" }
fast-fmt = { package = "itoa", path = "../crates/itoa", version = "2.0" }

[target.'cfg(unix)'.dependencies]
plat = { path = "../plat", version = "=1.2.3" }
`,
  "app/src/main.rs": "fn main() {}\n",
  "core/Cargo.toml": `[package]
name = "core-lib"
version.workspace = true
edition.workspace = true

[dependencies]
itoa.workspace = true
`,
  "core/src/lib.rs": "",
  "util/Cargo.toml": `[package]
name = "util"
version = "0.9.1"
edition = "2021"

[dependencies]
cfg-if = "1"
`,
  "util/src/lib.rs": "",
  "plat/Cargo.toml": '[package]\nname = "plat"\nversion = "1.2.3"\nedition = "2021"\n',
  "plat/src/lib.rs": "",
  // A local crate named like the registry's itoa, at a higher version than the registry one.
  "crates/itoa/Cargo.toml": '[package]\nname = "itoa"\nversion = "2.0.0"\nedition = "2021"\n',
  "crates/itoa/src/lib.rs": "",
};

let wsDir = "";
let ws: { text: string; recipe: RecipeJson };
let originalLock = "";

beforeAll(() => {
  wsDir = writeTree(scratch(), MASKING_WS);
  ok(run(["cargo", "generate-lockfile"], { cwd: wsDir }), "cargo generate-lockfile");
  originalLock = readFileSync(join(wsDir, "Cargo.lock"), "utf8");
  ws = prepareRecipe(wsDir);
});

test("every local package version becomes 0.0.1 (own and inherited); registry requirements stay", () => {
  const manifests = ws.recipe.files.filter((f) => f.kind === "manifest" && f.path !== "Cargo.toml");
  expect(manifests.map((f) => f.path).sort()).toEqual([
    "app/Cargo.toml",
    "core/Cargo.toml",
    "crates/itoa/Cargo.toml",
    "plat/Cargo.toml",
    "util/Cargo.toml",
  ]);
  for (const f of manifests)
    expect([f.path, at(recipeManifest(ws.recipe, f.path), "package", "version")]).toEqual([f.path, "0.0.1"]);
  const root = recipeManifest(ws.recipe);
  expect(at(root, "workspace", "package", "version")).toBe("0.0.1");
  expect(at(root, "workspace", "dependencies", "itoa")).toBe("1");
  expect(at(recipeManifest(ws.recipe, "util/Cargo.toml"), "dependencies", "cfg-if")).toBe("1");
  for (const version of ["2.5.0", "3.1.4", "0.9.1", "1.2.3", "2.0.0"]) {
    expect(ws.text).not.toContain(version);
  }
});

test("path-dependency requirements are masked: renamed, target-specific and in [workspace.dependencies]", () => {
  const app = recipeManifest(ws.recipe, "app/Cargo.toml");
  expect(at(app, "dependencies", "helpers")).toEqual({ package: "util", path: "../util", version: "0.0.1" });
  expect(at(app, "dependencies", "fast-fmt")).toEqual({
    package: "itoa",
    path: "../crates/itoa",
    version: "0.0.1",
  });
  expect(at(app, "target", "cfg(unix)", "dependencies", "plat")).toEqual({
    path: "../plat",
    version: "0.0.1",
  });
  expect(at(recipeManifest(ws.recipe), "workspace", "dependencies", "core-lib")).toEqual({
    path: "core",
    version: "0.0.1",
  });
});

test("Cargo.lock: local entries and every reference to them are masked, in cargo's own order and format", () => {
  // The fixture is what the test needs: cargo referenced the local itoa by version.
  expect(originalLock).toContain(' "itoa 2.0.0",');
  const lock = recipeFile(ws.recipe, "Cargo.lock");
  expect(lock).toContain(' "itoa 0.0.1",');
  for (const version of ["2.5.0", "3.1.4", "0.9.1", "1.2.3", "2.0.0"]) expect(lock).not.toContain(version);
  for (const name of ["app", "core-lib", "util", "plat"]) {
    expect(lock).toContain(`name = "${name}"\nversion = "0.0.1"\n`);
  }
  // Registry entries are untouched.
  const registryItoa =
    /name = "itoa"\nversion = "(1\.[^"]+)"\nsource = "registry\+[^"]+"\nchecksum = "[0-9a-f]+"/.exec(lock);
  expect(registryItoa).not.toBeNull();
  expect(originalLock).toContain(registryItoa![0]);

  // cargo resolving the skeleton writes exactly this lockfile (masked local itoa now sorts first).
  const c = cook(ws.text, ["--no-build"]);
  ok(c.result, "cook --no-build");
  ok(run(["cargo", "metadata", "--format-version", "1", "--offline"], { cwd: c.dir }), "cargo metadata");
  expect(readFileSync(join(c.dir, "Cargo.lock"), "utf8")).toBe(lock);
});

test("cargo --locked accepts the cooked skeleton of the masked workspace", () => {
  const c = cook(ws.text, ["--check", "--locked", "--workspace"]);
  ok(c.result, "cook --check --locked --workspace");
});

test("a version bump in Cargo.toml alone (Cargo.lock not yet updated) keeps the recipe byte for byte, and it cooks --locked", () => {
  const bumped = writeTree(scratch(), MASKING_WS);
  writeTree(bumped, { "Cargo.lock": originalLock });
  // Every kind of place: an own version, the inherited one, a path requirement, and the local crate
  // that Cargo.lock references by version (its name is shared with a registry crate).
  const edits: [string, string, string][] = [
    ["app/Cargo.toml", 'version = "3.1.4"', 'version = "3.2.0"'],
    ["Cargo.toml", 'version = "2.5.0"\nedition', 'version = "2.6.0"\nedition'],
    ["util/Cargo.toml", 'version = "0.9.1"', 'version = "0.9.2"'],
    ["crates/itoa/Cargo.toml", 'version = "2.0.0"', 'version = "2.0.1"'],
    [
      "app/Cargo.toml",
      'path = "../crates/itoa", version = "2.0"',
      'path = "../crates/itoa", version = "2.0.1"',
    ],
  ];
  for (const [rel, from, to] of edits) {
    const text = readFileSync(join(bumped, rel), "utf8");
    expect([rel, text.includes(from)]).toEqual([rel, true]);
    writeTree(bumped, { [rel]: text.replace(from, to) });
  }
  expect(readFileSync(join(bumped, "Cargo.lock"), "utf8")).toBe(originalLock);
  const again = prepareRecipe(bumped);
  expect(again.text).toBe(ws.text);
  ok(cook(again.text, ["--check", "--locked", "--workspace"]).result, "cook --check --locked --workspace");
});

test("packages that [patch] points at keep their versions; the others are masked", () => {
  const dir = writeTree(scratch(), {
    "Cargo.toml": `[package]
name = "patched-app"
version = "4.0.0"
edition = "2021"

[dependencies]
itoa = "1"

[patch.crates-io]
itoa = { path = "patched/itoa" }
`,
    "src/main.rs": "fn main() {}\n",
    "patched/itoa/Cargo.toml": '[package]\nname = "itoa"\nversion = "1.0.99"\nedition = "2021"\n',
    "patched/itoa/src/lib.rs": "",
  });
  ok(run(["cargo", "generate-lockfile", "--offline"], { cwd: dir }), "cargo generate-lockfile");
  const { recipe, text } = prepareRecipe(dir);
  expect(at(recipeManifest(recipe), "package", "version")).toBe("0.0.1");
  expect(at(recipeManifest(recipe, "patched/itoa/Cargo.toml"), "package", "version")).toBe("1.0.99");
  const lock = recipeFile(recipe, "Cargo.lock");
  expect(lock).toContain('name = "itoa"\nversion = "1.0.99"\n');
  expect(lock).toContain('name = "patched-app"\nversion = "0.0.1"\n');
  ok(cook(text, ["--check", "--locked"]).result, "cook --check --locked");
});

test("[lints] is removed and the dummies build with -D warnings", () => {
  const dir = writeTree(scratch(), {
    "Cargo.toml": `[package]
name = "strict"
version = "0.1.0"
edition = "2021"

[dependencies]
itoa = "1"

[lints.rust]
missing_docs = "deny"
unsafe_code = "forbid"

[lints.clippy]
pedantic = { level = "deny", priority = -1 }
`,
    "src/lib.rs": "//! Docs.\n",
    "src/main.rs": "//! Docs.\nfn main() {}\n",
    "tests/it.rs": "//! Docs.\n",
    "build.rs": "//! Docs.\nfn main() {}\n",
  });
  const { recipe, text } = prepareRecipe(dir);
  expect(at(recipeManifest(recipe), "lints")).toBeUndefined();
  expect(text).not.toContain("missing_docs");

  // The project's lints reject the dummies, so keeping them would fail the cook.
  const control = cook(text, ["--no-build"]);
  ok(control.result, "cook --no-build");
  const lintsBack = `${readFileSync(join(control.dir, "Cargo.toml"), "utf8")}\n[lints.rust]\nmissing_docs = "deny"\n`;
  writeTree(control.dir, { "Cargo.toml": lintsBack });
  expect(
    run(["cargo", "check", "--offline"], { cwd: control.dir, env: { CARGO_TARGET_DIR: TARGET_DIR } }).code,
  ).not.toBe(0);

  const c = cook(text, ["--check", "--all-targets"], { RUSTFLAGS: "-D warnings" });
  ok(c.result, "cook --check --all-targets with RUSTFLAGS=-D warnings");
});

test("lints.workspace = true and [workspace.lints] are removed and the dummies build with -D warnings", () => {
  const dir = writeTree(scratch(), {
    "Cargo.toml": `[workspace]
members = ["lib-a", "bin-b"]
resolver = "2"

[workspace.lints.rust]
missing_docs = "deny"
unused_crate_dependencies = "deny"
`,
    "lib-a/Cargo.toml": `[package]
name = "lib-a"
version = "0.1.0"
edition = "2021"

[dependencies]
cfg-if = "1"

[lints]
workspace = true
`,
    "lib-a/src/lib.rs": "//! Docs.\n",
    "bin-b/Cargo.toml": `[package]
name = "bin-b"
version = "0.1.0"
edition = "2021"

[dependencies]
lib-a = { path = "../lib-a" }
itoa = "1"

[lints]
workspace = true
`,
    "bin-b/src/main.rs": "//! Docs.\nfn main() {}\n",
  });
  const { recipe, text } = prepareRecipe(dir);
  expect(at(recipeManifest(recipe), "workspace", "lints")).toBeUndefined();
  expect(at(recipeManifest(recipe, "lib-a/Cargo.toml"), "lints")).toBeUndefined();
  expect(at(recipeManifest(recipe, "bin-b/Cargo.toml"), "lints")).toBeUndefined();
  expect(text).not.toContain("lints");
  const c = cook(text, ["--check", "--workspace"], { RUSTFLAGS: "-D warnings" });
  ok(c.result, "cook --check --workspace with RUSTFLAGS=-D warnings");
  // And cargo sees the same targets as in the project.
  const skeleton = cook(text, ["--no-build"]);
  ok(skeleton.result, "cook --no-build");
  expect(cargoView(skeleton.dir)).toEqual(cargoView(dir));
});

test("the masked workspace and the project have the same members and targets", () => {
  const c = cook(ws.text, ["--no-build"]);
  ok(c.result, "cook --no-build");
  expect(cargoView(c.dir)).toEqual(cargoView(wsDir));
});

test("the rest of each manifest is kept as cargo reads it: features, optional, renamed and target deps, metadata, profiles", () => {
  const dir = writeTree(scratch(), {
    "Cargo.toml": `[package]
name = "tricky"
version = "0.1.0"
edition = "2021"
description = """multi
line "quoted" \\\\ text"""
rust-version = "1.70"

[package.metadata.docs.rs]
all-features = true
released = 1979-05-27T07:32:00Z

[[package.metadata.thing]]
name = "one"

[[package.metadata.thing]]
name = "two"
nested = { deep = [1, 2, { x = "y" }] }

[features]
default = ["std"]
std = ["either?/use_std", "helper/extra"]
"weird.key" = []

[dependencies]
either = { version = "1", optional = true, default-features = false }
"cfg-if" = { version = "1.0" }
helper = { path = "helper", version = "0.3", features = ["extra"], package = "tricky-helper" }

[target.'cfg(all(unix, target_pointer_width = "64"))'.dependencies]
itoa = "1"

[dev-dependencies]
itoa = { version = "1" }

[profile.dev.package."*"]
opt-level = 2

[profile.custom]
inherits = "release"
debug = 1

[workspace]
`,
    "src/main.rs": "fn main() {}\n",
    "helper/Cargo.toml": `[package]
name = "tricky-helper"
version = "0.3.0"
edition = "2021"

[features]
extra = []
`,
    "helper/src/lib.rs": "",
  });
  const { recipe, text } = prepareRecipe(dir);
  const m = recipeManifest(recipe);
  expect(at(m, "package", "description")).toBe('multi\nline "quoted" \\ text');
  expect(at(m, "package", "metadata", "thing", 1, "nested", "deep", 2)).toEqual({ x: "y" });
  expect(at(m, "profile", "custom")).toEqual({ inherits: "release", debug: 1 });
  expect(at(m, "profile", "dev", "package", "*", "opt-level")).toBe(2);
  const c = cook(text, ["--no-build"]);
  ok(c.result, "cook --no-build");
  const skeleton = cargoView(c.dir);
  const project = cargoView(dir);
  expect(skeleton.dependencies).toEqual(project.dependencies);
  expect(skeleton.features).toEqual(project.features);
  expect(skeleton).toEqual(project);
  ok(cook(text, ["--check", "--all-features", "--profile", "custom"]).result, "cook --profile custom");
});

test("a CRLF checkout (Windows, autocrlf): manifests and Cargo.lock are masked, and cargo --locked accepts them", () => {
  const dir = writeTree(scratch(), {
    "Cargo.toml": `[package]
name = "win-app"
version = "5.0.0"
edition = "2021"

[dependencies]
win-lib = { path = "win-lib", version = "5" }
itoa = "1"

[workspace]
`,
    "src/main.rs": "fn main() {}\n",
    "win-lib/Cargo.toml": '[package]\nname = "win-lib"\nversion = "5.0.0"\nedition = "2021"\n',
    "win-lib/src/lib.rs": "",
  });
  ok(run(["cargo", "generate-lockfile"], { cwd: dir }), "cargo generate-lockfile");
  for (const rel of ["Cargo.toml", "win-lib/Cargo.toml", "Cargo.lock"]) {
    const p = join(dir, rel);
    writeTree(dir, { [rel]: readFileSync(p, "utf8").replace(/\n/g, "\r\n") });
  }
  const { recipe, text } = prepareRecipe(dir);
  const lock = recipeFile(recipe, "Cargo.lock");
  expect(lock).toContain('name = "win-app"\r\nversion = "0.0.1"\r\n');
  expect(lock).toContain('name = "win-lib"\r\nversion = "0.0.1"\r\n');
  expect(lock).not.toContain("5.0.0");
  expect(at(recipeManifest(recipe), "dependencies", "win-lib", "version")).toBe("0.0.1");
  ok(cook(text, ["--check", "--locked"]).result, "cook --check --locked");
});
