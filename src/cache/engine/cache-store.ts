/**
 * The store a wrapper process uses: the local disk store, with the configured shared store behind
 * it. The shared store's code is loaded only when one is configured. A configuration that cannot
 * be used is said once and the build goes on with the local cache.
 */
import { DiskStore } from "../store/disk.ts";
import type { StoreReport } from "../store/report.ts";
import type { Store } from "../store/store.ts";
import { describeError } from "./fail-open.ts";
import { noticeOnce } from "./notice.ts";
import type { StatEvent } from "./stats.ts";
import { storeConfig } from "./store-config.ts";

type Env = Record<string, string | undefined>;

export async function cacheStore(dir: string, env: Env, report: StoreReport): Promise<Store> {
  const local = new DiskStore(dir);
  try {
    const config = await storeConfig(env);
    if (!config) return local;
    const { openStore } = await import("../store/open.ts");
    return await openStore(config, local, dir, report);
  } catch (err) {
    noticeOnce("store-config", `${describeError(err)}; using the local cache only`);
    return local;
  }
}

/** Adds what the shared store's wrappers saw to the process's stats event. */
export function noteStoreReport(event: StatEvent, report: StoreReport): void {
  if (report.remoteRecords > 0) event.tier = "remote";
  else if (report.localRecords > 0) event.tier = "local";
  if (report.rejected) event.rejected = report.rejected;
  if (report.unsigned) event.unsigned = report.unsigned;
  if (report.remoteErrors) event.remoteErrors = report.remoteErrors;
  if (report.skipped) event.storeSkipped = true;
}
