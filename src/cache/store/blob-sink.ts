/**
 * Where a big blob from a shared store goes: straight to a file of the local store, hashed and
 * counted on the way, never whole in memory. A sink takes no byte past the size the record declared,
 * and a blob whose bytes do not match its digest is never committed.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { createZstdDecompress, type ZstdDecompress } from "node:zlib";
import { Oversize, packedLimit } from "./bounded.ts";
import { CorruptEntry } from "./corrupt.ts";

/** Takes a blob's bytes in order. */
export interface BlobSink {
  write(chunk: Uint8Array): Promise<void>;
}

/** A blob being written to a temporary file; commit() checks it and renames it into place. */
export class FileBlobSink implements BlobSink {
  private readonly fd: number;
  private readonly hasher = new Bun.CryptoHasher("sha256");
  private written = 0;
  private closed = false;

  constructor(
    readonly digest: string,
    readonly size: number,
    private readonly tmp: string,
    private readonly place: (tmp: string) => void,
  ) {
    this.fd = openSync(tmp, "w");
  }

  async write(chunk: Uint8Array): Promise<void> {
    // A read that went on after its caller gave up must not write through a closed (reused) fd.
    if (this.closed) throw new Error(`blob ${this.digest}: written after it was closed`);
    this.written += chunk.length;
    if (this.written > this.size) throw new Oversize(`blob ${this.digest}`, this.size);
    this.hasher.update(chunk);
    for (let at = 0; at < chunk.length; ) at += writeSync(this.fd, chunk, at, chunk.length - at);
  }

  /** Puts the file in place if it is the blob; otherwise removes it and throws CorruptEntry. */
  commit(from: string): void {
    this.close();
    if (this.written !== this.size || this.hasher.digest("hex") !== this.digest) {
      rmSync(this.tmp, { force: true });
      throw new CorruptEntry(`blob ${this.digest} from ${from}`);
    }
    try {
      this.place(this.tmp);
    } catch (err) {
      rmSync(this.tmp, { force: true });
      throw err;
    }
  }

  abort(): void {
    this.close();
    rmSync(this.tmp, { force: true });
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

/** Renames a temporary file onto `path`, making the directory when it is missing. */
export function renameInto(tmp: string, path: string, makeDir: () => void): void {
  try {
    renameSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    makeDir();
    renameSync(tmp, path);
  }
}

/**
 * A sink for zstd-packed bytes: unpacks them as they come into `out`, taking no more packed bytes
 * than a blob of `size` can need and stopping the decoder as soon as its output passes `size`.
 */
export class UnpackingSink implements BlobSink {
  private readonly z: ZstdDecompress;
  private failure: Error | undefined;
  private packed = 0;
  private unpacked = 0;
  private pending: Promise<void> = Promise.resolve();
  private readonly finished: Promise<void>;
  /** Wakes a write that waits for the decoder to take more (on drain, or when it closes). */
  private wake: (() => void) | undefined;

  constructor(
    private readonly out: BlobSink,
    private readonly size: number,
    private readonly what: string,
  ) {
    this.z = createZstdDecompress();
    this.z.on("data", (chunk: Buffer) => {
      if (this.failure) return;
      this.unpacked += chunk.length;
      if (this.unpacked > size) return this.fail(new Oversize(what, size));
      // In order: each chunk is written after the one before it.
      this.pending = this.pending.then(() => this.out.write(chunk)).catch((e: Error) => this.fail(e));
    });
    this.z.on("drain", () => this.wake?.());
    this.finished = new Promise<void>((resolve) => {
      this.z.on("end", resolve);
      this.z.on("close", () => {
        this.wake?.();
        resolve();
      });
      this.z.on("error", (e: Error) => {
        this.fail(new CorruptEntry(`${what} (${e.message})`));
        resolve();
      });
    });
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    this.packed += chunk.length;
    if (this.packed > packedLimit(this.size)) {
      this.fail(new Oversize(`${this.what} (packed)`, packedLimit(this.size)));
      throw this.failure;
    }
    if (!this.z.write(chunk))
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    this.wake = undefined;
    await this.pending;
    if (this.failure) throw this.failure;
  }

  /** Waits for the last unpacked bytes; throws what went wrong on the way, or a blob cut short. */
  async end(): Promise<void> {
    if (!this.failure) this.z.end();
    await this.finished;
    await this.pending;
    if (this.failure) throw this.failure;
    if (this.unpacked !== this.size)
      throw new CorruptEntry(`${this.what} (${this.unpacked} of ${this.size} bytes)`);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.z.destroy();
  }
}
