/** The size limit holds without anyone running gc: builds start it, detached, after storing. */
import { afterAll, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readStats } from "../../src/cache/engine/stats.ts";
import { DiskStore } from "../../src/cache/store/disk.ts";
import { removeDir } from "../helpers.ts";
import { appOutput, cachedBuild, cacheProject } from "./cache-harness.ts";

const p = cacheProject();
afterAll(() => {
  removeDir(join(p.dir, ".."));
  removeDir(join(p.cacheDir, ".."));
});

test("a build over GALLEY_CACHE_SIZE evicts least recently used entries by itself", async () => {
  const limit = 512 * 1024;
  cachedBuild(p, { env: { GALLEY_CACHE_SIZE: String(limit), GALLEY_GC_ALWAYS: "1" } });
  const written = readStats(p.cacheDir).bytesWritten;
  expect(written).toBeGreaterThan(limit);
  // Let the last detached gc finish.
  for (let i = 0; i < 100 && existsSync(join(p.cacheDir, "v1", "gc.lock")); i++) await Bun.sleep(100);
  await Bun.sleep(200);
  const store = new DiskStore(p.cacheDir);
  expect(store.sizeBytes()).toBeLessThan(written);
  // Whatever was evicted, the next build is still right.
  cachedBuild(p, { env: { GALLEY_CACHE_SIZE: String(limit) } });
  expect(appOutput(p)).toContain("core: hello from corelib");
});

test("gc runs in one process at a time", () => {
  const store = new DiskStore(join(p.cacheDir, "..", "lock-test"));
  const first = store.gcLocked(1);
  expect(first).toBeDefined();
  // A fresh lock held by someone else: this gc steps aside.
  writeFileSync(join(p.cacheDir, "..", "lock-test", "v1", "gc.lock"), "12345");
  expect(store.gcLocked(1)).toBeUndefined();
});
