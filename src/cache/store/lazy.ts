/**
 * A store whose code is loaded at its first request. The gRPC client is a large module: a wrapper
 * process whose lookup the local cache answers never loads it.
 */
import type { BlobSink } from "./blob-sink.ts";
import { readBlobTo, writeBlobFrom } from "./forwarding.ts";
import { type ActionResult, type BlobSizes, getBlobs, putBlobs, type Store } from "./store.ts";

export class LazyStore implements Store {
  private inner: Promise<Store> | undefined;

  constructor(
    readonly name: string,
    private readonly load: () => Promise<Store>,
  ) {}

  private store(): Promise<Store> {
    this.inner ??= this.load();
    return this.inner;
  }

  /** Closes the loaded store's connection, if it was loaded and has one. */
  close(): void {
    void this.inner?.then((s) => (s as { close?: () => void }).close?.());
  }

  async getAction(key: string): Promise<ActionResult | undefined> {
    return await (await this.store()).getAction(key);
  }

  async putAction(key: string, result: ActionResult): Promise<void> {
    await (await this.store()).putAction(key, result);
  }

  async getBlob(digest: string): Promise<Uint8Array | undefined> {
    return await (await this.store()).getBlob(digest);
  }

  async putBlob(digest: string, bytes: Uint8Array): Promise<void> {
    await (await this.store()).putBlob(digest, bytes);
  }

  async hasBlob(digest: string): Promise<boolean> {
    return await (await this.store()).hasBlob(digest);
  }

  async getBlobs(digests: string[], sizes?: BlobSizes): Promise<Map<string, Uint8Array>> {
    return await getBlobs(await this.store(), digests, sizes);
  }

  async putBlobs(blobs: Map<string, Uint8Array>): Promise<void> {
    await putBlobs(await this.store(), blobs);
  }

  async readBlobTo(digest: string, size: number, sink: BlobSink): Promise<boolean> {
    return await readBlobTo(await this.store(), digest, size, sink);
  }

  async writeBlobFrom(digest: string, size: number, file: string): Promise<void> {
    await writeBlobFrom(await this.store(), digest, size, file);
  }
}
