/**
 * Hits from any path. By default a build from a checkout at another path hits wherever the path
 * cannot reach the output, and its release binary is byte-identical to a plain build there. In
 * portable mode (GALLEY_PORTABLE=1) galley remaps the paths in what rustc writes: two checkouts
 * give identical binaries and the second build is all hits.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { StatEvent } from "../../src/cache/engine/stats.ts";
import { buildThroughGalley, copyFixture, ok, removeDir, run, tempDir } from "../helpers.ts";

let work: string;
beforeAll(() => {
  work = tempDir("galley-paths-");
});
afterAll(() => removeDir(work));

function release(
  at: string,
  cacheDir: string,
  env: Record<string, string> = {},
): { events: StatEvent[]; bin: Buffer } {
  const events = buildThroughGalley(at, cacheDir, ["--release"], env);
  const target = env.CARGO_TARGET_DIR ?? join(at, "target");
  return { events, bin: readFileSync(join(target, "release", "app")) };
}

const labels = (events: StatEvent[], outcome: string) =>
  [...new Set(events.filter((e) => e.outcome === outcome).map((e) => e.crate))].sort();

describe("hits from any path", () => {
  test("another checkout path hits where the path cannot reach the output; the binary is a plain build's", () => {
    const cacheDir = join(work, "cache-default");
    const a = copyFixture("build-scripts", join(work, "a", "project"));
    release(a, cacheDir);
    const b = copyFixture("build-scripts", join(work, "elsewhere", "b", "project"));
    ok(run(["cargo", "build", "--release"], { cwd: b, env: { RUSTC_WRAPPER: "" } }), "plain build");
    const plain = readFileSync(join(b, "target", "release", "app"));
    removeDir(join(b, "target"));
    const second = release(b, cacheDir);
    expect(second.bin.equals(plain)).toBe(true);
    // Registry crates and their build scripts' runs hit. The path reaches the workspace's crates,
    // and typenum, which includes code generated into OUT_DIR (its path is in the rlib).
    const hits = labels(second.events, "hit");
    expect(hits).toContain("cc");
    expect(hits).toContain("build_script:typenum");
    expect(labels(second.events, "miss")).toEqual(expect.arrayContaining(["app", "typenum"]));
  });

  test("portable mode: two checkout paths give identical binaries, and the second build is all hits", () => {
    const cacheDir = join(work, "cache-portable");
    const env = { GALLEY_PORTABLE: "1", GALLEY_CACHE_WORKSPACE_BUILD_SCRIPTS: "1" };
    const a = copyFixture("build-scripts", join(work, "p1", "project"));
    const first = release(a, cacheDir, env);
    const b = copyFixture("build-scripts", join(work, "p2", "deeper", "project"));
    const second = release(b, cacheDir, env);
    expect(labels(second.events, "miss")).toEqual([]);
    expect(labels(second.events, "hit")).toContain("app");
    expect(second.bin.equals(first.bin)).toBe(true);
    expect(ok(run([join(b, "target", "release", "app")], { cwd: b })).stdout).toContain("csys: 42");
  });

  test("builds into two target dirs in turn: once each has built, both are all hits", () => {
    const cacheDir = join(work, "cache-turns");
    const at = copyFixture("build-scripts", join(work, "turns", "project"));
    const into = (dir: string) => release(at, cacheDir, { CARGO_TARGET_DIR: join(at, dir) });
    into("target");
    // typenum includes code generated into OUT_DIR: its key holds the target dir, and it misses here.
    expect(labels(into("other-target").events, "miss")).toContain("typenum");
    for (const dir of ["target", "other-target", "target"]) {
      removeDir(join(at, dir));
      expect(labels(into(dir).events, "miss")).toEqual([]);
    }
  });
});
