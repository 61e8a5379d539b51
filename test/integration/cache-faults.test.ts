/**
 * Faults never fail a build that plain cargo passes, and nothing corrupt is ever restored:
 * damaged blobs, concurrent builds, kill -9 mid-store, read-only, full and unwritable caches.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readStats } from "../../src/cache/engine/stats.ts";
import { GALLEY, galley, ok, removeDir, run, tempDir } from "../helpers.ts";
import {
  ALL_UNITS,
  appOutput,
  type CacheProject,
  cachedBuild,
  cacheProject,
  loggingRustc,
} from "./cache-harness.ts";

const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanups.reverse()) c();
});
function project(cacheDir?: string): CacheProject {
  const p = cacheProject(cacheDir);
  cleanups.push(() => removeDir(join(p.dir, "..")));
  if (!cacheDir) cleanups.push(() => removeDir(join(p.cacheDir, "..")));
  return p;
}
const EXPECTED = "core: hello from corelib";

function blobFiles(cacheDir: string): string[] {
  const root = join(cacheDir, "v1", "cas");
  return readdirSync(root).flatMap((shard) =>
    readdirSync(join(root, shard)).map((f) => join(root, shard, f)),
  );
}

/** Action records that carry small blobs inside them (the local store's way with small outputs). */
function carryingRecords(cacheDir: string): string[] {
  const root = join(cacheDir, "v1", "ac");
  return readdirSync(root)
    .flatMap((shard) => readdirSync(join(root, shard)).map((f) => join(root, shard, f)))
    .filter((f) => readFileSync(f, "utf8").includes('"carried"'));
}

/** Flips a byte in the middle of every blob a record carries, keeping the record well-formed. */
function damageCarried(file: string): void {
  const record = JSON.parse(readFileSync(file, "utf8")) as { carried: Record<string, string> };
  for (const [digest, b64] of Object.entries(record.carried)) {
    const bytes = Buffer.from(b64, "base64");
    bytes[Math.floor(bytes.length / 2)] = bytes[Math.floor(bytes.length / 2)]! ^ 0x5a;
    record.carried[digest] = bytes.toString("base64");
  }
  writeFileSync(file, JSON.stringify(record));
}

/** Prefill's records: they carry small outputs inline, so they are damaged too. */
function prefillRecords(cacheDir: string): string[] {
  const root = join(cacheDir, "v1", "prefill", "units");
  return readdirSync(root).flatMap((key) => readdirSync(join(root, key)).map((f) => join(root, key, f)));
}

function canMount(): boolean {
  const dir = tempDir("galley-mount-");
  const r = run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir], { cwd: dir });
  if (r.code === 0) run(["umount", dir], { cwd: "/" });
  removeDir(dir);
  return r.code === 0;
}
const mountable = canMount();

describe("compiler cache faults", () => {
  test("flipped bytes in every blob and record: the build passes, nothing damaged is restored, damage is counted", () => {
    const p = project();
    cachedBuild(p);
    const records = prefillRecords(p.cacheDir);
    expect(records.length).toBeGreaterThan(0);
    const carrying = carryingRecords(p.cacheDir);
    expect(carrying.length).toBeGreaterThan(0);
    for (const f of [...blobFiles(p.cacheDir), ...records]) {
      const bytes = readFileSync(f);
      bytes[Math.floor(bytes.length / 2)] = bytes[Math.floor(bytes.length / 2)]! ^ 0x5a;
      writeFileSync(f, bytes);
    }
    for (const f of carrying) damageCarried(f);
    const b = cachedBuild(p);
    expect(b.hits).toEqual([]);
    expect(readStats(p.cacheDir).corruptEntries).toBeGreaterThan(0);
    expect(appOutput(p)).toContain(EXPECTED);
    // The damaged blobs were replaced by good ones: the next build hits everything.
    expect(cachedBuild(p).hits).toEqual(ALL_UNITS);
  });

  test("two builds in parallel on one cache directory both pass", async () => {
    const shared = join(tempDir("galley-shared-"), "cache");
    cleanups.push(() => removeDir(join(shared, "..")));
    const a = project(shared);
    const b = project(shared);
    const env = { ...process.env, RUSTC_WRAPPER: GALLEY, GALLEY_DIR: shared, CARGO_INCREMENTAL: "0" };
    const procs = [a, b].map((p) =>
      Bun.spawn(["cargo", "build"], { cwd: p.dir, env, stdout: "pipe", stderr: "pipe" }),
    );
    const codes = await Promise.all(procs.map((pr) => pr.exited));
    expect(codes).toEqual([0, 0]);
    expect(appOutput(a)).toContain(EXPECTED);
    expect(appOutput(b)).toContain(EXPECTED);
    const verify = galley(["cache", "verify"], { cwd: a.dir, env: { GALLEY_DIR: shared } });
    expect(verify.code).toBe(0);
    expect(cachedBuild(a).hits).toEqual(ALL_UNITS);
  });

  test("kill -9 of builds mid-store leaves nothing corrupt, and the next build passes", async () => {
    const p = project();
    const env = { ...process.env, RUSTC_WRAPPER: GALLEY, GALLEY_DIR: p.cacheDir, CARGO_INCREMENTAL: "0" };
    for (const delay of [150, 350, 600, 900]) {
      removeDir(join(p.dir, "target"));
      const proc = Bun.spawn(["setsid", "cargo", "build"], {
        cwd: p.dir,
        env,
        stdout: "ignore",
        stderr: "ignore",
      });
      await Bun.sleep(delay);
      run(["pkill", "-9", "-s", String(proc.pid)], { cwd: p.dir });
      await proc.exited;
    }
    const verify = galley(["cache", "verify"], { cwd: p.dir, env: { GALLEY_DIR: p.cacheDir } });
    expect(verify.stderr).toContain("removed 0 damaged");
    expect(verify.code).toBe(0);
    cachedBuild(p);
    expect(appOutput(p)).toContain(EXPECTED);
    expect(cachedBuild(p).hits).toEqual(ALL_UNITS);
  });

  test.skipIf(!mountable)("a read-only cache filesystem still serves hits", () => {
    const p = project();
    cachedBuild(p);
    const ro = tempDir("galley-ro-");
    ok(run(["mount", "--bind", p.cacheDir, ro], { cwd: "/" }), "bind mount");
    cleanups.push(() => {
      run(["umount", ro], { cwd: "/" });
      removeDir(ro);
    });
    ok(run(["mount", "-o", "remount,ro,bind", ro], { cwd: "/" }), "remount read-only");
    removeDir(join(p.dir, "target"));
    const rustc = loggingRustc();
    ok(
      run(["cargo", "build"], {
        cwd: p.dir,
        env: { RUSTC: rustc.path, RUSTC_WRAPPER: GALLEY, GALLEY_DIR: ro, CARGO_INCREMENTAL: "0" },
      }),
      "build with a read-only cache",
    );
    expect(rustc.compiled()).toEqual([]);
    expect(appOutput(p)).toContain(EXPECTED);
  });

  test.skipIf(!mountable)("a full cache filesystem: the build passes and says so once", () => {
    const full = tempDir("galley-full-");
    ok(run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", full], { cwd: "/" }), "mount tmpfs");
    cleanups.push(() => {
      run(["umount", full], { cwd: "/" });
      removeDir(full);
    });
    const p = project(full);
    const r = ok(
      run(["cargo", "build"], {
        cwd: p.dir,
        env: { RUSTC_WRAPPER: GALLEY, GALLEY_DIR: full, CARGO_INCREMENTAL: "0" },
      }),
      "build with a full cache",
    );
    expect(r.stderr.match(/galley: warning: could not store/g)?.length).toBe(1);
    expect(r.stderr).toContain("ENOSPC");
    expect(appOutput(p)).toContain(EXPECTED);
  });

  test("an unwritable GALLEY_DIR: the build passes and says so once", () => {
    const p = project("/dev/null/galley");
    const r = ok(
      run(["cargo", "build"], {
        cwd: p.dir,
        env: { RUSTC_WRAPPER: GALLEY, GALLEY_DIR: "/dev/null/galley", CARGO_INCREMENTAL: "0" },
      }),
      "build with an unwritable cache",
    );
    expect(r.stderr.match(/galley: warning: could not store/g)?.length).toBe(1);
    expect(appOutput(p)).toContain(EXPECTED);
  });

  test("an invalid GALLEY_CACHE_SIZE does not fail the build; it is said once, clearly", () => {
    const p = project();
    mkdirSync(p.cacheDir, { recursive: true });
    const r = ok(
      run(["cargo", "build"], {
        cwd: p.dir,
        env: {
          RUSTC_WRAPPER: GALLEY,
          GALLEY_DIR: p.cacheDir,
          GALLEY_CACHE_SIZE: "lots",
          CARGO_INCREMENTAL: "0",
        },
      }),
      "build with a bad size",
    );
    expect(r.stderr.match(/GALLEY_CACHE_SIZE="lots" is not a size/g)?.length).toBe(1);
    expect(appOutput(p)).toContain(EXPECTED);
  });
});

test("restored files are fresh files, never hard links into the store", () => {
  const p = project();
  cachedBuild(p);
  const warm = cachedBuild(p);
  expect(warm.hits).toEqual(ALL_UNITS);
  const blobs = new Set(blobFiles(p.cacheDir).map((f) => statSync(f).ino));
  const deps = join(p.dir, "target/debug/deps");
  for (const name of readdirSync(deps)) {
    const st = statSync(join(deps, name));
    if (!st.isFile()) continue;
    expect(blobs.has(st.ino)).toBe(false);
  }
  // Changing a restored file in place (as strip does) leaves the store intact.
  const rlib = readdirSync(deps).find((n) => n.startsWith("libcorelib-") && n.endsWith(".rlib"))!;
  writeFileSync(join(deps, rlib), "stripped");
  const v = galley(["cache", "verify"], { cwd: p.dir, env: { GALLEY_DIR: p.cacheDir } });
  expect(v.stderr).toContain("removed 0 damaged");
});

const hasBtrfs = mountable && run(["which", "mkfs.btrfs"], { cwd: "/" }).code === 0;

test.skipIf(!hasBtrfs)(
  "on a file system with reflinks, restores are copy-on-write clones of the store's blobs",
  () => {
    const base = tempDir("galley-btrfs-");
    const image = join(base, "fs.img");
    const mnt = join(base, "mnt");
    mkdirSync(mnt);
    ok(run(["truncate", "-s", "512M", image], { cwd: base }), "truncate");
    ok(run(["mkfs.btrfs", "-q", image], { cwd: base }), "mkfs.btrfs");
    ok(run(["mount", "-o", "loop", image, mnt], { cwd: base }), "mount the btrfs image");
    cleanups.push(() => {
      run(["umount", mnt], { cwd: "/" });
      removeDir(base);
    });
    const p = cacheProject(join(mnt, "cache"));
    const onBtrfs: CacheProject = { dir: join(mnt, "cache-ws"), cacheDir: p.cacheDir };
    ok(run(["cp", "-r", p.dir, onBtrfs.dir], { cwd: base }), "copy the project onto btrfs");
    removeDir(join(p.dir, ".."));
    cachedBuild(onBtrfs);
    expect(cachedBuild(onBtrfs).hits).toEqual(ALL_UNITS);
    const deps = join(onBtrfs.dir, "target/debug/deps");
    // The biggest output: small ones travel inside their records and are written, not cloned.
    const rlib = readdirSync(deps)
      .filter((n) => /\.(rlib|so)$/.test(n))
      .map((n) => join(deps, n))
      .sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    expect(statSync(rlib).size).toBeGreaterThan(64 * 1024);
    expect(ok(run(["filefrag", "-v", rlib], { cwd: base })).stdout).toContain("shared");
    // Copy-on-write: changing the restored file leaves the blob whole.
    writeFileSync(rlib, "stripped");
    expect(
      galley(["cache", "verify"], { cwd: base, env: { GALLEY_DIR: onBtrfs.cacheDir } }).stderr,
    ).toContain("removed 0 damaged");
    expect(appOutput(onBtrfs)).toContain(EXPECTED);
  },
);
