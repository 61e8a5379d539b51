/** A store that hands every call to the one it wraps: the stores that wrap stores change only what they must. */
import type { BlobSink } from "./blob-sink.ts";
import { type ActionResult, type BlobSizes, getBlobs, putBlobs, type Store } from "./store.ts";

export class ForwardingStore implements Store {
  readonly name: string;

  constructor(protected readonly inner: Store) {
    this.name = inner.name;
  }

  getAction(key: string): Promise<ActionResult | undefined> {
    return this.inner.getAction(key);
  }

  putAction(key: string, result: ActionResult): Promise<void> {
    return this.inner.putAction(key, result);
  }

  getBlob(digest: string): Promise<Uint8Array | undefined> {
    return this.inner.getBlob(digest);
  }

  getBlobs(digests: string[], sizes?: BlobSizes): Promise<Map<string, Uint8Array>> {
    return getBlobs(this.inner, digests, sizes);
  }

  putBlob(digest: string, bytes: Uint8Array): Promise<void> {
    return this.inner.putBlob(digest, bytes);
  }

  putBlobs(blobs: Map<string, Uint8Array>): Promise<void> {
    return putBlobs(this.inner, blobs);
  }

  hasBlob(digest: string): Promise<boolean> {
    return this.inner.hasBlob(digest);
  }

  readBlobTo(digest: string, size: number, sink: BlobSink): Promise<boolean> {
    return readBlobTo(this.inner, digest, size, sink);
  }

  writeBlobFrom(digest: string, size: number, file: string): Promise<void> {
    return writeBlobFrom(this.inner, digest, size, file);
  }
}

/** A big blob streamed to `sink` where the store can, else read in one piece (bounded by `size`). */
export async function readBlobTo(
  store: Store,
  digest: string,
  size: number,
  sink: BlobSink,
): Promise<boolean> {
  if (store.readBlobTo) return await store.readBlobTo(digest, size, sink);
  const bytes = (await getBlobs(store, [digest], new Map([[digest, size]]))).get(digest);
  if (!bytes) return false;
  await sink.write(bytes);
  return true;
}

/** A big blob sent from its file where the store can, else read and sent in one piece. */
export async function writeBlobFrom(store: Store, digest: string, size: number, file: string): Promise<void> {
  if (store.writeBlobFrom) return await store.writeBlobFrom(digest, size, file);
  await store.putBlob(digest, await Bun.file(file).bytes());
}
