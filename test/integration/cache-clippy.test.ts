/**
 * cargo clippy through galley (real cargo, real clippy-driver): the workspace's clippy runs are
 * cached, replayed lint for lint, and re-run when anything that changes clippy's verdict changes.
 * Every run starts from a fresh target dir, so what cargo prints comes from clippy or from the cache,
 * never from cargo's own fingerprints.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readEvents, type StatEvent } from "../../src/cache/engine/stats.ts";
import { copyFixture, GALLEY, galley, ok, type RunResult, removeDir, run, tempDir } from "../helpers.ts";
import { edit } from "./cache-harness.ts";

/** The label of the fixture's clippy runs (its lib and its bin) in stats. */
const APP = "clippy:clippy_app";

interface Project {
  root: string;
  dir: string;
  cacheDir: string;
}

function project(): Project {
  const root = tempDir("galley-clippy-");
  const dir = copyFixture("clippy-app", join(root, "clippy-app"));
  return { root, dir, cacheDir: join(root, "cache") };
}

interface Run {
  result: RunResult;
  events: StatEvent[];
  /** The outcomes of the events with this label, sorted. */
  outcomes(label: string): string[];
}

/** `cargo <command> <args>` through galley from a fresh target dir, with this run's stats alone. */
function cargo(p: Project, command: string, args: string[] = [], env: Record<string, string> = {}): Run {
  rmSync(join(p.dir, "target"), { recursive: true, force: true });
  rmSync(join(p.cacheDir, "v1", "stats.log"), { force: true });
  const result = run(["cargo", command, "--offline", ...args], {
    cwd: p.dir,
    env: { RUSTC_WRAPPER: GALLEY, GALLEY_DIR: p.cacheDir, CARGO_INCREMENTAL: "0", ...env },
  });
  const events = readEvents(p.cacheDir);
  return {
    result,
    events,
    outcomes: (label) =>
      events
        .filter((e) => e.crate === label)
        .map((e) => e.outcome)
        .sort(),
  };
}

const clippy = (p: Project, args: string[] = [], env: Record<string, string> = {}) =>
  cargo(p, "clippy", args, env);

/** cargo's stderr without its status lines (which carry timings and come in any order). */
function diagnostics(stderr: string): string {
  return stderr
    .split("\n")
    .filter((l) => !/^\s*(Checking|Compiling|Finished|Blocking|Locking|Adding|Updating)\b/.test(l))
    .join("\n");
}

/** The lints in cargo's rendered output: each headline with where it points. */
function lints(stderr: string): string[] {
  const lines = stderr.split("\n");
  const found: string[] = [];
  lines.forEach((line, i) => {
    const at = lines[i + 1]?.match(/^\s*--> (\S+)/)?.[1];
    if (/^(warning|error)(\[\w+\])?: /.test(line) && at) found.push(`${line} @ ${at}`);
  });
  return found;
}

const PTR_ARG = "writing `&Vec` instead of `&[_]`";
const NEEDLESS_RETURN = "unneeded `return` statement";
const LEN_ZERO = "length comparison to zero";
const TOO_MANY_ARGUMENTS = "this function has too many arguments";
const DISALLOWED_NAME = "use of a disallowed/placeholder name `values`";

let p: Project;
/** The fixture's lints as the first (cold) run printed them. */
let coldDiagnostics: string;

beforeAll(() => {
  p = project();
});
afterAll(() => removeDir(p.root));

describe("cargo clippy through galley", () => {
  test("a warm run replays every lint, in order, from the cache", () => {
    const cold = clippy(p);
    expect(cold.result.code).toBe(0);
    expect(cold.outcomes(APP)).toEqual(["miss", "miss"]);
    expect(cold.events.filter((e) => e.crate === APP).map((e) => e.reason)).toEqual(["stored", "stored"]);
    coldDiagnostics = diagnostics(cold.result.stderr);
    const found = lints(cold.result.stderr);
    for (const lint of [PTR_ARG, NEEDLESS_RETURN, LEN_ZERO]) expect(found.join("\n")).toContain(lint);

    const warm = clippy(p);
    expect(warm.result.code).toBe(0);
    expect(warm.outcomes(APP)).toEqual(["hit", "hit"]);
    expect(diagnostics(warm.result.stderr)).toBe(coldDiagnostics);
    const stats = JSON.parse(
      ok(galley(["stats", "--json"], { cwd: p.dir, env: { GALLEY_DIR: p.cacheDir } })).stdout,
    );
    expect(stats.misses).toBe(0);
    expect(stats.hits).toBeGreaterThanOrEqual(2);
  });

  test("--message-format=json: the same compiler messages, in the same order, from the cache", () => {
    const messages = (r: Run) =>
      r.result.stdout
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as { reason: string; message?: { code?: { code: string } } })
        .filter((m) => m.reason === "compiler-message")
        .map((m) => m.message);
    const first = clippy(p, ["--message-format=json"]);
    expect(first.result.code).toBe(0);
    const warm = clippy(p, ["--message-format=json"]);
    expect(warm.outcomes(APP)).toEqual(["hit", "hit"]);
    expect(messages(warm)).toEqual(messages(first));
    expect(messages(warm).map((m) => m?.code?.code)).toEqual([
      "clippy::ptr_arg",
      "clippy::needless_return",
      "clippy::len_zero",
    ]);
  });

  test("editing clippy.toml re-runs clippy and gives the new verdict", () => {
    const restore = edit(join(p.dir, "clippy.toml"), "= 3", "= 2");
    try {
      const edited = clippy(p);
      expect(edited.outcomes(APP)).toEqual(["miss", "miss"]);
      expect(edited.events.find((e) => e.crate === APP)?.why?.join("\n")).toContain("clippyConf");
      expect(lints(edited.result.stderr).join("\n")).toContain(TOO_MANY_ARGUMENTS);
      const again = clippy(p);
      expect(again.outcomes(APP)).toEqual(["hit", "hit"]);
      expect(lints(again.result.stderr).join("\n")).toContain(TOO_MANY_ARGUMENTS);
    } finally {
      restore();
    }
    const back = clippy(p);
    expect(back.outcomes(APP)).toEqual(["hit", "hit"]);
    expect(diagnostics(back.result.stderr)).toBe(coldDiagnostics);
  });

  test("a clippy.toml created in a parent directory, or in CLIPPY_CONF_DIR, is found as clippy finds it", () => {
    const own = join(p.dir, "clippy.toml");
    const saved = readFileSync(own, "utf8");
    rmSync(own);
    const parent = join(p.root, "clippy.toml");
    try {
      const none = clippy(p);
      expect(none.result.code).toBe(0);
      expect(lints(none.result.stderr).join("\n")).not.toContain(TOO_MANY_ARGUMENTS);
      // clippy's dep-info names no configuration file now: only the lookup sees this one.
      writeFileSync(parent, "too-many-arguments-threshold = 2\n");
      const above = clippy(p);
      expect(above.outcomes(APP)).toEqual(["miss", "miss"]);
      expect(lints(above.result.stderr).join("\n")).toContain(TOO_MANY_ARGUMENTS);
      rmSync(parent);
      const confDir = join(p.root, "conf");
      mkdirSync(confDir, { recursive: true });
      writeFileSync(join(confDir, ".clippy.toml"), 'disallowed-names = ["values"]\n');
      const fromEnv = clippy(p, [], { CLIPPY_CONF_DIR: confDir });
      expect(fromEnv.outcomes(APP)).toEqual(["miss", "miss"]);
      const found = lints(fromEnv.result.stderr).join("\n");
      expect(found).toContain(DISALLOWED_NAME);
      expect(found).not.toContain(TOO_MANY_ARGUMENTS);
    } finally {
      rmSync(parent, { force: true });
      writeFileSync(own, saved);
    }
  });

  test("-D in CLIPPY_ARGS re-runs clippy and fails the build; a failed run is not stored", () => {
    for (let i = 0; i < 2; i++) {
      const denied = clippy(p, ["--", "-D", "clippy::ptr_arg"]);
      expect(denied.result.code).not.toBe(0);
      expect(lints(denied.result.stderr).join("\n")).toContain(`error: ${PTR_ARG}`);
      const lib = denied.events.filter((e) => e.crate === APP);
      expect(lib.map((e) => [e.outcome, e.reason])).toEqual([["miss", "compile failed"]]);
    }
    const allowed = clippy(p);
    expect(allowed.result.code).toBe(0);
    expect(allowed.outcomes(APP)).toEqual(["hit", "hit"]);
    expect(diagnostics(allowed.result.stderr)).toBe(coldDiagnostics);
  });

  test("a lint fixed in the source is gone on the next run", () => {
    const restore = edit(join(p.dir, "src", "lib.rs"), "values: &Vec<u64>", "values: &[u64]");
    try {
      const fixed = clippy(p);
      expect(fixed.result.code).toBe(0);
      expect(fixed.outcomes(APP)).toContain("miss");
      const found = lints(fixed.result.stderr).join("\n");
      expect(found).not.toContain(PTR_ARG);
      expect(found).toContain(NEEDLESS_RETURN);
    } finally {
      restore();
    }
  });
});

describe("cargo clippy beside cargo check", () => {
  test("registry dependencies hit cargo check's entries; cargo check never replays clippy's lints", () => {
    const q = project();
    try {
      const check = cargo(q, "check");
      expect(check.result.code).toBe(0);
      expect(check.outcomes("itoa")).toEqual(["miss"]);
      expect(check.result.stderr).not.toContain(PTR_ARG);
      const lint = clippy(q);
      expect(lint.outcomes("itoa")).toEqual(["hit"]);
      expect(lint.outcomes(APP)).toEqual(["miss", "miss"]);
      expect(lint.result.stderr).toContain(PTR_ARG);
      const checkAgain = cargo(q, "check");
      expect(checkAgain.outcomes("clippy_app")).toEqual(["hit", "hit"]);
      expect(checkAgain.result.stderr).not.toContain(PTR_ARG);
    } finally {
      removeDir(q.root);
    }
  });
});
