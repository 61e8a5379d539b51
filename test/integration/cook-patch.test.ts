/**
 * A [patch] package stands in for a crate that third-party crates depend on: the recipe carries its
 * real sources (a dummy would break them), the cook builds it for real, and its units survive.
 */
import { afterAll, expect, test } from "bun:test";
import { appendFileSync, cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import {
  cargoBuild,
  galley,
  ok,
  rebuiltThirdParty,
  removeDir,
  run,
  setTreeMtime,
  tempDir,
  writeTree,
} from "../helpers.ts";

const root = tempDir("galley-patch-");
afterAll(() => removeDir(root));

/** A local fork of cfg-if made from the registry's own copy (fetched by cargo), plus a marker. */
function forkCfgIf(dest: string): void {
  const project = writeTree(join(root, "fetch"), {
    "Cargo.toml":
      '[package]\nname = "f"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\ncfg-if = "=1.0.5"\n',
    "src/lib.rs": "",
  });
  ok(run(["cargo", "fetch"], { cwd: project }), "cargo fetch");
  const registry = join(process.env.CARGO_HOME ?? join(homedir(), ".cargo"), "registry", "src");
  const index = readdirSync(registry).find((d) => readdirSync(join(registry, d)).includes("cfg-if-1.0.5"));
  if (!index) throw new Error("cfg-if 1.0.5 is not in the registry cache");
  cpSync(join(registry, index, "cfg-if-1.0.5"), dest, { recursive: true });
  removeDir(join(dest, ".cargo_vcs_info.json"));
  appendFileSync(
    join(dest, "src/lib.rs"),
    '\n/// Marks the fork.\npub fn fork_marker() -> &\'static str {\n    "patched cfg-if"\n}\n',
  );
  // The registry's normalised manifest is fine for a path package; drop its lockfile if any.
  removeDir(join(dest, "Cargo.lock"));
}

/** A package using cfg-if and crc32fast (a registry crate that depends on cfg-if), cfg-if patched to `../FORK`. */
function crcProject(name: string, fork: string, main: string): string {
  return writeTree(join(root, name), {
    "Cargo.toml": `[package]
name = "${name}"
version = "1.2.3"
edition = "2021"

[dependencies]
cfg-if = "1"
crc32fast = "=1.5.0"

[patch.crates-io]
cfg-if = { path = "../${fork}" }
`,
    "src/main.rs": main,
  });
}

test("a [patch] fork that a registry crate depends on cooks with its real sources", () => {
  const project = crcProject(
    "svc",
    "cfg-if-fork",
    'fn main() {\n    println!("{} {}", cfg_if::fork_marker(), crc32fast::hash(b"galley"));\n}\n',
  );
  forkCfgIf(join(root, "cfg-if-fork"));
  ok(run(["cargo", "generate-lockfile"], { cwd: project }), "cargo generate-lockfile");

  const prepared = ok(galley(["prepare", "--recipe-path", "-"], { cwd: project }));
  const recipe = JSON.parse(prepared.stdout);
  expect(recipe.real).toEqual(["../cfg-if-fork"]);
  // Only what its build reads travels: not its README, CHANGELOG, licences, tests or lockfile.
  const forkFiles = recipe.files
    .filter((f: { kind: string }) => f.kind === "source")
    .map((f: { path: string }) => f.path);
  expect(forkFiles).toEqual(["../cfg-if-fork/src/lib.rs"]);
  expect(readdirSync(join(root, "cfg-if-fork")).sort()).toEqual(
    expect.arrayContaining(["CHANGELOG.md", "README.md", "tests"]),
  );
  // One line says which package travels with real sources, and why.
  expect(prepared.stderr).toContain(
    "real sources travel for [patch]/[replace] packages that registry or git crates depend on: ../cfg-if-fork/Cargo.toml (crc32fast 1.5.0)",
  );
  // An edit to what the build does not read keeps the recipe.
  appendFileSync(join(root, "cfg-if-fork", "CHANGELOG.md"), "\n## Unreleased\n- a local fork\n");
  expect(ok(galley(["prepare", "--recipe-path", "-"], { cwd: project })).stdout).toBe(prepared.stdout);

  // The builder stage: only the recipe, in a directory of the same depth.
  const builder = join(root, "builder", "svc");
  writeTree(builder, { "recipe.json": JSON.stringify(recipe) });
  ok(galley(["cook", "--release", "--locked"], { cwd: builder }), "cook --locked");

  // COPY . . with old mtimes, then the real build: no third-party crate and not the fork recompile.
  cpSync(project, builder, { recursive: true });
  cpSync(join(root, "cfg-if-fork"), join(root, "builder", "cfg-if-fork"), { recursive: true });
  setTreeMtime(join(root, "builder"), new Date("2001-01-01T00:00:00Z"));
  const { artifacts } = cargoBuild(builder, ["--release", "--locked"]);
  expect(rebuiltThirdParty(artifacts)).toEqual([]);
  expect(artifacts.filter((a) => a.name === "cfg_if" && !a.fresh)).toEqual([]);
  const out = ok(run([join(builder, "target/release/svc")], { cwd: builder })).stdout;
  expect(out).toContain("patched cfg-if");
  writeFileSync(join(root, "done"), "");
});

test("a [patch]ed workspace crate that no registry or git crate depends on gets a dummy, like any member", () => {
  // tauri's shape: a member patched over crates.io, used by members only.
  const project = writeTree(join(root, "patched-member"), {
    "Cargo.toml": `[workspace]
members = ["app", "crates/itoa"]
resolver = "2"

[patch.crates-io]
itoa = { path = "crates/itoa" }
`,
    "app/Cargo.toml":
      '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nitoa = "1"\ncfg-if = "1"\n',
    "app/src/main.rs": 'fn main() {\n    println!("{}", itoa::local_marker());\n}\n',
    "crates/itoa/Cargo.toml": '[package]\nname = "itoa"\nversion = "1.0.99"\nedition = "2021"\n',
    "crates/itoa/src/lib.rs": 'pub fn local_marker() -> &\'static str {\n    "local itoa"\n}\n',
    "crates/itoa/CHANGELOG.md": "# Changes\n",
    "crates/itoa/tests/it.rs": "#[test]\nfn works() {}\n",
  });
  ok(run(["cargo", "generate-lockfile"], { cwd: project }), "cargo generate-lockfile");
  const prepared = ok(galley(["prepare", "--recipe-path", "-"], { cwd: project }));
  const recipe = JSON.parse(prepared.stdout);
  expect(recipe.real).toEqual([]);
  expect(recipe.files.filter((f: { kind: string }) => f.kind === "source")).toEqual([]);
  expect(recipe.sources).toContainEqual({ path: "crates/itoa/src/lib.rs", kind: "lib" });
  expect(prepared.stderr).not.toContain("real sources");
  // cargo matches a patch by version: the patched crate keeps its own.
  expect(prepared.stdout).toContain("1.0.99");

  const builder = join(root, "builder-member");
  writeTree(builder, { "recipe.json": prepared.stdout });
  ok(galley(["cook", "--locked"], { cwd: builder }), "cook --locked");
  cpSync(project, builder, { recursive: true });
  setTreeMtime(builder, new Date("2001-01-01T00:00:00Z"));
  const { artifacts } = cargoBuild(builder, ["--locked"]);
  expect(rebuiltThirdParty(artifacts)).toEqual([]);
  expect(ok(run([join(builder, "target/debug/app")], { cwd: builder })).stdout).toBe("local itoa\n");
});

test("a [patch] package's real sources include the files its code and build script read, and nothing else", () => {
  const fork = join(root, "reading-fork");
  forkCfgIf(fork);
  writeTree(fork, {
    "build.rs": `fn main() {
    println!("cargo:rerun-if-changed=data/table.txt");
    let table = std::fs::read_to_string("data/table.txt").unwrap();
    println!("cargo:rustc-env=FORK_TABLE={}", table.trim());
}
`,
    "data/table.txt": "from the build script\n",
    "data/blob.bin": "blob\n",
    "data/unused.txt": "nobody reads this\n",
    "extra/more.rs": 'pub const MORE: &str = "by #[path]";\n',
    "docs/guide.md": "# Guide\n",
  });
  // The registry's normalised manifest says `build = false`: this fork has a build script.
  const manifest = readFileSync(join(fork, "Cargo.toml"), "utf8");
  expect(manifest).toContain("build = false");
  writeFileSync(join(fork, "Cargo.toml"), manifest.replace("build = false", 'build = "build.rs"'));
  const lib = join(fork, "src/lib.rs");
  const original = readFileSync(lib, "utf8");
  writeFileSync(
    lib,
    `#![doc = include_str!("../README.md")]\n${original}
#[path = "../extra/more.rs"]
mod more;
#[cfg(any())]
const OUTSIDE: &str = include_str!("../../outside-secret.txt");
/// Everything the fork read.
pub fn reads() -> (&'static str, &'static str, usize) {
    let blob = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/blob.bin"));
    (env!("FORK_TABLE"), more::MORE, blob.len())
}
`,
  );
  // A file above the package and the workspace never travels, whatever the code names.
  writeFileSync(join(root, "outside-secret.txt"), "not for the recipe\n");
  const project = crcProject(
    "reader",
    "reading-fork",
    'fn main() {\n    println!("{:?}", cfg_if::reads());\n}\n',
  );
  ok(run(["cargo", "generate-lockfile"], { cwd: project }), "cargo generate-lockfile");
  const recipe = JSON.parse(ok(galley(["prepare", "--recipe-path", "-"], { cwd: project })).stdout);
  const carried = recipe.files
    .filter((f: { kind: string }) => f.kind === "source")
    .map((f: { path: string }) => f.path);
  expect(carried).toEqual([
    "../reading-fork/README.md",
    "../reading-fork/build.rs",
    "../reading-fork/data/blob.bin",
    "../reading-fork/data/table.txt",
    "../reading-fork/extra/more.rs",
    "../reading-fork/src/lib.rs",
  ]);
  const builder = join(root, "builder-reader", "reader");
  writeTree(builder, { "recipe.json": JSON.stringify(recipe) });
  ok(galley(["cook", "--locked"], { cwd: builder }), "cook --locked");
});
