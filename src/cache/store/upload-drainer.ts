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
import { drainUploads } from "./upload-queue.ts";

export async function runUploadDrainer(env: Record<string, string | undefined>): Promise<number> {
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
  if (result) recordUploads(dir, result.sent + result.dropped, result.dropped);
  store?.close?.();
  return 0;
}
