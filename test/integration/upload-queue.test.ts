/**
 * Writes to a shared store never hold a build up: what the store does not take within the grace
 * goes to the background queue, whose detached drainer sends it from the local store; a store that
 * hangs on writes costs the grace once, not a request's time-out per wrapper, and what the drainer
 * cannot send is dropped and counted.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { readStats } from "../../src/cache/engine/stats.ts";
import { GALLEY, removeDir, tempDir } from "../helpers.ts";
import { type RedisServer, startRedis } from "../servers.ts";
import { cacheProject, edit } from "./cache-harness.ts";
import { build } from "./hostile/machines.ts";
import { type RedisProxy, startRedisProxy } from "./hostile/redis-proxy.ts";

let redis: RedisServer;
let proxy: RedisProxy;
const dirs: string[] = [];
beforeAll(async () => {
  redis = await startRedis();
  proxy = await startRedisProxy(redis.port);
});
afterAll(async () => {
  await proxy?.stop();
  await redis?.stop();
  for (const d of dirs) removeDir(d);
});

/** Waits until the cache dir's upload queue is empty and no drainer holds it. */
async function drained(cacheDir: string, withinMs: number): Promise<boolean> {
  const end = Date.now() + withinMs;
  const queue = join(cacheDir, "v1", "uploads");
  while (Date.now() < end) {
    const waiting = existsSync(queue) && readdirSync(queue).some((n) => n.endsWith(".json"));
    if (!waiting && !existsSync(join(cacheDir, "v1", "uploads.lock"))) return true;
    await Bun.sleep(100);
  }
  return false;
}

test("uploads left to the background queue reach the shared store: another machine's build hits", async () => {
  proxy.mode = { writes: "forward" };
  const a = cacheProject();
  dirs.push(join(a.dir, ".."), join(a.cacheDir, ".."));
  // A grace of 0: every upload of this build goes through the queue and its drainer.
  const env = { ...proxy.env(), GALLEY_STORE_WRITE_GRACE_MS: "0" };
  const first = await build(a.dir, a.cacheDir, env);
  expect(first.code).toBe(0);
  // A CI job's last step: the queue is sent (here or by the drainer) before the job ends.
  const flush = Bun.spawn([GALLEY, "cache", "flush"], {
    env: { ...process.env, ...env, GALLEY_DIR: a.cacheDir },
    stdout: "pipe",
    stderr: "pipe",
  });
  const said = await new Response(flush.stderr).text();
  expect(await flush.exited).toBe(0);
  expect(said).toContain("upload queue empty");
  expect(await drained(a.cacheDir, 1000)).toBe(true);
  const sent = readStats(a.cacheDir);
  expect(sent.uploadsQueued).toBeGreaterThan(0);
  expect(sent.uploadsDropped).toBe(0);

  const b = join(tempDir("galley-machine-b-"), "cache");
  dirs.push(join(b, ".."));
  const second = await build(a.dir, b, proxy.env());
  expect(second.code).toBe(0);
  const stats = readStats(b);
  expect(stats.misses).toBe(0);
  expect(stats.remoteHits).toBeGreaterThan(0);
});

test("a store that answers lookups and hangs on writes costs the grace, not a time-out; what it never took is dropped and counted", async () => {
  const p = cacheProject();
  dirs.push(join(p.dir, ".."), join(p.cacheDir, ".."));
  // The local cache first, without a shared store: the build after an edit has a miss or two.
  expect((await build(p.dir, p.cacheDir, {})).code).toBe(0);
  const restore = edit(join(p.dir, "app", "src", "main.rs"), /$/, "\n// an edit\n");
  try {
    proxy.mode = { fault: "hangWrites", writes: "hang" };
    // A long request time-out: a wrapper that waited for its write would take all of it.
    const env = { ...proxy.env(), GALLEY_STORE_TIMEOUT_MS: "12000" };
    const hung = await build(p.dir, p.cacheDir, env);
    expect(hung.code).toBe(0);
    expect(hung.ms).toBeLessThan(9000);
    const said = hung.stderr.split("\n").filter((l) => l.includes("did not take an upload"));
    expect(said.length).toBe(1);
    // The drainer gives up after the time-out, drops what it could not send, and counts it.
    expect(await drained(p.cacheDir, 40_000)).toBe(true);
    expect(readStats(p.cacheDir).uploadsDropped).toBeGreaterThan(0);
  } finally {
    restore();
    proxy.mode = { writes: "forward" };
  }
});
