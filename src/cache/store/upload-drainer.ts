/**
 * The detached process that drains the upload queue (`galley --galley-upload`, started by a
 * wrapper whose upload outlived its grace): it sends every queued job through the guarded shared
 * store, and when the store fails it drops the rest and counts them in the stats.
 */
import { cacheStore } from "../engine/cache-store.ts";
import { cacheConfig } from "../engine/config.ts";
import { recordUploads } from "../engine/stats.ts";
import { storeConfig } from "../engine/store-config.ts";
import { Breaker } from "./breaker.ts";
import { DiskStore } from "./disk.ts";
import { newReport } from "./report.ts";
import { TieredStore } from "./tiered.ts";
import { type DrainResult, drainerRunning, drainUploads, queuedJobs, queueWaiting } from "./upload-queue.ts";

type Env = Record<string, string | undefined>;

export async function runUploadDrainer(env: Env): Promise<number> {
  await drainOnce(env);
  return 0;
}

/**
 * `galley cache flush`: drains the queue here (or waits while another drainer does), until it is
 * empty or `withinMs` has passed.
 */
export async function flushUploads(
  env: Env,
  withinMs = 10 * 60 * 1000,
): Promise<{ sent: number; dropped: number; waiting: number }> {
  const dir = cacheConfig(env).dir;
  const end = Date.now() + withinMs;
  const total = { sent: 0, dropped: 0 };
  while (Date.now() < end) {
    const result = await drainOnce(env);
    if (result) {
      total.sent += result.sent;
      total.dropped += result.dropped;
    }
    if (!queueWaiting(dir) && !drainerRunning(dir)) return { ...total, waiting: 0 };
    // Another drainer holds the queue: wait for it.
    await Bun.sleep(200);
  }
  return { ...total, waiting: queuedJobs(dir) };
}

async function drainOnce(env: Env): Promise<DrainResult | undefined> {
  const dir = cacheConfig(env).dir;
  const config = await storeConfig(env).catch(() => undefined);
  const store = config ? await cacheStore(dir, env, newReport()) : undefined;
  const local = new DiskStore(dir);
  // No shared store to reach (not configured now, or another process found it failing): every
  // job is dropped, and counted.
  const reachable = store instanceof TieredStore && config !== undefined;
  const breaker = config ? new Breaker(dir, config) : undefined;
  const result = await drainUploads(dir, local, reachable ? store.remote : local, () =>
    reachable ? breaker!.isOpen() : true,
  );
  if (result && result.sent + result.dropped > 0)
    recordUploads(dir, result.sent + result.dropped, result.dropped);
  store?.close?.();
  return result;
}
