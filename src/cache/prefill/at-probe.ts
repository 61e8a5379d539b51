/** Prefill as the first `rustc -vV` probe of a build runs it: quiet, and never in the way of the build. */
import { existsSync } from "node:fs";
import { debug } from "../../util/term.ts";
import { cacheConfig } from "../engine/config.ts";
import { FileDigests } from "../engine/file-digest.ts";
import { recordStats } from "../engine/stats.ts";
import { DiskStore } from "../store/disk.ts";
import { cargoCallOf } from "./cargo-call.ts";
import { claimBuild, prefillTarget } from "./restore.ts";
import { recordsDir } from "./unit-record.ts";

/** `GALLEY_PREFILL=0` turns prefill off: every unit then goes through the wrapper. */
export const PREFILL_VAR = "GALLEY_PREFILL";

export function prefillAtProbe(rustc: string, env: Record<string, string | undefined>): void {
  if (env[PREFILL_VAR] === "0") return;
  try {
    const dir = cacheConfig(env).dir;
    const call = cargoCallOf(rustc, dir, env);
    if (!call || !existsSync(recordsDir(dir, call.key)) || !claimBuild(dir)) return;
    const started = performance.now();
    const result = prefillTarget(dir, call, new DiskStore(dir), new FileDigests(dir));
    if (!result) return;
    recordStats(
      dir,
      result.restored.map((event) => ({
        event,
        info: event.crate?.startsWith("build_script:")
          ? { kind: "build-script" as const, name: `${event.crate.slice(13)} (build script run)` }
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
