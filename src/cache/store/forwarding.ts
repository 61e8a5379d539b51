/** A store that hands every call to the one it wraps: the stores that wrap stores change only what they must. */
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
}
