/**
 * Eviction off the hot path: now and then, a wrapper that stored something starts a detached
 * `galley cache gc --auto` and does not wait for it. The gc takes a lock, so one runs at a time.
 */
import { isCompiled } from "../../util/compiled.ts";

/** One store in this many starts a gc: the size check walks the whole store. */
const EVERY = 32;

export function maybeStartGc(env: Record<string, string | undefined>, random = Math.random()): boolean {
  if (random * EVERY >= 1 && env.GALLEY_GC_ALWAYS !== "1") return false;
  if (!isCompiled()) return false;
  try {
    const child = Bun.spawn([process.execPath, "cache", "gc", "--auto"], {
      env: env as Record<string, string>,
      stdio: ["ignore", "ignore", "ignore"],
    });
    child.unref();
    return true;
  } catch {
    return false;
  }
}
