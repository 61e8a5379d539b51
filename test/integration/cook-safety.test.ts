/**
 * galley cook never loses the user's files and fails cleanly: refusals (exit 4), cargo's failures
 * (cargo's exit code and messages, no stack trace, directory restored), usage errors (exit 2, before
 * any file is touched), bad recipes (exit 3), and interruption (cargo stopped, cleanup, restore).
 * Fixture: test/fixtures/cook-mini (a bin and a lib member, itoa/cfg-if, optional either/smallvec).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  copyFixture,
  GALLEY,
  galley,
  listTree,
  ok,
  prepareTo,
  type RunResult,
  readTreeFiles,
  removeDir,
  run,
  tempDir,
  writeTree,
} from "../helpers.ts";

setDefaultTimeout(120_000);

let root: string;
let mini: string;
let recipe: string;
let counter = 0;

beforeAll(() => {
  root = tempDir("galley-cook-safety-");
  mini = copyFixture("cook-mini", join(root, "mini"));
  recipe = prepareTo(mini, join(root, "mini-recipe.json"));
});
afterAll(() => removeDir(root));

/** A builder directory with recipe.json and the given files (from cook-mini, or inline contents). */
function builder(files: Record<string, string> = {}, recipeText = recipe): string {
  const dir = join(root, `b${++counter}`);
  mkdirSync(dir);
  writeTree(dir, { "recipe.json": recipeText, ...files });
  return dir;
}
const fromMini = (...rels: string[]) =>
  Object.fromEntries(rels.map((r) => [r, readFileSync(join(mini, r), "utf8")]));

/** Every file's bytes, outside target/. */
function snapshot(dir: string): Map<string, Buffer> {
  const all = readTreeFiles(dir);
  for (const k of [...all.keys()]) if (k.startsWith("target/")) all.delete(k);
  return all;
}
function expectSame(dir: string, before: Map<string, Buffer>): void {
  const after = snapshot(dir);
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  for (const [rel, bytes] of before) expect(`${rel}: ${after.get(rel)?.equals(bytes)}`).toBe(`${rel}: true`);
  expect(listTree(dir, ["target"]).filter((p) => !p.startsWith("target"))).toEqual(listTreeNoTarget(before));
}
/** The directories and files a snapshot implies (files plus their parent directories). */
function listTreeNoTarget(files: Map<string, Buffer>): string[] {
  const out = new Set<string>();
  for (const rel of files.keys()) {
    const parts = rel.split("/");
    for (let i = 1; i <= parts.length; i++) out.add(parts.slice(0, i).join("/"));
  }
  return [...out].sort();
}
function expectNoStackTrace(r: RunResult): void {
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toContain("internal error");
}
/** Local (workspace) units' fingerprint directories in a profile directory. */
function localFingerprints(profileDir: string): string[] {
  const dir = join(profileDir, ".fingerprint");
  return existsSync(dir) ? readdirSync(dir).filter((e) => /^(app|words)-/.test(e)) : [];
}
/**
 * Local units that could look fresh to the next build: a fingerprint (`lib-words`, `bin-app`) or an
 * output in deps/. A unit cargo did not finish (failed, or stopped) has neither: only its partial
 * files and a fingerprint directory without a fingerprint, which cargo rebuilds.
 */
function reusableLocal(profileDir: string): string[] {
  const found: string[] = [];
  for (const d of localFingerprints(profileDir)) {
    for (const f of readdirSync(join(profileDir, ".fingerprint", d)))
      if (/^(lib|bin)-/.test(f)) found.push(`${d}/${f}`);
  }
  const deps = join(profileDir, "deps");
  for (const f of existsSync(deps) ? readdirSync(deps) : [])
    if (/^(lib)?(app|words)(-[0-9a-f]{16})?(\.(rlib|rmeta|so))?$/.test(f)) found.push(`deps/${f}`);
  return found;
}
const wordsLeft = (profileDir: string) => [
  ...localFingerprints(profileDir).filter((d) => d.startsWith("words-")),
  ...readdirSync(join(profileDir, "deps")).filter((f) => /^(lib)?words[-.]/.test(f)),
];

describe("refusing to overwrite the user's Rust sources", () => {
  test("a source that differs from its dummy is not overwritten: exit 4, every such file named, nothing written", () => {
    const dir = builder(fromMini("app/src/main.rs", "words/src/lib.rs"));
    const before = snapshot(dir);
    const r = galley(["cook", "--release"], { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("app/src/main.rs");
    expect(r.stderr).toContain("words/src/lib.rs");
    expect(r.stderr).toContain("--force");
    expectNoStackTrace(r);
    expectSame(dir, before);
    expect(existsSync(join(dir, "target"))).toBe(false);
  });

  test("a source equal to its dummy is not a conflict", () => {
    const dir = builder({ "app/src/main.rs": "fn main() {}\n" });
    ok(galley(["cook", "--no-build"], { cwd: dir }));
    expect(readFileSync(join(dir, "words/Cargo.toml"), "utf8")).toContain('name = "words"');
  });

  test("--force cooks the dummies in place of the sources and puts the sources back byte-for-byte", () => {
    // The real main cannot compile: cook only succeeds if it built the dummy instead.
    const dir = builder({
      "app/src/main.rs": 'compile_error!("cook compiled the real source");\n',
      ...fromMini("words/src/lib.rs", "Cargo.toml", "Cargo.lock"),
    });
    const before = snapshot(dir);
    expect(galley(["cook"], { cwd: dir }).code).toBe(4);
    ok(galley(["cook", "--force", "--locked"], { cwd: dir }), "galley cook --force");
    expectSame(dir, before);
    expect(readdirSync(join(dir, "target/debug/deps")).some((f) => f.startsWith("libitoa-"))).toBe(true);
    expect(localFingerprints(join(dir, "target/debug"))).toEqual([]);
    expect(reusableLocal(join(dir, "target/debug"))).toEqual([]);
  });

  test("--force --no-build leaves the skeleton and keeps each replaced source beside it (.galley-orig)", () => {
    const real = readFileSync(join(mini, "app/src/main.rs"), "utf8");
    const dir = builder({ "app/src/main.rs": real });
    ok(galley(["cook", "--force", "--no-build"], { cwd: dir }));
    expect(readFileSync(join(dir, "app/src/main.rs"), "utf8")).toBe("fn main() {}\n");
    expect(readFileSync(join(dir, "app/src/main.rs.galley-orig"), "utf8")).toBe(real);
  });

  test("a .galley-orig left by an interrupted cook is not overwritten: exit 4 with the way out", () => {
    const dir = builder({ ...fromMini("Cargo.toml"), "Cargo.toml.galley-orig": "# the user's original\n" });
    const before = snapshot(dir);
    const r = galley(["cook"], { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("Cargo.toml.galley-orig");
    expect(r.stderr).toContain("interrupted");
    expectNoStackTrace(r);
    expectSame(dir, before);
  });
});

describe("cargo fails: cook ends with cargo's exit code and messages, the directory put back", () => {
  test("a feature that does not exist: exit 101, cargo's error, no galley stack trace; Cargo.toml and Cargo.lock restored", () => {
    const dir = builder(fromMini("Cargo.toml", "Cargo.lock"));
    const before = snapshot(dir);
    const r = galley(["cook", "--locked", "--features", "no-such-feature"], { cwd: dir });
    expect(r.code).toBe(101);
    expect(r.stderr).toContain("no-such-feature");
    expect(r.stderr).not.toContain("galley");
    expectNoStackTrace(r);
    expectSame(dir, before);
  });

  test("a dependency version that does not exist, no Cargo.lock, --offline: exit 101 naming the crate; restored", () => {
    const project = writeTree(join(root, "bad-dep"), {
      "Cargo.toml":
        '[package]\nname = "bad-dep"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nitoa = "=0.0.999"\n',
      "src/main.rs": "fn main() {}\n",
    });
    const badRecipe = prepareTo(project, join(root, "bad-dep.json"));
    const dir = builder({ "Cargo.toml": "# the builder's own manifest\n" }, badRecipe);
    const before = snapshot(dir);
    const r = galley(["cook", "--offline"], { cwd: dir });
    expect(r.code).toBe(101);
    expect(r.stderr).toContain("itoa");
    expectNoStackTrace(r);
    expectSame(dir, before);
  });

  test("cargo failing after the workspace's units were built (linker fails): their outputs are still removed", () => {
    const host = /^host: (\S+)$/m.exec(ok(run(["rustc", "-vV"], { cwd: root })).stdout)![1]!;
    const dir = builder();
    const r = galley(["cook", "--", "--config", `target.${host}.linker="false"`], { cwd: dir });
    expect(r.code).toBe(101);
    expect(r.stderr).toMatch(/link/i);
    expectNoStackTrace(r);
    expect(listTree(dir, ["target"])).toEqual(["recipe.json", "target"]);
    const deps = readdirSync(join(dir, "target/debug/deps"));
    expect(deps.some((f) => f.startsWith("libitoa-"))).toBe(true); // the dependency layer is there
    expect(wordsLeft(join(dir, "target/debug"))).toEqual([]); // built, then removed
    expect(reusableLocal(join(dir, "target/debug"))).toEqual([]); // app failed: nothing reusable
  });
});

describe("no cargo", () => {
  test("a $CARGO that does not exist: exit 127 with a hint, directory restored", () => {
    const dir = builder(fromMini("Cargo.toml"));
    const before = snapshot(dir);
    const r = galley(["cook"], { cwd: dir, env: { CARGO: join(root, "no-such-cargo") } });
    expect(r.code).toBe(127);
    expect(r.stderr).toContain("no-such-cargo");
    expect(r.stderr).toContain("$CARGO");
    expectNoStackTrace(r);
    expectSame(dir, before);
  });
});

describe("usage errors (exit 2) are found before any file is touched", () => {
  const cases: [string[], RegExp][] = [
    [["--release", "--profile", "dev"], /--release and --profile dev conflict/],
    [["--check", "--clippy"], /--check and --clippy cannot be used together/],
    [["--clippy", "--zigbuild"], /--clippy and --zigbuild cannot be used together/],
    [["--exclude", "words"], /--exclude can only be used with --workspace/],
    [["--workspace", "-p", "app"], /--workspace and --package conflict/],
    [["--relase"], /unknown flag --relase for galley cook[\s\S]*did you mean --release\?/],
    [["--feature", "fmt"], /unknown flag --feature for galley cook[\s\S]*did you mean --features\?/],
    [["--target-dir"], /--target-dir needs a value/],
    [["--release=yes"], /--release takes no value/],
    [["-j", "0"], /-j 0: expected a non-zero number of jobs/],
    [["--", "--message-format=short"], /cook sets --message-format itself/],
    [["stray"], /unexpected argument "stray"/],
  ];
  test.each(cases)("cook %p", (args, message) => {
    const dir = builder();
    const r = galley(["cook", ...args], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expectNoStackTrace(r);
    expect(listTree(dir)).toEqual(["recipe.json"]);
  });

  test("--release with --profile release is not a conflict (cargo itself rejects the pair; cook passes one)", () => {
    const dir = builder();
    ok(galley(["cook", "--release", "--profile", "release"], { cwd: dir }));
    expect(readdirSync(join(dir, "target/release/deps")).some((f) => f.startsWith("libitoa-"))).toBe(true);
  });
});

describe("bad recipes (exit 3)", () => {
  test.each([
    ["missing", undefined, /cannot read the recipe \(ENOENT\)[\s\S]*galley prepare/],
    ["not JSON", "{", /not a galley recipe \(invalid JSON/],
    ["another schema", '{"schema":"galley-recipe/99","files":[],"sources":[]}', /galley-recipe\/99/],
    ["cargo-chef's recipe", '{"skeleton":{"manifests":[]}}', /not a galley recipe/],
    [
      "a path escaping the directory",
      '{"schema":"galley-recipe/1","files":[{"path":"a/../../x","kind":"manifest","contents":""}],"sources":[]}',
      /invalid file entry/,
    ],
  ])("%s", (_name, text, message) => {
    const dir = join(root, `r${++counter}`);
    mkdirSync(dir);
    if (text !== undefined) writeFileSync(join(dir, "recipe.json"), text);
    const r = galley(["cook"], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(message);
    expectNoStackTrace(r);
    expect(listTree(dir)).toEqual(text === undefined ? [] : ["recipe.json"]);
  });
});

describe("interrupted cook", () => {
  test.each([
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const)(
    "%s while cargo compiles: cargo is stopped, the workspace's finished units removed, the directory restored (exit %d)",
    async (signal, exitCode) => {
      const dir = builder(fromMini("Cargo.toml", "Cargo.lock"));
      const before = snapshot(dir);
      // A rustc wrapper that holds the compile of `app` (compiled last) until the test is done.
      const marker = join(dir, "..", `${signal}-app-started`);
      const wrapper = join(root, `${signal}-wrapper.sh`);
      writeFileSync(
        wrapper,
        `#!/bin/sh\ncase " $* " in *" --crate-name app "*) echo $$ > "${marker}"; exec sleep 30;; esac\nexec "$@"\n`,
      );
      chmodSync(wrapper, 0o755);
      const proc = Bun.spawn([GALLEY, "cook", "--locked"], {
        cwd: dir,
        env: { ...process.env, NO_COLOR: "1", RUSTC_WRAPPER: wrapper },
        stdout: "pipe",
        stderr: "pipe",
      });
      let sleeper: number | undefined;
      try {
        // Wait until app's compile is held and words (which app needs) is built and fingerprinted.
        const wordsBuilt = () =>
          localFingerprints(join(dir, "target/debug")).some((e) => e.startsWith("words-"));
        for (let i = 0; i < 600 && !(existsSync(marker) && wordsBuilt()); i++) await Bun.sleep(100);
        expect(existsSync(marker) && wordsBuilt()).toBe(true);
        sleeper = Number(readFileSync(marker, "utf8").trim());
        proc.kill(signal);
        const code = await Promise.race([proc.exited, Bun.sleep(20_000).then(() => "timeout")]);
        expect(code).toBe(exitCode);
      } finally {
        proc.kill("SIGKILL");
        if (sleeper) {
          try {
            process.kill(sleeper, "SIGKILL");
          } catch {}
        }
      }
      expectSame(dir, before);
      expect(wordsLeft(join(dir, "target/debug"))).toEqual([]);
      expect(reusableLocal(join(dir, "target/debug"))).toEqual([]);
    },
  );
});
