/**
 * The local store in front of a shared one. Reads go local first, then to the shared store, and
 * what the shared store had is kept locally (blobs at once, a record once all its blobs are local,
 * so the local store never holds a record without its bytes). Writes go to both, blobs first.
 */
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

export class TieredStore implements Store {
  readonly name: string;
  /** Records from the shared store waiting for their blobs before they are kept locally. */
  private readonly pending = new Map<string, ActionResult>();

  constructor(
    readonly local: Store,
    readonly remote: Store,
    private readonly report: StoreReport,
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
    await this.remote.putAction(key, result);
  }

  /** The local store carries small blobs in its records; the shared one gets every blob, in one batch. */
  async putResults(blobs: Map<string, Uint8Array>, records: StoredRecord[]): Promise<void> {
    await putResults(this.local, blobs, records);
    await putResults(this.remote, blobs, records);
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
    await putBlobs(this.remote, blobs);
  }

  async hasBlob(digest: string): Promise<boolean> {
    return (await this.local.hasBlob(digest)) || (await this.remote.hasBlob(digest));
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
