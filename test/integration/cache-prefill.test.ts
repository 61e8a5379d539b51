/**
 * Prefill: a build in a fresh target dir finds the registry packages' units an earlier run of the
 * same cargo command built put back before cargo looks, so no wrapper starts for them; cargo still
 * decides what is fresh, and anything it no longer wants, or that galley cannot restore whole, is
 * built as usual.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../../src/cache/engine/digest.ts";
import type { StatEvent } from "../../src/cache/engine/stats.ts";
import { buildThroughGalley, copyFixture, GALLEY, galley, ok, removeDir, run, tempDir } from "../helpers.ts";

let work: string;
let dir: string;
let cacheDir: string;
beforeAll(() => {
  work = tempDir("galley-prefill-");
  dir = copyFixture("build-scripts", join(work, "ws"));
  cacheDir = join(work, "cache");
});
afterAll(() => removeDir(work));

/** The registry packages' units of the fixture by label (typenum's build script is compiled and run). */
const REGISTRY = ["build_script:typenum", "cc", "find_msvc_tools", "shlex", "typenum"];
/** With typenum's build-script compile (crate `build_script_main`). */
const PREFILLED = ["build_script:typenum", "build_script_main", "cc", "find_msvc_tools", "shlex", "typenum"];

interface Built {
  events: StatEvent[];
  prefilled: string[];
  /** Units a wrapper process ran for. */
  wrapped: string[];
  binary: Buffer;
  output: string;
}

function build(
  env: Record<string, string> = {},
  opts: { clean?: boolean; target?: string; ws?: string; cache?: string } = {},
): Built {
  const ws = opts.ws ?? dir;
  const target = opts.target ?? join(ws, "target");
  if (opts.clean !== false) removeDir(target);
  const events = buildThroughGalley(ws, opts.cache ?? cacheDir, [], env);
  const app = join(target, "debug", "app");
  const names = (pick: (e: StatEvent) => boolean) =>
    [...new Set(events.filter(pick).map((e) => e.crate ?? "?"))].sort();
  return {
    events,
    prefilled: names((e) => e.prefilled === true),
    wrapped: names((e) => e.prefilled !== true),
    binary: readFileSync(app),
    output: ok(run([app], { cwd: ws }), "app").stdout,
  };
}

/** The records kept for the fixture's cargo commands: the units' names under `.fingerprint/`. */
function recordedUnits(): string[] {
  const units = join(cacheDir, "v1", "prefill", "units");
  return readdirSync(units).flatMap((key) => readdirSync(join(units, key)));
}

describe("prefill", () => {
  let cold: Built;
  let warm: Built;
  beforeAll(() => {
    cold = build();
    warm = build();
  });

  test("records the registry packages' units only", () => {
    expect(cold.prefilled).toEqual([]);
    const units = recordedUnits().map((f) => f.replace(/-[0-9a-f]{16}@[0-9a-f]{64}\.json$/, ""));
    expect([...new Set(units)].sort()).toEqual(["cc", "find-msvc-tools", "shlex", "typenum"]);
    // typenum: its lib, its build script's compile and its run.
    expect(units.filter((u) => u === "typenum")).toHaveLength(3);
  });

  test("a build in a fresh target dir starts no wrapper for them, and its binary is the same", () => {
    expect(warm.prefilled).toEqual(PREFILLED);
    for (const label of REGISTRY) expect(warm.wrapped).not.toContain(label);
    // The workspace's units still go through the wrapper, and hit.
    expect(warm.wrapped).toContain("app");
    expect(warm.events.filter((e) => e.outcome === "miss")).toEqual([]);
    expect(warm.output).toBe(cold.output);
    expect(warm.binary.equals(cold.binary)).toBe(true);
  });

  test("what is in the target dir already is left alone", () => {
    const rlib = readdirSync(join(dir, "target", "debug", "deps")).find((f) =>
      /^libtypenum-.*\.rlib$/.test(f),
    )!;
    const path = join(dir, "target", "debug", "deps", rlib);
    const before = statSync(path);
    // Without cargo's cached compiler info the probe runs again, and with it prefill.
    rmSync(join(dir, "target", ".rustc_info.json"));
    const again = build({}, { clean: false });
    expect(again.prefilled).toEqual([]);
    const after = statSync(path);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  test("under the sccache name the same records serve: the wrapper's name is not part of the command", () => {
    const shims = join(work, "shims");
    ok(galley(["shims", "install", shims], { cwd: dir }), "shims install");
    const renamed = build({ RUSTC_WRAPPER: join(shims, "sccache") });
    expect(renamed.prefilled).toEqual(PREFILLED);
    expect(renamed.binary.equals(cold.binary)).toBe(true);
  });

  test("another target dir is another command: its units go through the wrapper", () => {
    const other = build(
      { CARGO_TARGET_DIR: join(work, "other-target") },
      { target: join(work, "other-target") },
    );
    expect(other.prefilled).toEqual([]);
    expect(other.wrapped).toEqual(expect.arrayContaining(REGISTRY));
  });

  test("two builds of the command started together in one target dir both pass, the program right", async () => {
    removeDir(join(dir, "target"));
    const env = { ...process.env, RUSTC_WRAPPER: GALLEY, GALLEY_DIR: cacheDir, CARGO_INCREMENTAL: "0" };
    const builds = [0, 1].map(() =>
      Bun.spawn(["cargo", "build"], { cwd: dir, env, stdout: "pipe", stderr: "pipe" }),
    );
    const codes = await Promise.all(builds.map((b) => b.exited));
    expect(codes).toEqual([0, 0]);
    const app = join(dir, "target", "debug", "app");
    expect(readFileSync(app).equals(cold.binary)).toBe(true);
    expect(ok(run([app], { cwd: dir }), "app").stdout).toBe(cold.output);
  });

  test("GALLEY_PREFILL=0 turns it off", () => {
    const off = build({ GALLEY_PREFILL: "0" });
    expect(off.prefilled).toEqual([]);
    expect(off.wrapped).toEqual(expect.arrayContaining(REGISTRY));
    expect(off.binary.equals(cold.binary)).toBe(true);
  });

  test("a unit cargo builds differently now (another feature) is built, not taken from the record", () => {
    const manifest = join(dir, "app", "Cargo.toml");
    const original = readFileSync(manifest, "utf8");
    writeFileSync(
      manifest,
      original.replace('typenum = "=1.17.0"', 'typenum = { version = "=1.17.0", features = ["i128"] }'),
    );
    try {
      const changed = build();
      // typenum's lib with the feature is a new unit for cargo: compiled through the wrapper. (The
      // recorded one is put back too, and cargo leaves it unused, as it leaves a unit of other
      // features after a plain build.)
      expect(changed.wrapped).toContain("typenum");
      expect(changed.events.find((e) => e.crate === "typenum" && !e.prefilled)?.outcome).toBe("miss");
      expect(changed.output).toBe(cold.output);
    } finally {
      writeFileSync(manifest, original);
    }
  });

  test("a damaged blob: the unit is left to cargo and the wrapper, and the build passes", () => {
    const units = join(cacheDir, "v1", "prefill", "units");
    // A record file is named by its unit and digest, and holds the JSON. Every cargo command's
    // (the other target dir's test above recorded its own).
    const records = readdirSync(units).flatMap((key) =>
      readdirSync(join(units, key)).map(
        (f) =>
          JSON.parse(readFileSync(join(units, key, f), "utf8")) as {
            files: { path: string; digest?: string }[];
          },
      ),
    );
    // Every recorded typenum lib (the feature test above added one).
    for (const record of records) {
      const rlib = record.files.find((f) => /^deps\/libtypenum-.*\.rlib$/.test(f.path));
      if (!rlib?.digest) continue;
      const blob = join(cacheDir, "v1", "cas", rlib.digest.slice(0, 2), rlib.digest);
      const bytes = readFileSync(blob);
      bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
      writeFileSync(blob, bytes);
    }

    const damaged = build();
    expect(damaged.prefilled).not.toContain("typenum");
    // The wrapper finds the damaged blob too: counted, removed, compiled again.
    const typenum = damaged.events.find((e) => e.crate === "typenum" && !e.prefilled)!;
    expect(typenum.outcome).toBe("miss");
    expect(typenum.corrupt).toBe(1);
    expect(damaged.output).toBe(cold.output);
    expect(damaged.binary.equals(cold.binary)).toBe(true);

    // Recorded again from that build: the next one is whole.
    expect(build().prefilled).toEqual(PREFILLED);
  });
});

describe("the first warm build after a cold one", () => {
  test("takes the big blobs' digests from the memos the store wrote, without reading them again", () => {
    // A project and cache of its own: the first prefill of a command has no memo of its own yet.
    const ws = copyFixture("build-scripts", join(work, "ws-first"));
    const cache = join(work, "cache-first");
    const cold = build({}, { ws, cache });
    const units = join(cache, "v1", "prefill", "units");
    const records = readdirSync(units).flatMap((key) =>
      readdirSync(join(units, key)).map(
        (f) =>
          JSON.parse(readFileSync(join(units, key, f), "utf8")) as {
            label: string;
            files: { path: string; size: number; digest?: string }[];
          },
      ),
    );
    // The biggest blob of a recorded unit: the store memoised its digest as it wrote it.
    const [label, biggest] = records
      .flatMap((r) => r.files.filter((f) => f.digest).map((f) => [r.label, f] as const))
      .sort((a, b) => b[1].size - a[1].size)[0]!;
    expect(biggest.size).toBeGreaterThanOrEqual(1 << 20);
    const blob = join(cache, "v1", "cas", biggest.digest!.slice(0, 2), biggest.digest!);
    const h = sha256Hex(blob);
    const memo = join(cache, "v1", "digests", h.slice(0, 2), h);
    expect(existsSync(memo)).toBe(true);
    // That memo is what the prefill goes by: with another digest in it, the unit is left to cargo
    // (its wrapper reads the blob, finds it whole, and restores it). Reading the blob again, as the
    // first prefill used to, would have put the unit back.
    const [stamp, digest] = readFileSync(memo, "utf8").split(" ");
    expect(digest).toBe(biggest.digest!);
    writeFileSync(memo, `${stamp} ${sha256Hex("another")}`);

    const warm = build({}, { ws, cache });
    expect(warm.prefilled).toEqual(PREFILLED.filter((l) => l !== label));
    expect(warm.events.find((e) => e.crate === label && !e.prefilled)?.outcome).toBe("hit");
    expect(warm.output).toBe(cold.output);
    expect(warm.binary.equals(cold.binary)).toBe(true);
  });
});
