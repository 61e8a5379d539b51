/** How a wrapper ends when it does not hit: failures fail open, misses compile and are counted. */
import { noticeOnce } from "./notice.ts";
import { type Captured, runCapturing, runPlain } from "./run-compiler.ts";
import { recordStat, type StatEvent } from "./stats.ts";

export function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code}` : err instanceof Error ? err.message : String(err);
}

export async function failOpen(
  dir: string,
  err: unknown,
  argv: string[],
  event: StatEvent,
  env?: Record<string, string | undefined>,
): Promise<number> {
  noticeOnce("lookup", `cache unavailable at ${dir} (${describeError(err)}); compiling without it`);
  event.outcome = "error";
  event.reason = describeError(err);
  const code = await runPlain(argv, env);
  recordStat(dir, event);
  return code;
}

export function storeFailed(dir: string, err: unknown, event: StatEvent): void {
  event.outcome = "error";
  event.reason = describeError(err);
  noticeOnce(
    "store",
    `could not store in the cache at ${dir} (${describeError(err)}); builds go on without storing`,
  );
}

/** A miss: compile with the output kept, timed into the event; a failed compile is counted here. */
export async function compileMiss(
  argv: string[],
  dir: string,
  event: StatEvent,
  env?: Record<string, string | undefined>,
): Promise<Captured> {
  const started = performance.now();
  const compiled = await runCapturing(argv, env);
  event.compileMs = Math.round(performance.now() - started);
  if (compiled.code !== 0) {
    event.reason = "compile failed";
    if (fromBuildScript(process.env)) event.probe = true;
    recordStat(dir, event);
  }
  return compiled;
}

/**
 * Whether a build script started this compiler: cargo sets `HOST` and the `CARGO_CFG_*` variables
 * only for build-script runs. Feature probes (anyhow, thiserror, proc-macro2, cc-rs flag checks)
 * compile on purpose what may fail, so their failures are expected.
 */
function fromBuildScript(env: NodeJS.ProcessEnv): boolean {
  return env.HOST !== undefined && env.CARGO_CFG_TARGET_ARCH !== undefined;
}
