/**
 * File digests memoised on disk by path + size + mtime + inode + ctime, so that a wrapper process
 * does not re-read a 10 MB rlib that an earlier one already hashed. On a file system with coarse
 * (whole-second) timestamps, a file changed in the last two seconds is hashed again: a same-size
 * edit within the clock's resolution would keep its stamp ("racy" mtime).
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isDigest, sha256Hex } from "./digest.ts";

const RACY_MS = 2000;
/** Smaller files are hashed again rather than memoised: hashing 1 MiB costs less than a memo write. */
const MEMO_MIN_BYTES = 1 << 20;

function isRacy(st: { mtimeMs: number; ctimeMs: number }): boolean {
  const coarse = st.mtimeMs % 1000 === 0 && st.ctimeMs % 1000 === 0;
  return coarse && Date.now() - Math.max(st.mtimeMs, st.ctimeMs) < RACY_MS;
}

export class FileDigests {
  private readonly memoDir: string | undefined;
  private readonly seen = new Map<string, string>();

  constructor(cacheDir: string | undefined) {
    this.memoDir = cacheDir ? join(cacheDir, "v1", "digests") : undefined;
  }

  /** The file's SHA-256, or undefined when it does not exist. */
  digest(path: string): string | undefined {
    const cached = this.seen.get(path);
    if (cached) return cached;
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(path);
    } catch {
      return undefined;
    }
    if (!st.isFile()) return undefined;
    const stamp = `${st.size}:${st.mtimeMs}:${st.ino}:${st.ctimeMs}`;
    const memo = st.size >= MEMO_MIN_BYTES && !isRacy(st) ? this.memoPath(path) : undefined;
    if (memo) {
      try {
        const [savedStamp, digest] = readFileSync(memo, "utf8").split(" ");
        if (savedStamp === stamp && digest && isDigest(digest)) {
          this.seen.set(path, digest);
          return digest;
        }
      } catch {}
    }
    const digest = sha256Hex(readFileSync(path));
    this.seen.set(path, digest);
    if (memo) this.remember(memo, stamp, digest);
    return digest;
  }

  /** Records a digest galley already knows (a file it just wrote from known bytes). */
  record(path: string, digest: string): void {
    this.seen.set(path, digest);
    const memo = this.memoPath(path);
    if (!memo) return;
    try {
      const st = statSync(path);
      if (isRacy(st) || st.size < MEMO_MIN_BYTES) return;
      this.remember(memo, `${st.size}:${st.mtimeMs}:${st.ino}:${st.ctimeMs}`, digest);
    } catch {}
  }

  private memoPath(path: string): string | undefined {
    if (!this.memoDir) return undefined;
    const h = sha256Hex(path);
    return join(this.memoDir, h.slice(0, 2), h);
  }

  private remember(memo: string, stamp: string, digest: string): void {
    try {
      mkdirSync(join(memo, ".."), { recursive: true });
      // In place: a torn memo fails the stamp or digest check and is recomputed; writers of one
      // stamp write the same bytes.
      writeFileSync(memo, `${stamp} ${digest}`);
    } catch {
      // a memo is an optimisation only
    }
  }
}
