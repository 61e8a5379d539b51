/**
 * A slow or dead shared store never slows a build much. Every request has a time-out; the first
 * failure in a process stops that process asking, and leaves a mark in the local cache directory
 * so that the other wrapper processes of the build do not ask either (nor load the backend) until
 * the store is tried again, `retryAfterMs` later. Failures turn into misses and skipped writes.
 */
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { sha256Hex } from "../engine/digest.ts";
import { isQuiet, noticeOnce } from "../engine/notice.ts";
import type { StoreConfig } from "../engine/store-config.ts";
import { LeftToQueue } from "./abandon.ts";
import type { BlobSink } from "./blob-sink.ts";
import { transferMs } from "./bounded.ts";
import { readBlobTo, writeBlobFrom } from "./forwarding.ts";
import type { StoreReport } from "./report.ts";
import { type ActionResult, type BlobSizes, CorruptEntry, getBlobs, putBlobs, type Store } from "./store.ts";

export class Breaker {
  readonly file: string;

  constructor(
    cacheDir: string,
    readonly config: StoreConfig,
  ) {
    this.file = join(cacheDir, "v1", `store-down-${sha256Hex(config.url).slice(0, 16)}`);
  }

  /** True while a failure seen by any process is younger than the retry time. */
  isOpen(now = Date.now()): boolean {
    try {
      return now - statSync(this.file).mtimeMs < this.config.retryAfterMs;
    } catch {
      return false;
    }
  }

  trip(reason: string): void {
    // A quiet process cannot say why the store is skipped: the next one finds out and says it.
    if (isQuiet()) return;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileSync(this.file, `${new Date().toISOString()} ${reason}\n`);
    } catch {
      // a cache dir that cannot be written: each process finds out on its own
    }
  }
}

export class StoreTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = "StoreTimeout";
  }
}

/** The store answers but will not take this write (full, or the entry too big): reads go on. */
export class WriteRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WriteRefused";
  }
}

export class BreakerStore implements Store {
  readonly name: string;
  private failed = false;
  /** The store refused a write (full, too big): this process writes no more, and reads on. */
  private writesRefused = false;

  constructor(
    private readonly inner: Store,
    private readonly breaker: Breaker,
    private readonly report: StoreReport,
  ) {
    this.name = inner.name;
  }

  getAction(key: string): Promise<ActionResult | undefined> {
    return this.guard(() => this.inner.getAction(key), undefined);
  }

  putAction(key: string, result: ActionResult): Promise<void> {
    return this.write(() => this.inner.putAction(key, result));
  }

  getBlob(digest: string): Promise<Uint8Array | undefined> {
    return this.guard(() => this.inner.getBlob(digest), undefined);
  }

  getBlobs(digests: string[], sizes?: BlobSizes): Promise<Map<string, Uint8Array>> {
    return this.guard(() => getBlobs(this.inner, digests, sizes), new Map());
  }

  putBlob(digest: string, bytes: Uint8Array): Promise<void> {
    return this.write(() => this.inner.putBlob(digest, bytes));
  }

  putBlobs(blobs: Map<string, Uint8Array>): Promise<void> {
    return this.write(() => putBlobs(this.inner, blobs));
  }

  hasBlob(digest: string): Promise<boolean> {
    return this.guard(() => this.inner.hasBlob(digest), false);
  }

  readBlobTo(digest: string, size: number, sink: BlobSink): Promise<boolean> {
    return this.guard(() => readBlobTo(this.inner, digest, size, sink), false, false, size);
  }

  writeBlobFrom(digest: string, size: number, file: string): Promise<void> {
    return this.write(() => writeBlobFrom(this.inner, digest, size, file), size);
  }

  private async write(request: () => Promise<void>, bytes = 0): Promise<void> {
    if (this.writesRefused) return;
    try {
      await this.guard(request, undefined, true, bytes);
    } catch (err) {
      if (!(err instanceof WriteRefused)) throw err;
      // Nothing more is written by this process, so no record can name a blob that was refused.
      this.writesRefused = true;
      this.report.remoteErrors++;
      noticeOnce("remote-store-write", `${err.message}; this build stores in the local cache only`);
    }
  }

  /** The request, given the time-out (more for a transfer of `bytes`); a failure turns into `failed`. */
  private async guard<T>(request: () => Promise<T>, failed: T, write = false, bytes = 0): Promise<T> {
    if (this.failed) return failed;
    const ms = this.breaker.config.requestTimeoutMs + transferMs(bytes);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        request(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new StoreTimeout(ms)), ms);
        }),
      ]);
    } catch (err) {
      // A damaged entry is the store answering, not failing: the caller counts it as a miss.
      if (err instanceof CorruptEntry || (write && err instanceof WriteRefused)) throw err;
      // An upload this process stopped itself (the queue sends it): no failure of the store.
      if (err instanceof LeftToQueue) return failed;
      this.failed = true;
      this.report.remoteErrors++;
      const reason = err instanceof Error ? err.message.split("\n")[0]! : String(err);
      this.breaker.trip(reason);
      const secs = Math.round(this.breaker.config.retryAfterMs / 1000);
      noticeOnce(
        "remote-store",
        `shared store ${this.name} failed (${reason}); this build goes on with the local cache (retried after ${secs} s)`,
      );
      return failed;
    } finally {
      clearTimeout(timer);
    }
  }
}
