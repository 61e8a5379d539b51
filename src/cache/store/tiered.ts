/**
 * The local store in front of a shared one. Reads go local first, then to the shared store, and
 * what the shared store had is kept locally (blobs at once, a record once all its blobs are local,
 * so the local store never holds a record without its bytes). Writes go to both, blobs first.
 */
import { noticeOnce } from "../engine/notice.ts";
import { leaveUploadsToQueue } from "./abandon.ts";
import { batchesBySize } from "./bounded.ts";
import { readBlobTo, writeBlobFrom } from "./forwarding.ts";
import { IN_MEMORY_BATCH_BYTES, IN_MEMORY_BLOB_MAX } from "./limits.ts";
import type { StoreReport } from "./report.ts";
import {
  type ActionResult,
  type BlobSizes,
  CorruptEntry,
  getBlobs,
  inlineBytes,
  putBlobs,
  putResults,
  type Store,
  type StoredRecord,
} from "./store.ts";
import { enqueueUpload, queueWaiting, type UploadJob, WRITE_GRACE_MS } from "./upload-queue.ts";

/** How many fetched bytes pass between two collections in a long fetch into the local store. */
const COLLECT_EVERY_BYTES = 4 * IN_MEMORY_BATCH_BYTES;

export class TieredStore implements Store {
  readonly name: string;
  /** Records from the shared store waiting for their blobs before they are kept locally. */
  private readonly pending = new Map<string, ActionResult>();
  /** This process's writes go to the upload queue from now on (nothing overtakes what waits there). */
  private queued = false;

  constructor(
    readonly local: Store,
    readonly remote: Store,
    private readonly report: StoreReport,
    /** The cache dir whose upload queue takes writes the shared store is slow to take; none: waited for. */
    private readonly queueAt?: string,
    /** How long a write is waited for before it is left to the queue. */
    private readonly graceMs = WRITE_GRACE_MS,
  ) {
    this.name = `${local.name} + ${remote.name}`;
  }

  async getAction(key: string): Promise<ActionResult | undefined> {
    const local = await settle(this.local.getAction(key));
    if (local.value) {
      this.report.localRecords++;
      return local.value;
    }
    // A damaged local entry (removed) may still be whole in the shared store.
    const there = await this.remote.getAction(key);
    if (!there) {
      if (local.corrupt) throw local.corrupt;
      return undefined;
    }
    this.report.remoteRecords++;
    const inline = new Map<string, Uint8Array>();
    for (const out of there.outputs) {
      const bytes = inlineBytes(out);
      if (bytes) inline.set(out.digest, bytes);
    }
    await putBlobs(this.local, inline);
    this.pending.set(key, there);
    await this.keepWhole();
    return there;
  }

  async putAction(key: string, result: ActionResult): Promise<void> {
    await this.local.putAction(key, result);
    await this.share({ keys: [key], blobs: [] }, () => this.remote.putAction(key, result));
  }

  /** The local store carries small blobs in its records; the shared one gets every blob, in one batch. */
  async putResults(blobs: Map<string, Uint8Array>, records: StoredRecord[]): Promise<void> {
    await putResults(this.local, blobs, records);
    await this.share({ keys: records.map((r) => r.key), blobs: [...blobs.keys()] }, () =>
      putResults(this.remote, blobs, records),
    );
  }

  async getBlob(digest: string): Promise<Uint8Array | undefined> {
    return (await this.getBlobs([digest])).get(digest);
  }

  async getBlobs(digests: string[], sizes?: BlobSizes): Promise<Map<string, Uint8Array>> {
    const local = await settle(getBlobs(this.local, digests));
    const found = local.value ?? new Map<string, Uint8Array>();
    const missing = digests.filter((d) => !found.has(d));
    if (missing.length === 0) return found;
    const fetched = await getBlobs(this.remote, missing, sizes);
    if (fetched.size > 0) {
      await putBlobs(this.local, fetched);
      for (const [d, b] of fetched) found.set(d, b);
      await this.keepWhole();
    }
    if (local.corrupt && digests.some((d) => !found.has(d))) throw local.corrupt;
    return found;
  }

  async putBlob(digest: string, bytes: Uint8Array): Promise<void> {
    await this.putBlobs(new Map([[digest, bytes]]));
  }

  async putBlobs(blobs: Map<string, Uint8Array>): Promise<void> {
    await putBlobs(this.local, blobs);
    await this.share({ keys: [], blobs: [...blobs.keys()] }, () => putBlobs(this.remote, blobs));
  }

  async hasBlob(digest: string): Promise<boolean> {
    return (await this.local.hasBlob(digest)) || (await this.remote.hasBlob(digest));
  }

  /** A big output: copied into the local store in chunks, then sent to the shared one from that file. */
  async putBlobFile(file: string): Promise<{ digest: string; size: number }> {
    if (!this.local.putBlobFile) throw new Error(`${this.local.name} takes no files`);
    const blob = await this.local.putBlobFile(file);
    const stored = this.local.localBlobPath?.(blob.digest) ?? file;
    await this.share({ keys: [], blobs: [blob.digest] }, () =>
      writeBlobFrom(this.remote, blob.digest, blob.size, stored),
    );
    return blob;
  }

  /**
   * A write to the shared store (after the local one), waited for at most the grace, whatever its
   * size (a big one the queue sends as well as this process would); past that, or while the queue
   * holds writes of this build, the upload queue sends it again from the local store.
   */
  private async share(job: UploadJob, write: () => Promise<void>): Promise<void> {
    const at = this.queueAt;
    if (at === undefined) return await write();
    if (this.queued || queueWaiting(at)) return this.enqueue(at, job);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const upload = write();
    const inTime = await Promise.race([
      upload.then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), this.graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (inTime) return await upload;
    upload.catch(() => {});
    noticeOnce(
      "upload-queued",
      `${this.remote.name} did not take an upload within ${this.graceMs} ms; this build's uploads go on in the background (\`galley stats\` counts any it drops)`,
    );
    this.enqueue(at, job);
  }

  private enqueue(at: string, job: UploadJob): void {
    this.queued = true;
    leaveUploadsToQueue();
    try {
      enqueueUpload(at, job);
    } catch {
      // A queue that cannot be written: this upload is not made, as if the store had refused it.
    }
  }

  /**
   * Brings blobs into the local store: small ones in batches of at most IN_MEMORY_BATCH_BYTES, big
   * ones one at a time, streamed from the shared store to their files, never whole in memory.
   */
  async fetchToLocal(sizes: BlobSizes): Promise<Set<string>> {
    const here = new Set<string>();
    const small: string[] = [];
    const big: string[] = [];
    for (const [digest, size] of sizes) {
      if (await this.local.hasBlob(digest)) here.add(digest);
      else (size > IN_MEMORY_BLOB_MAX && this.local.blobSink ? big : small).push(digest);
    }
    let sinceCollect = 0;
    for (const batch of batchesBySize(small, (d) => sizes.get(d) ?? 0, IN_MEMORY_BATCH_BYTES)) {
      for (const digest of (await this.getBlobs(batch, sizes)).keys()) here.add(digest);
      // A batch's buffers are garbage once written: collected now and then, so that a long fetch
      // (a whole build's prefill) holds about one batch, not every batch the collector has not
      // reached yet (~10 ms each time, a few times per hundred MB).
      sinceCollect += batch.reduce((sum, d) => sum + (sizes.get(d) ?? 0), 0);
      if (sinceCollect >= COLLECT_EVERY_BYTES) {
        Bun.gc(true);
        sinceCollect = 0;
      }
    }
    for (const digest of big) if (await this.streamIn(digest, sizes.get(digest)!)) here.add(digest);
    if (big.length > 0) await this.keepWhole();
    return here;
  }

  /** One big blob from the shared store to its local file; false when the shared store lacks it. */
  private async streamIn(digest: string, size: number): Promise<boolean> {
    const sink = this.local.blobSink!(digest, size);
    let found = false;
    try {
      found = await readBlobTo(this.remote, digest, size, sink);
    } catch (err) {
      sink.abort();
      throw err;
    }
    if (!found) {
      sink.abort();
      return false;
    }
    sink.commit(this.remote.name);
    return true;
  }

  localBlobPath(digest: string): string | undefined {
    return this.local.localBlobPath?.(digest);
  }

  /** Writes locally each pending record whose blobs are all local now. */
  private async keepWhole(): Promise<void> {
    for (const [key, result] of this.pending) {
      const needed = [...result.outputs.map((o) => o.digest), result.stdout, result.stderr];
      const have = await Promise.all(needed.map((d) => d === undefined || this.local.hasBlob(d)));
      if (!have.every(Boolean)) continue;
      this.pending.delete(key);
      await this.local.putAction(key, result);
    }
  }
}

/** A read's value, or the damaged entry it found (other errors are thrown). */
async function settle<T>(p: Promise<T>): Promise<{ value?: T; corrupt?: CorruptEntry }> {
  try {
    return { value: await p };
  } catch (err) {
    if (err instanceof CorruptEntry) return { corrupt: err };
    throw err;
  }
}
