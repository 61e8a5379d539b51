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
  recordStat(dir, event);
  return await runPlain(argv, env);
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
    recordStat(dir, event);
  }
  return compiled;
}
