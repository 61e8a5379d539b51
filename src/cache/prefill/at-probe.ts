/** Prefill as the first `rustc -vV` probe of a build runs it: quiet, and never in the way of the build. */
import { existsSync } from "node:fs";
import { debug } from "../../util/term.ts";
import { BUILD_SCRIPT_LABEL, buildScriptUnit } from "../build-script/unit.ts";
import { cacheStore } from "../engine/cache-store.ts";
import { cacheConfig } from "../engine/config.ts";
import { FileDigests } from "../engine/file-digest.ts";
import { beQuiet } from "../engine/notice.ts";
import { kindOf, recordProbeFaults, recordStats } from "../engine/stats.ts";
import { storeConfig } from "../engine/store-config.ts";
import { DiskStore } from "../store/disk.ts";
import { newReport } from "../store/report.ts";
import { CorruptEntry } from "../store/store.ts";
import { prefillOff } from "./capture.ts";
import { type CargoCall, cargoCallOf } from "./cargo-call.ts";
import { claimBuild, prefillTarget } from "./restore.ts";
import { fetchIndex } from "./shared-index.ts";
import { recordsDir } from "./unit-record.ts";

type Env = Record<string, string | undefined>;

export async function prefillAtProbe(rustc: string, env: Env): Promise<void> {
  if (prefillOff(env)) return;
  beQuiet();
  try {
    const dir = cacheConfig(env).dir;
    const call = cargoCallOf(rustc, dir, env);
    if (!call) return;
    const started = performance.now();
    let shared = false;
    if (existsSync(recordsDir(dir, call.key))) {
      if (!claimBuild(dir)) return;
    } else {
      // None here: a fresh machine may take the shared store's (what a CI runner needs).
      if (!(await storeConfig(env)) || !claimBuild(dir)) return;
      shared = await fromSharedStore(dir, call, env);
      if (!shared) return;
    }
    const result = prefillTarget(dir, call, new DiskStore(dir), new FileDigests(dir));
    if (!result) return;
    if (shared) for (const event of result.restored) event.tier = "remote";
    recordStats(
      dir,
      result.restored.map((event) => ({
        event,
        info:
          kindOf(event.crate) === "buildScript"
            ? buildScriptUnit(event.crate!.slice(BUILD_SCRIPT_LABEL.length))
            : { kind: "rustc" as const, name: event.crate ?? "?" },
      })),
    );
    debug(
      `prefill: ${result.restored.length} units restored in ${(performance.now() - started).toFixed(1)} ms; ${result.present} already there; ${result.unavailable} with a blob missing`,
    );
  } catch (err) {
    // cargo builds whatever is not there
    debug(`prefill: ${(err as Error).message}`);
  }
}

async function fromSharedStore(dir: string, call: CargoCall, env: Env): Promise<boolean> {
  const report = newReport();
  const store = await cacheStore(dir, env, report);
  let corrupt = 0;
  try {
    return !(store instanceof DiskStore) && (await fetchIndex(dir, call, store)) > 0;
  } catch (err) {
    // A damaged index, record or blob: prefill takes nothing more from the store, the units are cargo's.
    if (!(err instanceof CorruptEntry)) throw err;
    corrupt++;
    return false;
  } finally {
    store.close?.();
    // What the probe met is counted (and said by the next process of the build: this one is quiet).
    const faults = {
      corrupt,
      remoteErrors: report.remoteErrors,
      rejected: report.rejected,
      unsigned: report.unsigned,
    };
    if (Object.values(faults).some((n) => n > 0)) recordProbeFaults(dir, faults);
  }
}
