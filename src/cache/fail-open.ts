/** Any internal failure: say it once per build, count it, and compile as if galley were not there. */
import { noticeOnce } from "./notice.ts";
import { runPlain } from "./run-compiler.ts";
import { recordStat, type StatEvent } from "./stats.ts";

export function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code}` : err instanceof Error ? err.message : String(err);
}

export async function failOpen(dir: string, err: unknown, argv: string[], event: StatEvent): Promise<number> {
  noticeOnce("lookup", `cache unavailable at ${dir} (${describeError(err)}); compiling without it`);
  event.outcome = "error";
  event.reason = describeError(err);
  recordStat(dir, event);
  return await runPlain(argv);
}

export function storeFailed(dir: string, err: unknown, event: StatEvent): void {
  event.outcome = "error";
  event.reason = describeError(err);
  noticeOnce(
    "store",
    `could not store in the cache at ${dir} (${describeError(err)}); builds go on without storing`,
  );
}
