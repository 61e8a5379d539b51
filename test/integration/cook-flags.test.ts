/**
 * cook's flags have cargo's names and meanings, and the dependency layer they build is the one the
 * real build with the same flags reuses. Fixtures: test/fixtures/cook-ws and test/fixtures/cook-mini.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  cargoBuild,
  cargoJson,
  copyFixture,
  copySources,
  freshLocal,
  galley,
  isThirdParty,
  listTree,
  ok,
  prepareTo,
  rebuiltThirdParty,
  removeDir,
  run,
  tempDir,
  writeTree,
} from "../helpers.ts";

setDefaultTimeout(120_000);

let root: string;
let ws: string;
let wsRecipe: string;
let mini: string;
let miniRecipe: string;
let host: string;
let counter = 0;

beforeAll(() => {
  root = tempDir("galley-cook-flags-");
  ws = copyFixture("cook-ws", join(root, "ws"));
  wsRecipe = prepareTo(ws, join(root, "ws.json"));
  mini = copyFixture("cook-mini", join(root, "mini"));
  miniRecipe = prepareTo(mini, join(root, "mini.json"));
  host = /^host: (\S+)$/m.exec(ok(run(["rustc", "-vV"], { cwd: root })).stdout)![1]!;
});
afterAll(() => removeDir(root));

function builder(recipe: string, place = ""): string {
  const dir = join(root, `b${++counter}`, place);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "recipe.json"), recipe);
  return dir;
}
const cook = (dir: string, args: string[], env?: Record<string, string | undefined>) =>
  ok(galley(["cook", ...args], { cwd: dir, ...(env ? { env } : {}) }), `galley cook ${args.join(" ")}`);

/** Crates with a library output (`lib<crate>-<hash>.<ext>`) in a deps directory, by extension. */
function crates(depsDir: string, ext: "rlib" | "rmeta"): string[] {
  if (!existsSync(depsDir)) return [];
  const names = readdirSync(depsDir)
    .map((f) => /^lib(.+)-[0-9a-f]{16}\.(\w+)$/.exec(f))
    .filter((m) => m !== null && m[2] === ext)
    .map((m) => m![1]!);
  return [...new Set(names)].sort();
}
/** Files of the workspace's own units left in a profile directory (deps/ and .fingerprint/). */
function localLeft(
  profileDir: string,
  names = ["app", "greeter", "plugin", "tool", "itoa", "words"],
): string[] {
  const left: string[] = [];
  const itoaBin = (f: string) => /^itoa-[0-9a-f]{16}$/.test(f); // the tool's bin named itoa
  for (const sub of ["deps", ".fingerprint"]) {
    const d = join(profileDir, sub);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) {
      const crate = /^(?:lib)?([a-z_-]+?)(?:-[0-9a-f]{16})?(?:\.\w+)?$/.exec(f)?.[1];
      if (!crate || !names.includes(crate)) continue;
      if (crate === "itoa" && !(sub === "deps" && itoaBin(f))) continue; // the registry crate
      left.push(`${sub}/${f}`);
    }
  }
  return left;
}

describe("cargo subcommands", () => {
  test("--check builds metadata only; the real cargo check reuses it and checks every workspace crate", () => {
    const dir = builder(wsRecipe);
    cook(dir, ["--check", "--locked"]);
    const deps = join(dir, "target/debug/deps");
    expect(crates(deps, "rmeta")).toEqual(["cfg_if", "either", "itoa", "memchr", "smallvec"]);
    expect(crates(deps, "rlib")).toEqual([]);
    expect(localLeft(join(dir, "target/debug"))).toEqual([]);
    copySources(ws, dir);
    const { artifacts } = cargoJson(dir, "check", ["--locked"]);
    expect(rebuiltThirdParty(artifacts)).toEqual([]);
    expect(freshLocal(artifacts)).toEqual([]);
    expect(artifacts.filter((a) => !isThirdParty(a)).length).toBeGreaterThanOrEqual(4);
  });

  test("--clippy runs cargo clippy (metadata only), and removes the workspace's units", () => {
    const dir = builder(miniRecipe);
    cook(dir, ["--clippy"]);
    expect(crates(join(dir, "target/debug/deps"), "rmeta")).toEqual(["cfg_if", "itoa"]);
    expect(crates(join(dir, "target/debug/deps"), "rlib")).toEqual([]);
    expect(localLeft(join(dir, "target/debug"))).toEqual([]);
  });
});

describe("where the outputs go", () => {
  test("--target-dir (relative, with --manifest-path from another directory) is where cargo writes, as cargo resolves it", () => {
    const top = join(root, `b${++counter}`);
    const dir = join(top, "app");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(top, "recipe.json"), miniRecipe);
    cook(top, ["--manifest-path", "app/Cargo.toml", "--target-dir", "out"]);
    expect(crates(join(top, "out/debug/deps"), "rlib")).toEqual(["cfg_if", "itoa"]);
    expect(localLeft(join(top, "out/debug"))).toEqual([]);
    expect(listTree(top, ["out"])).toEqual(["app", "out", "recipe.json"]);

    copySources(mini, dir);
    const { artifacts } = cargoBuild(dir, ["--locked", "--target-dir", "../out"]);
    expect(rebuiltThirdParty(artifacts)).toEqual([]);
    expect(freshLocal(artifacts)).toEqual([]);
  });

  test("CARGO_TARGET_DIR (absolute, and relative to where cook runs) is honoured", () => {
    const dir = builder(miniRecipe);
    const abs = join(root, `shared-target-${counter}`);
    cook(dir, [], { CARGO_TARGET_DIR: abs });
    expect(existsSync(join(dir, "target"))).toBe(false);
    expect(crates(join(abs, "debug/deps"), "rlib")).toEqual(["cfg_if", "itoa"]);
    expect(localLeft(join(abs, "debug"))).toEqual([]);
    copySources(mini, dir);
    const { artifacts } = cargoBuild(dir, ["--locked"], { CARGO_TARGET_DIR: abs });
    expect(rebuiltThirdParty(artifacts)).toEqual([]);

    const top = join(root, `b${++counter}`);
    mkdirSync(join(top, "app"), { recursive: true });
    writeFileSync(join(top, "recipe.json"), miniRecipe);
    cook(top, ["--manifest-path", "app/Cargo.toml"], { CARGO_TARGET_DIR: "rel-target" });
    expect(crates(join(top, "rel-target/debug/deps"), "rlib")).toEqual(["cfg_if", "itoa"]);
    expect(existsSync(join(top, "app/rel-target"))).toBe(false);
  });

  test("the recipe's .cargo/config.toml (build.target-dir) is honoured, and removed afterwards", () => {
    const project = copyFixture("cook-mini", join(root, "with-config"));
    writeTree(project, { ".cargo/config.toml": '[build]\ntarget-dir = "from-config"\n' });
    const dir = builder(prepareTo(project, join(root, "with-config.json")));
    cook(dir, []);
    expect(crates(join(dir, "from-config/debug/deps"), "rlib")).toEqual(["cfg_if", "itoa"]);
    expect(localLeft(join(dir, "from-config/debug"))).toEqual([]);
    expect(listTree(dir, ["from-config"])).toEqual(["from-config", "recipe.json"]);
  });

  test("--target (the host triple) with a custom --profile: outputs under target/<triple>/<profile>, build scripts under target/<profile>; the real build reuses them and runs the real code", () => {
    const dir = builder(wsRecipe);
    cook(dir, ["--target", host, "--profile", "ci", "--locked"]);
    const profile = join(dir, "target", host, "ci");
    expect(crates(join(profile, "deps"), "rlib")).toEqual(["cfg_if", "either", "itoa", "memchr", "smallvec"]);
    expect(localLeft(profile)).toEqual([]);
    expect(localLeft(join(dir, "target/ci"))).toEqual([]); // the build script's units
    copySources(ws, dir);
    const { artifacts } = cargoBuild(dir, ["--target", host, "--profile", "ci", "--locked"]);
    expect(rebuiltThirdParty(artifacts)).toEqual([]);
    expect(freshLocal(artifacts)).toEqual([]);
    expect(ok(run([join(profile, "app")], { cwd: dir })).stdout).toContain(
      "greeter: real lib on unix; build: real build script",
    );
  });
});

describe("what is built", () => {
  test("--features as a list: space- and comma-separated, repeated; the real build with those features reuses them", () => {
    const none = builder(miniRecipe);
    cook(none, []);
    expect(crates(join(none, "target/debug/deps"), "rlib")).toEqual(["cfg_if", "itoa"]);

    const one = builder(miniRecipe);
    cook(one, ["-F", "fmt"]);
    expect(crates(join(one, "target/debug/deps"), "rlib")).toEqual(["cfg_if", "either", "itoa"]);

    const spaced = builder(miniRecipe);
    cook(spaced, ["--features", "fmt small", "--locked"]);
    expect(crates(join(spaced, "target/debug/deps"), "rlib")).toEqual([
      "cfg_if",
      "either",
      "itoa",
      "smallvec",
    ]);
    copySources(mini, spaced);
    const { artifacts } = cargoBuild(spaced, ["--locked", "--features", "fmt,small"]);
    expect(rebuiltThirdParty(artifacts)).toEqual([]);

    const repeated = builder(miniRecipe);
    cook(repeated, ["--features=fmt", "-F", "app/small"]);
    expect(crates(join(repeated, "target/debug/deps"), "rlib")).toEqual([
      "cfg_if",
      "either",
      "itoa",
      "smallvec",
    ]);

    const all = builder(miniRecipe);
    cook(all, ["--all-features"]);
    expect(crates(join(all, "target/debug/deps"), "rlib")).toEqual(["cfg_if", "either", "itoa", "smallvec"]);
  });

  test("-p builds only that package's dependencies; --workspace --exclude leaves one out; --bin only that binary's", () => {
    const p = builder(wsRecipe);
    cook(p, ["-p", "greeter"]);
    expect(crates(join(p, "target/debug/deps"), "rlib")).toEqual(["cfg_if", "smallvec"]);

    const ex = builder(wsRecipe);
    cook(ex, ["--workspace", "--exclude", "tool"]);
    expect(crates(join(ex, "target/debug/deps"), "rlib")).toEqual(["cfg_if", "either", "itoa", "smallvec"]);

    const bin = builder(wsRecipe);
    cook(bin, ["--bin", "itoa"]);
    expect(crates(join(bin, "target/debug/deps"), "rlib")).toEqual(["memchr"]);
    expect(localLeft(join(bin, "target/debug"))).toEqual([]);
  });

  test("--all-targets builds the dev-dependencies; the real cargo test --all-targets reuses them and runs the real test, example and bench (OLD mtimes)", () => {
    // cook-targets: versionless members with an integration test, an example and a bench.
    const project = copyFixture("cook-targets", join(root, "targets"));
    const dir = builder(prepareTo(project, join(root, "targets.json")));
    cook(dir, ["--all-targets", "--locked"]);
    expect(crates(join(dir, "target/debug/deps"), "rlib")).toEqual(["cfg_if", "either", "itoa", "memchr"]);
    expect(localLeft(join(dir, "target/debug"), ["app", "words", "it", "demo", "b"])).toEqual([]);
    expect(readdirSync(join(dir, "target/debug/examples"))).toEqual([]);

    copySources(project, dir);
    const { artifacts } = cargoJson(dir, "test", ["--all-targets", "--locked", "--no-run"]);
    expect(rebuiltThirdParty(artifacts)).toEqual([]);
    expect(freshLocal(artifacts)).toEqual([]);
    const t = ok(run(["cargo", "test", "--locked", "--test", "it"], { cwd: dir }));
    expect(`${t.stdout}${t.stderr}`).toContain("test real_word ... ok");
    const ex = ok(run(["cargo", "run", "-q", "--locked", "--example", "demo"], { cwd: dir }));
    expect(ex.stdout).toBe("demo: real example 1\n");
    const bench = ok(run(["cargo", "bench", "-q", "--locked", "--bench", "b"], { cwd: dir }));
    expect(bench.stdout).toContain("bench: real bench");
  });

  test("--no-std writes no_std dummies; with --lib only the library is built", () => {
    const project = writeTree(join(root, "nostd"), {
      "Cargo.toml":
        '[package]\nname = "nostd"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nitoa = { version = "1", default-features = false }\n',
      "src/lib.rs": "#![no_std]\npub fn f() {}\n",
      "src/main.rs": "fn main() {}\n",
      "Cargo.lock": readFileSync(join(mini, "Cargo.lock"), "utf8"),
    });
    const recipe = prepareTo(project, join(root, "nostd.json"));
    const skeleton = builder(recipe);
    cook(skeleton, ["--no-std", "--no-build"]);
    expect(readFileSync(join(skeleton, "src/lib.rs"), "utf8")).toBe("#![no_std]\n");
    const main = readFileSync(join(skeleton, "src/main.rs"), "utf8");
    expect(main).toContain("#![no_std]");
    expect(main).toContain("#![no_main]");
    expect(main).toContain("#[panic_handler]");

    const dir = builder(recipe);
    cook(dir, ["--no-std", "--lib"]);
    expect(crates(join(dir, "target/debug/deps"), "rlib")).toEqual(["itoa"]);
    expect(listTree(dir, ["target"])).toEqual(["recipe.json", "target"]);
  });

  test("cargo is $CARGO when set", () => {
    const dir = builder(miniRecipe);
    const log = join(root, `cargo-${counter}.log`);
    const wrapper = join(root, `cargo-wrapper-${counter}.sh`);
    writeFileSync(wrapper, `#!/bin/sh\necho "$@" >> '${log}'\nexec cargo "$@"\n`);
    chmodSync(wrapper, 0o755);
    cook(dir, ["--locked"], { CARGO: wrapper });
    expect(readFileSync(log, "utf8")).toMatch(
      /^build --manifest-path \S+\/Cargo\.toml --message-format=json-render-diagnostics --locked$/m,
    );
    expect(crates(join(dir, "target/debug/deps"), "rlib")).toEqual(["cfg_if", "itoa"]);
  });

  test("-v passes cargo's verbosity and reports the cleanup", () => {
    const dir = builder(miniRecipe);
    const r = cook(dir, ["-v"]);
    expect(r.stderr).toContain("Running `");
    expect(r.stderr).toMatch(/removed \d+ outputs of the workspace's dummy units/);
  });
});
