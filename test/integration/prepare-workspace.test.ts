/**
 * galley prepare, workspaces: members as cargo sees them (globs, exclude, default-members, path
 * dependencies inside the root), nested workspaces and vendored directories left out, prepare from any
 * directory, `--bin` pruning, and contexts that hold only the manifests.
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  at,
  type CargoView,
  cargoView,
  copyFixture,
  galley,
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

const { scratch, cook } = scratchSpace("galley-prepare-ws-");

function skeletonView(recipeText: string): CargoView {
  const c = cook(recipeText, ["--no-build"]);
  ok(c.result, "galley cook --no-build");
  return cargoView(c.dir);
}

const manifestPaths = (r: RecipeJson) =>
  r.files
    .filter((f) => f.kind === "manifest")
    .map((f) => f.path)
    .sort();

/** Packages (name version) in a Cargo.lock text. */
const lockPackages = (lock: string) =>
  [...lock.matchAll(/^name = "([^"]+)"\nversion = "([^"]+)"/gm)].map((m) => `${m[1]} ${m[2]}`).sort();

/** test/fixtures/prepare-workspace: see its Cargo.toml. */
let wsDir = "";
let ws: { text: string; recipe: RecipeJson; stderr: string };
let wsView: CargoView;

beforeAll(() => {
  wsDir = copyFixture("prepare-workspace", join(scratch(), "prepare-workspace"));
  ws = prepareRecipe(wsDir);
  wsView = cargoView(wsDir);
});

describe("the workspace as cargo sees it", () => {
  test("members globs: every matched package directory is a member (a matched file is not)", () => {
    expect(manifestPaths(ws.recipe)).toEqual([
      "Cargo.toml",
      "crates/model/Cargo.toml",
      "crates/server/Cargo.toml",
      "libs/proto/Cargo.toml",
      "tools/codegen/Cargo.toml",
    ]);
    expect(at(recipeManifest(ws.recipe), "workspace", "members")).toEqual(["crates/*", "tools/*"]);
    expect(wsView.members).toEqual(["crates/model", "crates/server", "libs/proto", "tools/codegen"]);
    expect(skeletonView(ws.text).members).toEqual(wsView.members);
  });

  test("exclude: an excluded directory that a glob matches is left out", () => {
    const paths = [...ws.recipe.files, ...ws.recipe.sources].map((f) => f.path);
    expect(paths.filter((p) => p.startsWith("crates/experimental"))).toEqual([]);
    expect(recipeFile(ws.recipe, "Cargo.lock")).not.toContain("experimental");
    expect(ws.text).not.toContain("memchr");
    // The recipe keeps `exclude`, so that the real build (with the real tree) sees the same workspace.
    expect(at(recipeManifest(ws.recipe), "workspace", "exclude")).toEqual(["crates/experimental"]);
  });

  test("default-members are kept", () => {
    expect(at(recipeManifest(ws.recipe), "workspace", "default-members")).toEqual(["crates/server"]);
    expect(wsView.defaultMembers).toEqual(["crates/server"]);
    expect(skeletonView(ws.text).defaultMembers).toEqual(["crates/server"]);
  });

  test("a path dependency inside the root that members do not list becomes a member", () => {
    expect(at(recipeManifest(ws.recipe, "libs/proto/Cargo.toml"), "package", "name")).toBe("proto");
    expect(ws.recipe.sources).toContainEqual({ path: "libs/proto/src/lib.rs", kind: "lib" });
    expect(skeletonView(ws.text).members).toContain("libs/proto");
  });

  test("a nested workspace (fuzz/ with its own [workspace]) is left out", () => {
    expect(statSync(join(wsDir, "fuzz/Cargo.toml")).isFile()).toBe(true);
    expect(ws.text).not.toContain("fuzz");
  });

  test("a nested workspace that a members glob matches is left out, and galley says so", () => {
    const dir = writeTree(scratch(), {
      "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\nresolver = "2"\n',
      "crates/a/Cargo.toml": '[package]\nname = "a"\nversion = "0.1.0"\nedition = "2021"\n',
      "crates/a/src/lib.rs": "",
      "crates/nested/Cargo.toml":
        '[package]\nname = "nested"\nversion = "0.1.0"\nedition = "2021"\n\n[workspace]\n',
      "crates/nested/src/lib.rs": "",
    });
    const { recipe, text, stderr } = prepareRecipe(dir);
    expect(manifestPaths(recipe)).toEqual(["Cargo.toml", "crates/a/Cargo.toml"]);
    expect(stderr).toContain("left out nested workspace crates/nested/Cargo.toml");
    ok(cook(text, ["--check"]).result, "cook --check");
  });

  test("a vendored directory (crates with manifests, not members) is ignored", () => {
    expect(readdirSync(join(wsDir, "vendor"))).toEqual(["smallvec"]);
    expect(ws.text).not.toContain("vendor");
    expect(ws.text).not.toContain("smallvec");
  });

  test("the skeleton has the project's members, default members and targets; cook --locked builds it", () => {
    expect(skeletonView(ws.text)).toEqual(wsView);
    ok(cook(ws.text, ["--check", "--locked", "--workspace"]).result, "cook --check --locked --workspace");
  });

  test("prepare run from a subdirectory or with --manifest-path of a member finds the root", () => {
    for (const sub of ["crates/server/src", "libs/proto", "tools/codegen", "vendor"]) {
      expect([sub, prepareRecipe(join(wsDir, sub)).text]).toEqual([sub, ws.text]);
    }
    const elsewhere = scratch();
    const viaPath = prepareRecipe(elsewhere, ["--manifest-path", join(wsDir, "crates/model/Cargo.toml")]);
    expect(viaPath.text).toBe(ws.text);
  });
});

describe("--bin", () => {
  let server: { text: string; recipe: RecipeJson };
  beforeAll(() => {
    server = prepareRecipe(wsDir, ["--bin", "server"]);
  });

  test("keeps only the members the binary needs", () => {
    expect(manifestPaths(server.recipe)).toEqual([
      "Cargo.toml",
      "crates/model/Cargo.toml",
      "crates/server/Cargo.toml",
      "libs/proto/Cargo.toml",
    ]);
    const workspace = at(recipeManifest(server.recipe), "workspace");
    expect(at(workspace, "members")).toEqual(["crates/model", "crates/server", "libs/proto"]);
    expect(at(workspace, "default-members")).toEqual(["crates/server"]);
    expect(server.text).not.toContain("codegen");
  });

  test("prunes [workspace.dependencies] to what the kept members inherit", () => {
    expect(
      Object.keys(at(recipeManifest(server.recipe), "workspace", "dependencies") as object).sort(),
    ).toEqual(["cfg-if", "itoa", "model"]);
    expect(Object.keys(at(recipeManifest(ws.recipe), "workspace", "dependencies") as object).sort()).toEqual([
      "cfg-if",
      "either",
      "itoa",
      "model",
    ]);
  });

  test("prunes Cargo.lock to what cargo writes for the pruned workspace", () => {
    const lock = recipeFile(server.recipe, "Cargo.lock");
    expect(lockPackages(lock)).toEqual([
      "cfg-if 1.0.5",
      "itoa 1.0.19",
      "model 0.0.1",
      "proto 0.0.1",
      "server 0.0.1",
    ]);
    // Only one itoa is left, so cargo names it without its version.
    expect(lock).not.toMatch(/ "itoa [^"]+",/);
    const c = cook(server.text, ["--no-build"]);
    ok(c.result, "cook --no-build");
    ok(run(["cargo", "metadata", "--format-version", "1", "--offline"], { cwd: c.dir }), "cargo metadata");
    expect(readFileSync(join(c.dir, "Cargo.lock"), "utf8")).toBe(lock);
  });

  test("the pruned recipe cooks with --locked", () => {
    ok(cook(server.text, ["--check", "--locked", "--workspace"]).result, "cook --check --locked --workspace");
  });

  test("takes a bin target name or a package name", () => {
    const byBin = prepareRecipe(wsDir, ["--bin", "gen"]);
    expect(prepareRecipe(wsDir, ["--bin", "codegen"]).text).toBe(byBin.text);
    expect(manifestPaths(byBin.recipe)).toEqual([
      "Cargo.toml",
      "crates/model/Cargo.toml",
      "tools/codegen/Cargo.toml",
    ]);
    expect(lockPackages(recipeFile(byBin.recipe, "Cargo.lock")).map((p) => p.split(" ")[0])).toEqual([
      "cfg-if",
      "codegen",
      "either",
      "itoa",
      "model",
    ]);
    ok(cook(byBin.text, ["--check", "--locked", "--workspace"]).result, "cook --check --locked --workspace");
  });

  test("is repeatable: the union of the binaries' closures", () => {
    const both = prepareRecipe(wsDir, ["--bin", "server", "--bin", "gen"]);
    expect(manifestPaths(both.recipe)).toEqual(manifestPaths(ws.recipe));
    expect(recipeFile(both.recipe, "Cargo.lock")).toBe(recipeFile(ws.recipe, "Cargo.lock"));
  });

  test("a change to a member outside the closure keeps the recipe", () => {
    const dir = copyFixture("prepare-workspace", join(scratch(), "prepare-workspace"));
    writeTree(dir, {
      "tools/codegen/Cargo.toml": `${readFileSync(join(dir, "tools/codegen/Cargo.toml"), "utf8")}cfg-if = "1"\n`,
      "tools/codegen/src/main.rs": 'fn main() {\n    println!("changed");\n}\n',
    });
    ok(run(["cargo", "metadata", "--format-version", "1", "--offline"], { cwd: dir }), "cargo metadata");
    expect(readFileSync(join(dir, "Cargo.lock"), "utf8")).not.toBe(
      readFileSync(join(wsDir, "Cargo.lock"), "utf8"),
    );
    expect(prepareRecipe(dir, ["--bin", "server"]).text).toBe(server.text);
    expect(prepareRecipe(dir).text).not.toBe(ws.text);
  });

  test("an unknown --bin is an input error that lists the binaries", () => {
    const r = galley(["prepare", "--recipe-path", "-", "--bin", "nope"], { cwd: wsDir });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("--bin nope");
    expect(r.stderr).toContain("binaries in this workspace: gen, server");
  });

  test("keeps the root package's path dependencies, which cargo loads whatever the bin", () => {
    const dir = writeTree(scratch(), {
      "Cargo.toml": `[package]
name = "app"
version = "0.3.0"
edition = "2021"

[dependencies]
util = { path = "crates/util" }

[workspace]
members = ["crates/*"]
`,
      "src/main.rs": "fn main() {}\n",
      "crates/util/Cargo.toml": '[package]\nname = "util"\nversion = "0.1.0"\nedition = "2021"\n',
      "crates/util/src/lib.rs": "",
      "crates/tool/Cargo.toml":
        '[package]\nname = "tool"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\ncfg-if = "1"\n',
      "crates/tool/src/main.rs": "fn main() {}\n",
    });
    ok(run(["cargo", "generate-lockfile"], { cwd: dir }), "cargo generate-lockfile");
    const { recipe, text } = prepareRecipe(dir, ["--bin", "tool"]);
    expect(manifestPaths(recipe)).toEqual(["Cargo.toml", "crates/tool/Cargo.toml", "crates/util/Cargo.toml"]);
    ok(cook(text, ["--check", "--locked", "--workspace"]).result, "cook --check --locked --workspace");
  });

  test("a left-out member that turned on a feature: cook --locked lets cargo trim what it pulled in", () => {
    const dir = writeTree(scratch(), {
      "Cargo.toml": '[workspace]\nmembers = ["a", "b"]\nresolver = "2"\n',
      "a/Cargo.toml":
        '[package]\nname = "a"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\neither = "1"\n',
      "a/src/main.rs": "fn main() {}\n",
      "b/Cargo.toml":
        '[package]\nname = "b"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\neither = { version = "1", features = ["serde"] }\n',
      "b/src/lib.rs": "",
    });
    ok(run(["cargo", "generate-lockfile"], { cwd: dir }), "cargo generate-lockfile");
    const { recipe, text } = prepareRecipe(dir, ["--bin", "a"]);
    expect(recipe.pruned).toBe(true);
    expect(recipeFile(recipe, "Cargo.lock")).toContain('name = "serde"'); // reachable through either
    ok(cook(text, ["--check", "--locked"]).result, "cook --check --locked of the pruned recipe");
  });

  test("a pruned recipe whose lockfile lacks a package still fails --locked, naming it", () => {
    const dir = writeTree(scratch(), {
      "Cargo.toml": '[workspace]\nmembers = ["a", "b"]\nresolver = "2"\n',
      "a/Cargo.toml": '[package]\nname = "a"\nversion = "0.1.0"\nedition = "2021"\n',
      "a/src/main.rs": "fn main() {}\n",
      "b/Cargo.toml": '[package]\nname = "b"\nversion = "0.1.0"\nedition = "2021"\n',
      "b/src/lib.rs": "",
    });
    ok(run(["cargo", "generate-lockfile"], { cwd: dir }), "cargo generate-lockfile");
    // A dependency added without updating Cargo.lock.
    writeTree(dir, {
      "a/Cargo.toml":
        '[package]\nname = "a"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nitoa = "1"\n',
    });
    const { text } = prepareRecipe(dir, ["--bin", "a"]);
    const r = cook(text, ["--check", "--locked"]).result;
    expect(r.code).toBe(101);
    expect(r.stderr).toContain("Cargo.lock needs to be updated but --locked was passed: itoa");
  });

  test("keeps the root package in default-members, since the root is always kept", () => {
    const dir = writeTree(scratch(), {
      "Cargo.toml": `[package]
name = "app"
version = "0.3.0"
edition = "2021"

[workspace]
members = ["crates/*"]
default-members = [".", "crates/tool"]
`,
      "src/main.rs": "fn main() {}\n",
      "crates/tool/Cargo.toml": '[package]\nname = "tool"\nversion = "0.1.0"\nedition = "2021"\n',
      "crates/tool/src/main.rs": "fn main() {}\n",
      "crates/other/Cargo.toml": '[package]\nname = "other"\nversion = "0.1.0"\nedition = "2021"\n',
      "crates/other/src/main.rs": "fn main() {}\n",
    });
    ok(run(["cargo", "generate-lockfile"], { cwd: dir }), "cargo generate-lockfile");
    const { recipe } = prepareRecipe(dir, ["--bin", "other"]);
    expect(at(recipeManifest(recipe), "workspace", "default-members")).toEqual(["."]);
  });
});

describe("a context with only the manifests", () => {
  test("Cargo.toml and Cargo.lock only: a binary at src/main.rs is assumed, galley warns, and it cooks", () => {
    const dir = writeTree(scratch(), {
      "Cargo.toml":
        '[package]\nname = "bare"\nversion = "0.2.0"\nedition = "2021"\n\n[dependencies]\nitoa = "1"\n',
      "src/main.rs": "fn main() {}\n",
    });
    ok(run(["cargo", "generate-lockfile"], { cwd: dir }), "cargo generate-lockfile");
    rmSync(join(dir, "src"), { recursive: true }); // the planner stage copied only the manifests
    expect(readdirSync(dir).sort()).toEqual(["Cargo.lock", "Cargo.toml"]);
    const { recipe, text, stderr } = prepareRecipe(dir);
    expect(at(recipeManifest(recipe), "bin")).toEqual([{ name: "bare", path: "src/main.rs" }]);
    expect(recipe.sources).toEqual([{ path: "src/main.rs", kind: "main" }]);
    expect(stderr).toContain("warning");
    expect(stderr).toContain("binary at src/main.rs: no hint (cargo new's default) (1): Cargo.toml");
    ok(cook(text, ["--check", "--locked"]).result, "cook --check --locked");
  });

  test("a workspace without sources: members others depend on are assumed to be libraries", () => {
    const dir = copyFixture("prepare-workspace", join(scratch(), "manifests-only"));
    for (const rs of ["crates/server/src", "crates/model/src", "tools/codegen/src", "libs/proto/src"]) {
      rmSync(join(dir, rs), { recursive: true });
    }
    const { recipe, text, stderr } = prepareRecipe(dir);
    expect(at(recipeManifest(recipe, "crates/model/Cargo.toml"), "lib")).toEqual({ path: "src/lib.rs" });
    expect(at(recipeManifest(recipe, "libs/proto/Cargo.toml"), "lib")).toEqual({ path: "src/lib.rs" });
    expect(at(recipeManifest(recipe, "crates/server/Cargo.toml"), "bin")).toEqual([
      { name: "server", path: "src/main.rs" },
    ]);
    expect(stderr).toMatch(/library: other packages depend on it \(\d+\): [^\n]*crates\/model\/Cargo.toml/);
    expect(stderr).toMatch(/binary at src\/main.rs: [^\n]*crates\/server\/Cargo.toml/);
    const c = cook(text, ["--check", "--locked", "--workspace"]);
    ok(c.result, "cook --check --locked --workspace");
    // cargo skips a dependency without a lib target (and that package's dependencies with it).
    expect(c.result.stderr).not.toContain("missing a lib target");
  });
});

test("prepare run inside an excluded package prepares that package alone", () => {
  const { recipe, stderr } = prepareRecipe(join(wsDir, "crates/experimental/src"));
  expect(manifestPaths(recipe)).toEqual(["Cargo.toml"]);
  expect(at(recipeManifest(recipe), "package", "name")).toBe("experimental");
  expect(at(recipeManifest(recipe), "dependencies", "memchr")).toBe("2");
  expect(recipe.sources).toEqual([{ path: "src/lib.rs", kind: "lib" }]);
  expect(stderr).toContain("no Cargo.lock");
});
