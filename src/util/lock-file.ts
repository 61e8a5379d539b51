/**
 * A lock held by creating a file (O_EXCL), for work one process at a time should do; a lock older
 * than `staleMs` belongs to a process that died and is taken over.
 */
import { mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** The release function, or undefined when another process holds the lock. */
export function tryLockFile(path: string, staleMs: number): (() => void) | undefined {
  try {
    if (Date.now() - statSync(path).mtimeMs > staleMs) rmSync(path, { force: true });
  } catch {}
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, String(process.pid), { flag: "wx" });
  } catch {
    return undefined;
  }
  return () => rmSync(path, { force: true });
}
