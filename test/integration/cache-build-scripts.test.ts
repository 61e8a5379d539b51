/**
 * Build scripts through galley (RUSTC_WRAPPER=galley, its own name): the C they compile is cached
 * (cc-rs, and CMake through its compiler launcher), the runs of registry packages' scripts are
 * restored from the cache, workspace scripts and system probes run, and a restored OUT_DIR gives a
 * program that behaves as one built without galley.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readEvents, type StatEvent } from "../../src/cache/engine/stats.ts";
import { buildThroughGalley, copyFixture, galley, ok, removeDir, run, tempDir } from "../helpers.ts";

let work: string;
let dir: string;
let cacheDir: string;
beforeAll(() => {
  work = tempDir("galley-bs-");
  dir = copyFixture("build-scripts", join(work, "a", "build-scripts"));
  cacheDir = join(work, "cache");
});
afterAll(() => removeDir(work));

interface Built {
  events: StatEvent[];
  output: string;
  outcome(label: string): string[];
}

function build(at: string, env: Record<string, string> = {}, bin = "app"): Built {
  removeDir(join(at, "target"));
  const events = buildThroughGalley(at, cacheDir, [], env);
  const output = ok(run([join(at, "target", "debug", bin)], { cwd: at }), bin).stdout;
  return {
    events,
    output,
    outcome: (label) =>
      events
        .filter((e) => e.crate === label)
        .map((e) => (e.reason ? `${e.outcome}: ${e.reason}` : e.outcome)),
  };
}

function plainOutput(at: string, bin = "app"): string {
  const target = join(at, "target-plain");
  ok(run(["cargo", "build", "--target-dir", target], { cwd: at, env: { RUSTC_WRAPPER: "" } }), "plain build");
  return ok(run([join(target, "debug", bin)], { cwd: at }), bin).stdout;
}

describe("build scripts under RUSTC_WRAPPER=galley", () => {
  test("C of a -sys crate hits under the galley name, a registry script's run is restored, workspace scripts run", () => {
    const cold = build(dir);
    expect(cold.outcome("cc:triple.c")).toEqual(["miss: stored"]);
    expect(cold.outcome("build_script:typenum")).toEqual(["miss: stored"]);
    const warm = build(dir);
    expect(warm.outcome("cc:triple.c")).toEqual(["hit"]);
    expect(warm.outcome("build_script:typenum")).toEqual(["hit"]);
    expect(warm.outcome("build_script:gen")).toEqual([
      "passthrough: build script: workspace package (GALLEY_CACHE_WORKSPACE_BUILD_SCRIPTS=1 caches it)",
    ]);
    // The restored OUT_DIR is whole, and the program behaves as one built without galley.
    const out = readdirSync(join(dir, "target", "debug", "build")).filter((d) => d.startsWith("typenum-"));
    expect(out.some((d) => existsSync(join(dir, "target", "debug", "build", d, "out", "consts.rs")))).toBe(
      true,
    );
    expect(warm.output).toBe(plainOutput(dir));
    expect(warm.output).toContain("typenum: 42");
    expect(warm.output).toContain("csys: 42");

    const stats = JSON.parse(
      ok(galley(["stats", "--json"], { cwd: dir, env: { GALLEY_DIR: cacheDir } })).stdout,
    );
    expect(stats.byKind.buildScript.hits).toBeGreaterThanOrEqual(1);
    expect(stats.byKind.cc.hits).toBeGreaterThanOrEqual(1);
    const explain = ok(
      galley(["explain", "build_script:typenum"], { cwd: dir, env: { GALLEY_DIR: cacheDir } }),
    );
    expect(explain.stdout).toContain("build_script:typenum");
  });

  test("opted in, a workspace script is restored, and reruns when a declared variable or file changes", () => {
    const optIn = { GALLEY_CACHE_WORKSPACE_BUILD_SCRIPTS: "1" };
    build(dir, optIn);
    const warm = build(dir, optIn);
    expect(warm.outcome("build_script:gen")).toEqual(["hit"]);
    expect(warm.output).toContain("gen: from data.txt / default");

    const env = build(dir, { ...optIn, GEN_VALUE: "other" });
    expect(env.outcome("build_script:gen")).toEqual(["miss: stored"]);
    expect(env.output).toContain("gen: from data.txt / other");

    writeFileSync(join(dir, "gen", "data.txt"), "edited\n");
    const file = build(dir, optIn);
    expect(file.outcome("build_script:gen")).toEqual(["miss: stored"]);
    expect(file.output).toContain("gen: edited / default");
    expect(build(dir, optIn).outcome("build_script:gen")).toEqual(["hit"]);
  });

  test("GALLEY_BUILD_SCRIPTS=0 leaves build scripts as cargo runs them", () => {
    const b = build(dir, { GALLEY_BUILD_SCRIPTS: "0" });
    expect(
      b.events.filter((e) => e.crate?.startsWith("build_script:") || e.crate?.startsWith("cc:")),
    ).toEqual([]);
    const builds = join(dir, "target", "debug", "build");
    const launchers = readdirSync(builds).filter((d) =>
      readdirSync(join(builds, d)).some((f) => f.endsWith(".real")),
    );
    expect(launchers).toEqual([]);
    expect(b.output).toContain("typenum: 42");
  });

  test("a script that probes the system (pkg-config) is never restored", () => {
    const optIn = { GALLEY_CACHE_WORKSPACE_BUILD_SCRIPTS: "1" };
    for (let i = 0; i < 2; i++) {
      expect(build(dir, optIn).outcome("build_script:probe")).toEqual([
        "passthrough: build script: probes the system (declares PKG_CONFIG_PATH)",
      ]);
    }
  });

  test('a launcher: CC="galley cc" compiles hit', () => {
    const c = tempDir("galley-launcher-");
    writeFileSync(join(c, "x.c"), "int x(void) { return 7; }\n");
    const env = { GALLEY_DIR: join(c, "cache") };
    const events = () => readEvents(env.GALLEY_DIR).map((e) => `${e.crate} ${e.outcome}`);
    for (let i = 0; i < 2; i++) ok(galley(["cc", "-c", "x.c", "-o", "x.o"], { cwd: c, env }), "galley cc");
    expect(events()).toEqual(["cc:x.c miss", "cc:x.c hit"]);
    expect(existsSync(join(c, "x.o"))).toBe(true);
    removeDir(c);
  });

  test("CMake compiles through galley as the compiler launcher", () => {
    const cmake = copyFixture("cmake-app", join(work, "cmake-app"));
    build(cmake, {}, "cmake-app");
    const warm = build(cmake, {}, "cmake-app");
    expect(warm.outcome("cc:twice.c")).toEqual(["hit"]);
    expect(warm.output).toBe("twice: 42\n");
  });
});
