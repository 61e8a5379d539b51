/**
 * Writes to a shared store never hold a build up. A wrapper waits at most WRITE_GRACE_MS for its
 * upload; what is not done by then (a store that is slow to take writes, or hangs on them) goes in
 * a queue under the cache dir, and every later write of the build joins the queue while it is not
 * empty, so nothing overtakes what waits in it. One detached `galley --galley-upload` process at a
 * time drains it, sending each job again from the local store (a record or blob sent twice is the
 * same entry). A job it cannot send within the store's time-out stops the store for this build
 * (the breaker) and the jobs left are dropped and counted.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isCompiled } from "../../util/compiled.ts";
import { tryLockFile } from "../../util/lock-file.ts";
import { isDigest } from "../engine/digest.ts";
import type { DiskStore } from "./disk.ts";
import { writeBlobFrom } from "./forwarding.ts";
import { IN_MEMORY_BLOB_MAX } from "./limits.ts";
import {
  type ActionResult,
  carriedBytes,
  inlineBytes,
  namedBlobs,
  putResults,
  type Store,
  type StoredRecord,
} from "./store.ts";

/** How long a wrapper waits for its own upload before it leaves it to the queue. */
export const WRITE_GRACE_MS = 250;
/** A drainer that has not touched its lock for this long died: another takes over. */
const DRAINER_STALE_MS = 5 * 60 * 1000;

/** What to send again from the local store: records by action key, and blobs by digest. */
export interface UploadJob {
  keys: string[];
  blobs: string[];
}

const queueDir = (cacheDir: string) => join(cacheDir, "v1", "uploads");
const drainerLock = (cacheDir: string) => join(cacheDir, "v1", "uploads.lock");

let counter = 0;

/** Whether jobs wait in the queue (a later write joins it rather than overtake them). */
export function queueWaiting(cacheDir: string): boolean {
  try {
    return readdirSync(queueDir(cacheDir)).some((n) => n.endsWith(".json"));
  } catch {
    return false;
  }
}

export function queuedJobs(cacheDir: string): number {
  return jobNames(cacheDir).length;
}

/** Whether a drainer holds the queue now (a lock it keeps fresh). */
export function drainerRunning(cacheDir: string): boolean {
  try {
    return Date.now() - statSync(drainerLock(cacheDir)).mtimeMs < DRAINER_STALE_MS;
  } catch {
    return false;
  }
}

/** Puts a job in the queue and starts a drainer unless one runs. */
export function enqueueUpload(cacheDir: string, job: UploadJob): void {
  const dir = queueDir(cacheDir);
  mkdirSync(dir, { recursive: true });
  // Names sort in the order the jobs were made: time, then process and a counter.
  const name = `${Date.now().toString().padStart(15, "0")}-${process.pid}-${counter++}`;
  writeFileSync(join(dir, `${name}.tmp`), JSON.stringify(job));
  renameSync(join(dir, `${name}.tmp`), join(dir, `${name}.json`));
  startDrainer(cacheDir);
}

function startDrainer(cacheDir: string): void {
  if (drainerRunning(cacheDir)) return;
  // From source (the tests' own processes) there is no executable to start: the next drain picks it up.
  if (!isCompiled()) return;
  try {
    const child = Bun.spawn([process.execPath, "--galley-upload"], {
      env: { ...process.env, GALLEY_DIR: cacheDir } as Record<string, string>,
      stdio: ["ignore", "ignore", "ignore"],
    });
    child.unref();
  } catch {
    // The queue waits for the next drainer.
  }
}

export interface DrainResult {
  sent: number;
  dropped: number;
}

/**
 * Sends the queue's jobs, oldest first, until it is empty; one drainer at a time (undefined when
 * another holds the lock). `remote` is the guarded shared store: after its first failure it
 * refuses quietly, and every job left is dropped.
 */
export async function drainUploads(
  cacheDir: string,
  local: DiskStore,
  remote: Store,
  failed: () => boolean,
): Promise<DrainResult | undefined> {
  const release = tryLockFile(drainerLock(cacheDir), DRAINER_STALE_MS);
  if (!release) return undefined;
  const result: DrainResult = { sent: 0, dropped: 0 };
  try {
    for (;;) {
      const names = jobNames(cacheDir);
      if (names.length === 0) break;
      for (const name of names) {
        const file = join(queueDir(cacheDir), name);
        let job: UploadJob;
        try {
          job = parseJob(readFileSync(file, "utf8"));
        } catch {
          rmSync(file, { force: true });
          continue;
        }
        if (!failed()) await sendJob(local, remote, job);
        if (failed()) result.dropped++;
        else result.sent++;
        rmSync(file, { force: true });
        // Still alive: a drainer that holds the lock keeps it fresh.
        writeFileSync(drainerLock(cacheDir), String(process.pid));
      }
    }
  } finally {
    release();
  }
  return result;
}

function jobNames(cacheDir: string): string[] {
  try {
    return readdirSync(queueDir(cacheDir))
      .filter((n) => n.endsWith(".json"))
      .sort();
  } catch {
    return [];
  }
}

function parseJob(text: string): UploadJob {
  const v = JSON.parse(text) as Partial<UploadJob>;
  const digests = (xs: unknown) => (Array.isArray(xs) ? xs.filter((x): x is string => isDigest(x)) : []);
  return { keys: digests(v.keys), blobs: digests(v.blobs) };
}

/** Sends a job's blobs, then its records, as the local store holds them now. */
async function sendJob(local: DiskStore, remote: Store, job: UploadJob): Promise<void> {
  const records: StoredRecord[] = [];
  for (const key of job.keys) {
    const result = await local.getAction(key).catch(() => undefined);
    if (result) records.push({ key, result });
  }
  const blobs = new Map<string, Uint8Array>();
  const named = new Set(job.blobs);
  for (const { result } of records) for (const d of namedBlobs(result)) named.add(d);
  for (const digest of named) {
    const bytes = carriedOrInline(records, digest);
    if (bytes) {
      blobs.set(digest, bytes);
      continue;
    }
    const path = local.localBlobPath(digest);
    if (!path) continue;
    const size = statSync(path).size;
    if (size > IN_MEMORY_BLOB_MAX) await writeBlobFrom(remote, digest, size, path);
    else {
      const read = await local.getBlob(digest).catch(() => undefined);
      if (read) blobs.set(digest, read);
    }
  }
  const sent = records.map(({ key, result }) => {
    const { carried: _, ...plain } = result;
    return { key, result: plain as ActionResult };
  });
  await putResults(remote, blobs, sent);
}

function carriedOrInline(records: StoredRecord[], digest: string): Uint8Array | undefined {
  for (const { result } of records) {
    const bytes =
      carriedBytes(result, digest) ??
      result.outputs.flatMap((o) => (o.digest === digest ? [inlineBytes(o)] : []))[0];
    if (bytes) return bytes;
  }
  return undefined;
}
