/**
 * A shared store that is read and never written: for builds of code that is not trusted (pull
 * requests from forks), which may use the team's cache but must not put anything in it.
 */
import { type ActionResult, getBlobs, type Store } from "./store.ts";

export class ReadOnlyStore implements Store {
  readonly name: string;

  constructor(private readonly inner: Store) {
    this.name = `${inner.name} (read-only)`;
  }

  getAction(key: string): Promise<ActionResult | undefined> {
    return this.inner.getAction(key);
  }

  getBlob(digest: string): Promise<Uint8Array | undefined> {
    return this.inner.getBlob(digest);
  }

  getBlobs(digests: string[]): Promise<Map<string, Uint8Array>> {
    return getBlobs(this.inner, digests);
  }

  hasBlob(digest: string): Promise<boolean> {
    return this.inner.hasBlob(digest);
  }

  async putAction(): Promise<void> {}

  async putBlob(): Promise<void> {}

  async putBlobs(): Promise<void> {}
}
