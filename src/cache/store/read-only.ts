/**
 * A shared store that is read and never written: for builds of code that is not trusted (pull
 * requests from forks), which may use the team's cache but must not put anything in it.
 */
import { ForwardingStore } from "./forwarding.ts";
import type { Store } from "./store.ts";

export class ReadOnlyStore extends ForwardingStore {
  override readonly name: string;

  constructor(inner: Store) {
    super(inner);
    this.name = `${inner.name} (read-only)`;
  }

  override async putAction(): Promise<void> {}

  override async putBlob(): Promise<void> {}

  override async putBlobs(): Promise<void> {}

  override async writeBlobFrom(): Promise<void> {}
}
