/**
 * galley cook in the reference Docker flow: a planner runs prepare on the project; a builder holds
 * only the recipe (or recipe + Cargo.toml + Cargo.lock), cooks, then gets the real sources copied in
 * with their own OLD mtimes (Docker's COPY keeps them) and runs the real cargo build.
 *
 * Fixtures: test/fixtures/cook-ws (a workspace: a bin using a lib with a build script and a
 * cdylib+rlib lib from other members, a bin named `itoa` and a member package named `either` like
 * the third-party crates beside them; members have no version, so the dummy units have the same
 * hashes as the real ones) and
 * test/fixtures/cook-outside (a path package outside the project and a [patch.crates-io] fork).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type Artifact,
  cargoBuild,
  copyFixture,
  copySources,
  freshLocal,
  galley,
  isThirdParty,
  listTree,
  ok,
  prepareTo,
  readTreeFiles,
  rebuiltThirdParty,
  removeDir,
  run,
  tempDir,
} from "../helpers.ts";

setDefaultTimeout(120_000);

/** What the real binaries of cook-ws print (the dummies print nothing). */
const APP_OUTPUT = [
  "app: real main; n=42",
  "greeter: real lib on unix; build: real build script",
  "plugin: real cdylib+rlib",
  "",
].join("\n");
const TOOL_OUTPUT = "tool: real main (colon at 4); local either: real code\n";
const WS_THIRD_PARTY = ["cfg_if", "either", "itoa", "memchr", "smallvec"];

let root: string;
let ws: string; // the planner's context: the real project
let wsRecipe: string;

beforeAll(() => {
  root = tempDir("galley-cook-flow-");
  ws = copyFixture("cook-ws", join(root, "ws"));
  wsRecipe = prepareTo(ws, join(root, "ws-recipe.json"));
});
afterAll(() => removeDir(root));

/** A builder stage: a new directory holding only recipe.json (and `extra` files from the project). */
function builder(name: string, recipe = wsRecipe, extra: string[] = [], from = ws): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "recipe.json"), recipe);
  for (const rel of extra) writeFileSync(join(dir, rel), readFileSync(join(from, rel)));
  return dir;
}

const cook = (dir: string, args: string[]) => ok(galley(["cook", ...args], { cwd: dir }), "galley cook");
const exec = (path: string) => ok(run([path], { cwd: root }), path).stdout;
const names = (as: Artifact[]) => [...new Set(as.map((a) => a.name))].sort();

describe("cook, then the real build (Docker flow)", () => {
  test("release cook --locked: the real build reuses every third-party crate and recompiles every workspace crate; OLD-mtime sources run their real code (bin, lib of another member, build script, cdylib+rlib, bin named like a crate)", () => {
    const dir = builder("release");
    cook(dir, ["--release", "--locked", "--recipe-path", "recipe.json"]);
    // cook put the directory back: only the recipe and cargo's target dir are there.
    expect(listTree(dir, ["target"])).toEqual(["recipe.json", "target"]);

    copySources(ws, dir); // COPY . . with the sources' old mtimes
    const { artifacts } = cargoBuild(dir, ["--release", "--locked"]);
    expect(rebuiltThirdParty(artifacts)).toEqual([]);
    expect(names(artifacts.filter(isThirdParty))).toEqual(WS_THIRD_PARTY);
    expect(freshLocal(artifacts)).toEqual([]);
    expect(names(artifacts.filter((a) => !isThirdParty(a)))).toEqual([
      "app",
      "build-script-build",
      "either",
      "greeter",
      "itoa",
      "plugin",
    ]);
    expect(exec(join(dir, "target/release/app"))).toBe(APP_OUTPUT);
    expect(exec(join(dir, "target/release/itoa"))).toBe(TOOL_OUTPUT);
  });

  test("control: plain cargo on the same skeleton, without cook's cleanup, ships dummy code for OLD-mtime sources", () => {
    // Why cook removes the dummy units: this is what the previous test would see without it.
    const dir = builder("control");
    cook(dir, ["--no-build"]);
    cargoBuild(dir, ["--release", "--locked"]);
    copySources(ws, dir);
    const real = run(["cargo", "build", "--release", "--locked"], { cwd: dir });
    // tool's dummy binary looks fresh: the real main never runs.
    expect(exec(join(dir, "target/release/itoa"))).toBe("");
    // app either fails to build against the dummy plugin rlib or misses the real build script.
    const app = real.code === 0 ? exec(join(dir, "target/release/app")) : "";
    expect(app).not.toBe(APP_OUTPUT);
  });

  test("cleanup is exact: third-party outputs and fingerprints survive byte-for-byte, the workspace's are gone (also a bin named itoa and a package named either beside those crates)", () => {
    const dir = builder("exact");
    cook(dir, ["--no-build"]);
    const raw = cargoBuild(dir); // the skeleton, built by plain cargo
    const before = readTreeFiles(join(dir, "target"));
    const thirdHashes = new Set(
      raw.artifacts.filter(isThirdParty).flatMap((a) => a.filenames.join(" ").match(/[0-9a-f]{16}/g) ?? []),
    );
    expect(thirdHashes.size).toBeGreaterThanOrEqual(WS_THIRD_PARTY.length);
    const isThird = (rel: string) => [...thirdHashes].some((h) => rel.includes(h));
    // Not vacuous: the local bin `itoa` and the crate `itoa` are both there.
    expect(before.has("debug/itoa")).toBe(true);
    expect([...before.keys()].some((rel) => rel.startsWith("debug/.fingerprint/itoa-") && isThird(rel))).toBe(
      true,
    );
    // ... and the local package `either` and the crate `either`.
    const eitherLibs = [...before.keys()].filter((rel) =>
      /^debug\/deps\/libeither-[0-9a-f]{16}\.rlib$/.test(rel),
    );
    expect(eitherLibs.filter(isThird).length).toBe(1);
    expect(eitherLibs.filter((rel) => !isThird(rel)).length).toBe(1);

    cook(dir, []); // everything fresh; cook only removes the workspace's units
    const after = readTreeFiles(join(dir, "target"));
    const changedThird: string[] = [];
    const keptLocal: string[] = [];
    for (const [rel, bytes] of before) {
      if (isThird(rel)) {
        if (!after.get(rel)?.equals(bytes)) changedThird.push(rel);
      } else if (after.has(rel) && !/^(\.rustc_info\.json|CACHEDIR\.TAG|debug\/\.cargo-lock)$/.test(rel)) {
        // incremental/ holds rustc's session caches of local crates (not units' outputs); left as is.
        if (!rel.startsWith("debug/incremental/")) keptLocal.push(rel);
      }
    }
    expect(changedThird).toEqual([]);
    expect(keptLocal).toEqual([]);
  });

  test("an existing Cargo.toml and Cargo.lock are restored byte-for-byte (mtime too); files and directories cook added are gone", () => {
    const dir = builder("with-manifests", wsRecipe, ["Cargo.toml", "Cargo.lock"]);
    const stamp = new Date("2010-05-05T05:05:05Z");
    for (const f of ["Cargo.toml", "Cargo.lock", "recipe.json"])
      run(["touch", "-d", stamp.toISOString(), f], { cwd: dir });
    const before = readTreeFiles(dir);
    cook(dir, ["--release", "--locked"]);
    expect(listTree(dir, ["target"])).toEqual(["Cargo.lock", "Cargo.toml", "recipe.json", "target"]);
    for (const [rel, bytes] of before) {
      expect(readFileSync(join(dir, rel)).equals(bytes)).toBe(true);
      expect(statSync(join(dir, rel)).mtime.toISOString()).toBe(stamp.toISOString());
    }
    copySources(ws, dir);
    const { artifacts } = cargoBuild(dir, ["--release", "--locked"]);
    expect(rebuiltThirdParty(artifacts)).toEqual([]);
    expect(exec(join(dir, "target/release/app"))).toBe(APP_OUTPUT);
  });

  test("--no-build writes the skeleton (manifests, masked lockfile, dummy sources) and leaves it; a cook there then keeps it", () => {
    const dir = builder("no-build");
    const recipe = JSON.parse(wsRecipe) as {
      files: { path: string; contents: string }[];
      sources: { path: string; kind: string }[];
    };
    cook(dir, ["--no-build"]);
    for (const f of recipe.files) expect(readFileSync(join(dir, f.path), "utf8")).toBe(f.contents);
    const dummy: Record<string, string> = { main: "fn main() {}\n", lib: "", build: "fn main() {}\n" };
    for (const s of recipe.sources) expect(readFileSync(join(dir, s.path), "utf8")).toBe(dummy[s.kind]!);
    expect(existsSync(join(dir, "target"))).toBe(false);

    const skeleton = listTree(dir);
    cook(dir, ["--locked"]); // the files are the skeleton's own: no conflict, and cook did not add them
    expect(listTree(dir, ["target"]).filter((p) => p !== "target")).toEqual(skeleton);
  });

  test("the recipe does not change when sources change (main, lib, build script, new module)", () => {
    const edited = copyFixture("cook-ws", join(root, "ws-edited"));
    writeFileSync(join(edited, "app/src/main.rs"), 'fn main() {\n    println!("edited");\n}\n');
    writeFileSync(
      join(edited, "greeter/src/lib.rs"),
      "mod extra;\npub fn greeting() -> String { extra::X.into() }\n",
    );
    writeFileSync(join(edited, "greeter/src/extra.rs"), 'pub const X: &str = "x";\n');
    writeFileSync(join(edited, "greeter/build.rs"), "fn main() { /* edited */ }\n");
    expect(prepareTo(edited, join(root, "ws-edited.json"))).toBe(wsRecipe);
  });
});

describe("packages outside the project: a ../ path dependency and a [patch.crates-io] fork", () => {
  // Planner context: cook-outside/{project, shared-lib, cfg-if-fork}; the builder's WORKDIR is b/app.
  let ctx: string;
  let recipe: string;
  beforeAll(() => {
    ctx = copyFixture("cook-outside", join(root, "outside"));
    recipe = prepareTo(join(ctx, "project"), join(root, "outside-recipe.json"));
  });

  test("the recipe holds ../shared-lib and ../cfg-if-fork, the fork keeps its version; a version bump and source edits keep the recipe", () => {
    const r = JSON.parse(recipe) as { files: { path: string; contents: string }[] };
    const paths = r.files.map((f) => f.path);
    expect(paths).toContain("../shared-lib/Cargo.toml");
    expect(paths).toContain("../cfg-if-fork/Cargo.toml");
    const lock = r.files.find((f) => f.path === "Cargo.lock")!.contents;
    expect(lock).toContain('name = "cfg-if"\nversion = "1.0.5"\n');

    const bumped = copyFixture("cook-outside", join(root, "outside-bumped"));
    for (const rel of ["project/Cargo.toml", "project/Cargo.lock"]) {
      const p = join(bumped, rel);
      writeFileSync(
        p,
        readFileSync(p, "utf8").replace('name = "svc"\nversion = "2.3.4"', 'name = "svc"\nversion = "2.4.0"'),
      );
    }
    writeFileSync(
      join(bumped, "shared-lib/src/lib.rs"),
      'pub fn shared(_: u64) -> String { "edited".into() }\n',
    );
    expect(readFileSync(join(bumped, "project/Cargo.lock"), "utf8")).toContain('version = "2.4.0"');
    expect(prepareTo(join(bumped, "project"), join(root, "outside-bumped.json"))).toBe(recipe);
  });

  test("cook --release --locked writes and removes the outside packages; the real build reuses the registry crates and runs the real path and patched code", () => {
    const b = join(root, "outside-builder");
    const dir = builder("outside-builder/app", recipe);
    cook(dir, ["--release", "--locked"]);
    expect(listTree(b, ["target"])).toEqual(["app", "app/recipe.json", "app/target"]);

    copySources(join(ctx, "project"), dir);
    copySources(join(ctx, "shared-lib"), join(b, "shared-lib"));
    copySources(join(ctx, "cfg-if-fork"), join(b, "cfg-if-fork"));
    const { artifacts } = cargoBuild(dir, ["--release", "--locked"]);
    expect(rebuiltThirdParty(artifacts)).toEqual([]);
    expect(names(artifacts.filter(isThirdParty))).toEqual(["itoa", "once_cell"]);
    // No registry crate depends on the [patch] fork: it was a dummy like the other local packages,
    // and every local unit is rebuilt from the real sources.
    expect(freshLocal(artifacts)).toEqual([]);
    expect(names(artifacts.filter((a) => !isThirdParty(a)))).toEqual(["cfg_if", "shared_lib", "svc"]);
    expect(exec(join(dir, "target/release/svc"))).toBe(
      "svc: real main on unix\nshared-lib: real code 7\ncfg-if fork: real code\n",
    );
  });
});
