/**
 * Through the `sccache` name, cc-rs sends every C compile to galley: cached like ccache's direct
 * mode, with the headers, the -D flags and the compiler in the key.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { listJournals, readJournal } from "../../src/cache/engine/journal.ts";
import { readEvents } from "../../src/cache/engine/stats.ts";
import { copyFixture, galley, ok, removeDir, run, tempDir } from "../helpers.ts";
import { startRedis } from "../servers.ts";
import { edit } from "./cache-harness.ts";

let dir: string;
let cacheDir: string;
let shims: string;
beforeAll(() => {
  dir = copyFixture("cc-app");
  cacheDir = join(tempDir("galley-cc-cache-"), "cache");
  shims = tempDir("galley-shims-");
  ok(galley(["shims", "install", shims], { cwd: dir }), "shims install");
  build(); // cold
});
afterAll(() => {
  removeDir(join(dir, ".."));
  removeDir(join(cacheDir, ".."));
  removeDir(shims);
});

function build(env: Record<string, string> = {}): { c: string; output: string } {
  removeDir(join(dir, "target"));
  removeDir(join(cacheDir, "v1", "stats.log"));
  ok(
    run(["cargo", "build"], {
      cwd: dir,
      env: {
        RUSTC_WRAPPER: join(shims, "sccache"),
        GALLEY_DIR: cacheDir,
        CARGO_INCREMENTAL: "0",
        // Record preprocessor-mode entries for every compile, not only the slow ones.
        GALLEY_CC_PREPROCESS_MS: "0",
        ...env,
      },
    }),
    "cargo build through the sccache name",
  );
  const events = readEvents(cacheDir).filter((e) => e.crate === "cc:calc.c");
  expect(events.length).toBe(1);
  const e = events[0]!;
  const output = ok(run([join(dir, "target/debug/cc-app")], { cwd: dir }), "cc-app").stdout.trim();
  return { c: e.outcome === "hit" && e.reason ? `${e.outcome} (${e.reason})` : e.outcome, output };
}

describe("C compiles through the sccache name", () => {
  test("a warm build restores the object instead of compiling", () => {
    expect(build()).toEqual({ c: "hit", output: "calc: 43" });
  });

  test("a header edit misses", () => {
    const undo = edit(join(dir, "native/calc.h"), "FACTOR 6", "FACTOR 5");
    try {
      expect(build()).toEqual({ c: "miss", output: "calc: 36" });
    } finally {
      undo();
    }
  });

  test("a -D change misses", () => {
    expect(build({ GALLEY_TEST_MODE: "2" })).toEqual({ c: "miss", output: "calc: 44" });
  });

  test("a C compiler change misses", () => {
    const cc = join(tempDir("galley-cc-"), "my-cc");
    writeFileSync(cc, '#!/bin/sh\nexec cc "$@"\n');
    chmodSync(cc, 0o755);
    try {
      expect(build({ CC: cc })).toEqual({ c: "miss", output: "calc: 43" });
      expect(build({ CC: cc })).toEqual({ c: "hit", output: "calc: 43" });
    } finally {
      removeDir(join(cc, ".."));
    }
  });

  test("a header change the preprocessor removes (a comment) hits in preprocessor mode", () => {
    const undo = edit(join(dir, "native/calc.h"), "#define FACTOR 6", "/* a comment */\n#define FACTOR 6");
    try {
      expect(build()).toEqual({ c: "hit (preprocessor mode)", output: "calc: 43" });
    } finally {
      undo();
    }
  });
});

test("a C compile is journaled in its cargo build, as a unit of the package whose build script ran it", () => {
  const before = listJournals(cacheDir).length;
  build();
  // One journal for the build: the compile, run by the build script, is grouped with cargo's units.
  expect(listJournals(cacheDir)).toHaveLength(before + 1);
  const journal = readJournal(cacheDir, listJournals(cacheDir)[0]!.id)!;
  expect(journal.header?.cwd).toBe(dir);
  const c = journal.entries.filter((e) => e.kind === "cc");
  expect(c).toMatchObject([{ name: "cc-app: calc.c", pkg: "cc-app@0.1.0", outcome: "hit", tier: "local" }]);
  expect(journal.entries.map((e) => e.name)).toContain("cc-app (bin)");
});

test("from a shared store, a C compile into a target dir outside the source directory hits on another machine", async () => {
  // cc-rs compiles in the package's directory into OUT_DIR: with the target dir elsewhere (as for a
  // crates.io crate under ~/.cargo/registry), the object's path climbs out of the working directory.
  const redis = await startRedis();
  const target = join(tempDir("galley-cc-target-"), "target");
  const machines = [tempDir("galley-cc-m1-"), tempDir("galley-cc-m2-")];
  try {
    const outcomes = machines.map((machine) => {
      removeDir(target);
      ok(
        run(["cargo", "build"], {
          cwd: dir,
          env: {
            RUSTC_WRAPPER: join(shims, "sccache"),
            GALLEY_DIR: machine,
            GALLEY_STORE: redis.url,
            CARGO_TARGET_DIR: target,
            CARGO_INCREMENTAL: "0",
          },
        }),
        "cargo build with a shared store",
      );
      expect(ok(run([join(target, "debug/cc-app")], { cwd: dir }), "cc-app").stdout.trim()).toBe("calc: 43");
      const events = readEvents(machine).filter((e) => e.crate === "cc:calc.c");
      expect(events).toHaveLength(1);
      return { outcome: events[0]!.outcome, tier: events[0]!.tier, rejected: events[0]!.rejected ?? 0 };
    });
    expect(outcomes).toEqual([
      { outcome: "miss", tier: undefined, rejected: 0 },
      { outcome: "hit", tier: "remote", rejected: 0 },
    ]);
  } finally {
    await redis.stop();
    removeDir(join(target, ".."));
    for (const m of machines) removeDir(m);
  }
});
