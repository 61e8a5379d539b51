/**
 * A [patch] package stands in for a crate that third-party crates depend on: the recipe carries its
 * real sources (a dummy would break them), the cook builds it for real, and its units survive.
 */
import { afterAll, expect, test } from "bun:test";
import { appendFileSync, cpSync, readdirSync, writeFileSync } from "node:fs";
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

test("a [patch] fork that a registry crate depends on cooks with its real sources", () => {
  const project = writeTree(join(root, "svc"), {
    "Cargo.toml": `[package]
name = "svc"
version = "1.2.3"
edition = "2021"

[dependencies]
cfg-if = "1"
crc32fast = "=1.5.0"

[patch.crates-io]
cfg-if = { path = "../cfg-if-fork" }
`,
    "src/main.rs":
      'fn main() {\n    println!("{} {}", cfg_if::fork_marker(), crc32fast::hash(b"galley"));\n}\n',
  });
  forkCfgIf(join(root, "cfg-if-fork"));
  ok(run(["cargo", "generate-lockfile"], { cwd: project }), "cargo generate-lockfile");

  const recipe = JSON.parse(ok(galley(["prepare", "--recipe-path", "-"], { cwd: project })).stdout);
  expect(recipe.real).toEqual(["../cfg-if-fork"]);
  const forkFiles = recipe.files
    .filter((f: { kind: string }) => f.kind === "source")
    .map((f: { path: string }) => f.path);
  expect(forkFiles).toContain("../cfg-if-fork/src/lib.rs");

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
