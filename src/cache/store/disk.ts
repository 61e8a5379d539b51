/**
 * The local store: plain files under one directory, safe with many concurrent writers (each write
 * goes to a private temporary file and is renamed into place, so a reader sees a whole entry or
 * none) and with two builds sharing the directory. Blobs are kept uncompressed so that a restore
 * can be a reflink or a plain copy; small ones travel inside the records that name them.
 */
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { tryLockFile } from "../../util/lock-file.ts";
import { isDigest, sha256Hex } from "../engine/digest.ts";
import { FileBlobSink, renameInto } from "./blob-sink.ts";
import {
  type ActionResult,
  CorruptEntry,
  isActionResult,
  namedBlobs,
  type Store,
  type StoredRecord,
} from "./store.ts";

const LAYOUT = "v1";
/** Temporary files older than this belong to a writer that died (kill -9) and are removed by gc. */
const STALE_TMP_MS = 60 * 60 * 1000;
const TOUCH_EVERY_MS = 60 * 60 * 1000;
/** Blobs up to this size travel inside the records that name them. */
const CARRY_MAX_BYTES = 16 * 1024;
const STALE_MEMO_MS = 7 * 24 * 60 * 60 * 1000;

export class DiskStore implements Store {
  readonly name = "disk";
  private readonly base: string;
  private readonly tmp: string;
  private counter = 0;

  constructor(readonly dir: string) {
    this.base = join(dir, LAYOUT);
    this.tmp = join(this.base, "tmp");
  }

  async getAction(key: string): Promise<ActionResult | undefined> {
    const path = this.path("ac", key);
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      return undefined;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (!isActionResult(value) || !carriedIntact(value)) {
      rmSync(path, { force: true });
      throw new CorruptEntry(`action ${key}`);
    }
    touch(path);
    return value;
  }

  async putAction(key: string, result: ActionResult): Promise<void> {
    this.writeAtomic(this.path("ac", key), JSON.stringify(result));
  }

  /**
   * Records carry the small blobs they name (up to CARRY_MAX_BYTES each): a miss of a small crate
   * created ~10 files, and creating a file is the costliest part of storing a small blob; a hit
   * then reads them with its record. A blob an output carries inline is not written again. Any
   * other blob (a big one, or one no record names) is a file of its own.
   */
  async putResults(blobs: Map<string, Uint8Array>, records: StoredRecord[]): Promise<void> {
    const small = (d: string) => (blobs.get(d)?.length ?? Infinity) <= CARRY_MAX_BYTES;
    const named = records.map(({ key, result }) => ({
      key,
      result,
      digests: namedBlobs(result),
      inline: new Set(result.outputs.flatMap((o) => (o.inline === undefined ? [] : [o.digest]))),
    }));
    // A file for a blob no record names, and for a big one some record names without holding it.
    const files = new Set([...blobs.keys()].filter((d) => !named.some((r) => r.digests.includes(d))));
    for (const r of named) for (const d of r.digests) if (!small(d) && !r.inline.has(d)) files.add(d);
    for (const [digest, bytes] of blobs) if (files.has(digest)) await this.putBlob(digest, bytes);
    for (const { key, result, digests, inline } of named) {
      const entries: Record<string, string> = {};
      for (const d of digests)
        if (small(d) && !inline.has(d)) entries[d] = Buffer.from(blobs.get(d)!).toString("base64");
      await this.putAction(key, Object.keys(entries).length > 0 ? { ...result, carried: entries } : result);
    }
  }

  async getBlob(digest: string): Promise<Uint8Array | undefined> {
    const path = this.path("cas", digest);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      return undefined;
    }
    if (sha256Hex(bytes) !== digest) {
      rmSync(path, { force: true });
      throw new CorruptEntry(`blob ${digest}`);
    }
    touch(path);
    return bytes;
  }

  async putBlob(digest: string, bytes: Uint8Array): Promise<void> {
    const path = this.path("cas", digest);
    // An existing blob is kept only if it is intact: a damaged one is replaced (self-healing).
    if (isIntact(path, digest)) return touch(path);
    this.writeAtomic(path, bytes);
  }

  /**
   * A compiler's big output, hashed as it is copied in: reading a 12 MB rlib whole into fresh
   * memory, then hashing and writing it, cost ~35% more CPU (the page faults of the buffer). The
   * copy replaces a blob of the same digest already there: its bytes are right by construction,
   * and checking the old one would read it all again (a damaged one is replaced either way).
   */
  async putBlobFile(file: string): Promise<{ digest: string; size: number }> {
    const tmp = this.tmpFile();
    try {
      const copied = copyHashing(file, tmp);
      this.renameInto(tmp, this.path("cas", copied.digest));
      return copied;
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }

  /** A big blob from a shared store, written to a temporary file and renamed into place once checked. */
  blobSink(digest: string, size: number): FileBlobSink {
    const path = this.path("cas", digest);
    return new FileBlobSink(digest, size, this.tmpFile(), (tmp) => this.renameInto(tmp, path));
  }

  /**
   * The blob's file, for a restore that copies it in the kernel (a reflink where the file system
   * has them) instead of reading it: not verified here, the caller checks its digest.
   */
  localBlobPath(digest: string): string | undefined {
    const path = this.path("cas", digest);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return undefined;
    touch(path, st.mtimeMs);
    return path;
  }

  async hasBlob(digest: string): Promise<boolean> {
    return exists(this.path("cas", digest));
  }

  /** Bytes held by entries (not counting directories). */
  sizeBytes(): number {
    return this.entries().reduce((sum, e) => sum + e.size, 0);
  }

  /**
   * Least-recently-used eviction with hysteresis: once over `limit`, remove the oldest entries until
   * under 90% of it, so that a full cache is not trimmed again on every store.
   */
  gc(limit: number): { removed: number; freedBytes: number } {
    const now = Date.now();
    removeOlderThan(this.tmp, STALE_TMP_MS, now);
    // Digest memos (one per big file and per unit) are rewritten when their file changes, not when
    // read: one untouched for a week is dropped, and at worst hashed and written again.
    const digests = join(this.base, "digests");
    for (const dir of safeList(digests)) removeOlderThan(join(digests, dir), STALE_MEMO_MS, now);
    // Prefill records: a command's set unused for a week (each prefill touches its dir), and the
    // notes of builds that ended before cargo finished the units noted.
    const prefill = join(this.base, "prefill");
    for (const [area, age] of [
      ["units", STALE_MEMO_MS],
      ["pending", STALE_TMP_MS],
    ] as const)
      for (const name of safeList(join(prefill, area))) {
        const dir = join(prefill, area, name);
        try {
          if (now - statSync(dir).mtimeMs > age) rmSync(dir, { recursive: true, force: true });
        } catch {}
      }
    const entries = this.entries();
    let total = entries.reduce((sum, e) => sum + e.size, 0);
    if (total <= limit) return { removed: 0, freedBytes: 0 };
    const target = Math.floor(limit * 0.9);
    entries.sort((a, b) => a.mtimeMs - b.mtimeMs);
    let removed = 0;
    let freedBytes = 0;
    for (const e of entries) {
      if (total <= target) break;
      rmSync(e.path, { force: true });
      total -= e.size;
      freedBytes += e.size;
      removed++;
    }
    return { removed, freedBytes };
  }

  /** Checks every entry against its digest (blobs) or its shape (actions); removes damaged ones. */
  async verify(): Promise<{ checked: number; removed: number }> {
    let checked = 0;
    let removed = 0;
    for (const kind of ["ac", "cas"] as const) {
      const root = join(this.base, kind);
      for (const shard of safeList(root)) {
        for (const name of safeList(join(root, shard))) {
          if (!isDigest(name)) continue;
          checked++;
          try {
            if (kind === "cas") await this.getBlob(name);
            else await this.getAction(name);
          } catch (err) {
            if (!(err instanceof CorruptEntry)) throw err;
            removed++;
          }
        }
      }
    }
    return { checked, removed };
  }

  /**
   * gc by one process at a time (a lock file; a lock older than ten minutes belongs to a gc that
   * died). Returns undefined when another gc holds the lock.
   */
  gcLocked(limit: number): { removed: number; freedBytes: number } | undefined {
    const release = tryLockFile(join(this.base, "gc.lock"), 10 * 60 * 1000);
    if (!release) return undefined;
    try {
      return this.gc(limit);
    } finally {
      release();
    }
  }

  /** Removes every entry. */
  clear(): void {
    rmSync(this.base, { recursive: true, force: true });
  }

  private entries(): { path: string; size: number; mtimeMs: number }[] {
    const out: { path: string; size: number; mtimeMs: number }[] = [];
    for (const kind of ["ac", "cas"]) {
      const root = join(this.base, kind);
      for (const shard of safeList(root)) {
        for (const name of safeList(join(root, shard))) {
          const p = join(root, shard, name);
          try {
            const s = statSync(p);
            out.push({ path: p, size: s.size, mtimeMs: s.mtimeMs });
          } catch {}
        }
      }
    }
    return out;
  }

  private path(kind: "ac" | "cas", key: string): string {
    if (!isDigest(key)) throw new Error(`invalid ${kind} key ${JSON.stringify(key)}`);
    return join(this.base, kind, key.slice(0, 2), key);
  }

  private writeAtomic(path: string, data: string | Uint8Array): void {
    const tmp = this.tmpFile();
    try {
      writeFileSync(tmp, data);
      this.renameInto(tmp, path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }

  /** A private temporary file's name (its directory made). */
  private tmpFile(): string {
    mkdirSync(this.tmp, { recursive: true });
    return join(this.tmp, `${process.pid}-${Date.now()}-${this.counter++}`);
  }

  private renameInto(tmp: string, path: string): void {
    renameInto(tmp, path, () => mkdirSync(join(path, ".."), { recursive: true }));
  }
}

/** Whether every blob a record carries has the bytes its digest says. */
function carriedIntact(result: ActionResult): boolean {
  for (const [digest, b64] of Object.entries(result.carried ?? {}))
    if (sha256Hex(Buffer.from(b64, "base64")) !== digest) return false;
  return true;
}

/** Whether the blob file is there with the bytes its name says. */
function isIntact(path: string, digest: string): boolean {
  if (!exists(path)) return false;
  try {
    return copyHashing(path).digest === digest;
  } catch {
    return false;
  }
}

const CHUNK_BYTES = 256 * 1024;

/** Hashes a file through one small buffer, copying it to `to` on the way when given. */
function copyHashing(from: string, to?: string): { digest: string; size: number } {
  const hasher = new Bun.CryptoHasher("sha256");
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  const src = openSync(from, "r");
  let dst: number | undefined;
  let size = 0;
  try {
    if (to !== undefined) dst = openSync(to, "w");
    for (;;) {
      const n = readSync(src, buf, 0, buf.length, null);
      if (n <= 0) break;
      const chunk = buf.subarray(0, n);
      hasher.update(chunk);
      if (dst !== undefined) for (let at = 0; at < n; ) at += writeSync(dst, chunk, at, n - at);
      size += n;
    }
  } finally {
    closeSync(src);
    if (dst !== undefined) closeSync(dst);
  }
  return { digest: hasher.digest("hex"), size };
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Marks an entry as recently used for LRU eviction, at most once per TOUCH_EVERY_MS: eviction
 * needs no finer order, and an entry left alone keeps its ctime, so the digest memo of a big blob
 * (keyed by size, mtime, inode and ctime) stays valid and a hit need not hash it again. `mtimeMs`:
 * the caller's stat, when it has one.
 */
function touch(p: string, mtimeMs?: number): void {
  try {
    if (Date.now() - (mtimeMs ?? statSync(p).mtimeMs) < TOUCH_EVERY_MS) return;
    const now = new Date();
    utimesSync(p, now, now);
  } catch {
    // a read-only cache still serves hits
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Removes the files of `dir` last modified more than `ageMs` ago. */
function removeOlderThan(dir: string, ageMs: number, now: number): void {
  for (const name of safeList(dir)) {
    const p = join(dir, name);
    try {
      const st = statSync(p);
      if (st.isFile() && now - st.mtimeMs > ageMs) rmSync(p, { force: true });
    } catch {}
  }
}
