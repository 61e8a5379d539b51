/**
 * File digests memoised on disk by path + size + mtime + inode + ctime, so that a wrapper process
 * does not re-read a 10 MB rlib that an earlier one already hashed, nor a crate's sources on every
 * hit. A file changed a moment ago is hashed again and not memoised: a same-size edit within the
 * clock's resolution (the kernel's timer tick; a whole second on coarse file systems) would keep
 * its stamp ("racy" mtime).
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileSha256, isDigest, sha256Hex } from "./digest.ts";

const RACY_MS = 2000;
/** Timestamps come from the kernel's coarse clock (a few ms per tick): well above that. */
const RACY_FINE_MS = 100;
/**
 * Smaller files are hashed again rather than memoised. Above it, a memo read is cheaper than a
 * read and a hash: a dependency's .rmeta (a few hundred KB) is read by each of its dependents, and
 * hashing those again was ~220 MB per cold build of a 200-crate service.
 */
const MEMO_MIN_BYTES = 64 * 1024;

/**
 * Whether the file may still change without its stamp changing. `ownWrite`: galley wrote the
 * file itself just now from bytes it knows; only a coarse clock can hide a later change then.
 */
function isRacy(st: { mtimeMs: number; ctimeMs: number }, ownWrite = false): boolean {
  const coarse = st.mtimeMs % 1000 === 0 && st.ctimeMs % 1000 === 0;
  if (ownWrite && !coarse) return false;
  return Date.now() - Math.max(st.mtimeMs, st.ctimeMs) < (coarse ? RACY_MS : RACY_FINE_MS);
}

/** One unit's source files: path -> "stamp digest". */
interface Group {
  file: string;
  entries: Record<string, string>;
  dirty: boolean;
}

export class FileDigests {
  private readonly memoDir: string | undefined;
  private readonly seen = new Map<string, string>();
  private group: Group | undefined;

  constructor(cacheDir: string | undefined) {
    this.memoDir = cacheDir ? join(cacheDir, "v1", "digests") : undefined;
  }

  /** The file's SHA-256, or undefined when it does not exist. */
  digest(path: string): string | undefined {
    return this.digestOf(path, undefined);
  }

  /**
   * Memoises the files digested through sourceDigest together, in one file per unit (`name`): a
   * crate's hundreds of small sources cost one read and a stat each, not a read and a hash each.
   */
  openGroup(name: string): void {
    if (!this.memoDir || this.group) return;
    const file = join(this.memoDir, "units", name);
    let entries: Record<string, string> = {};
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
      if (typeof parsed === "object" && parsed !== null) entries = parsed as Record<string, string>;
    } catch {}
    this.group = { file, entries, dirty: false };
  }

  /** Writes the group's memo if it changed (whole, by rename: two builds may share a unit). */
  closeGroup(): void {
    const g = this.group;
    if (!g?.dirty) return;
    g.dirty = false;
    const tmp = `${g.file}.${process.pid}`;
    try {
      mkdirSync(join(g.file, ".."), { recursive: true });
      writeFileSync(tmp, JSON.stringify(g.entries));
      renameSync(tmp, g.file);
    } catch {
      // a memo is an optimisation only
    }
  }

  /** A source file's SHA-256 (undefined when it does not exist), memoised in the open group. */
  sourceDigest(path: string): string | undefined {
    return this.digestOf(path, this.group);
  }

  /**
   * Memoised in the group when there is one, else (big files only) in a memo of its own. A big file
   * the group does not know yet is looked up in its own memo too: the local store memoises a big
   * blob as it writes it, and the first prefill after a cold build (a new group) would otherwise
   * read every blob again, most of a warm build's time.
   */
  private digestOf(path: string, group: Group | undefined): string | undefined {
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
    const racy = isRacy(st);
    const known = (line: string | undefined): string | undefined => {
      const [savedStamp, saved] = (line ?? "").split(" ");
      return savedStamp === stamp && saved && isDigest(saved) ? saved : undefined;
    };
    const memo = st.size >= MEMO_MIN_BYTES && !racy ? this.memoPath(path) : undefined;
    const inGroup = group && known(group.entries[path]);
    const saved = inGroup || (memo ? known(readMemo(memo)) : undefined);
    if (saved) {
      this.seen.set(path, saved);
      if (group && !inGroup) {
        group.entries[path] = `${stamp} ${saved}`;
        group.dirty = true;
      }
      return saved;
    }
    // In chunks: a big source (an include_bytes! blob) or blob is never held whole.
    const digest = fileSha256(path);
    this.seen.set(path, digest);
    if (group && !racy) {
      group.entries[path] = `${stamp} ${digest}`;
      group.dirty = true;
    } else if (memo) this.remember(memo, stamp, digest);
    return digest;
  }

  /** Records a digest galley already knows (a file it just wrote from known bytes). */
  record(path: string, digest: string): void {
    this.seen.set(path, digest);
    const memo = this.memoPath(path);
    if (!memo) return;
    try {
      const st = statSync(path);
      if (isRacy(st, true) || st.size < MEMO_MIN_BYTES) return;
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

function readMemo(memo: string): string | undefined {
  try {
    return readFileSync(memo, "utf8");
  } catch {
    return undefined;
  }
}
