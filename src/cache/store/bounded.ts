/**
 * Reading what a shared store sends without trusting its size: every read has a limit taken from
 * the record or the digest, stops there, and a zstd frame is unpacked only up to the size the blob
 * is declared to have (a small frame can unpack to GiBs). Past a limit the entry is damaged.
 */
import { zstdDecompressSync } from "node:zlib";
import { IN_MEMORY_BLOB_MAX } from "./limits.ts";

/** An answer larger than what was declared for it, or than any entry of its kind may be. */
export class Oversize extends Error {
  constructor(what: string, limit: number) {
    super(`${what} is larger than ${limit} bytes`);
    this.name = "Oversize";
  }
}

/** An answer that stopped before its end (the connection reset or closed mid-body). */
export class CutShort extends Error {
  constructor(what: string, why: string) {
    super(`${what} was cut short (${why})`);
    this.name = "CutShort";
  }
}

/** The size to read a blob up to: the declared one, or for a blob nothing declared, the in-memory limit. */
export function blobLimit(digest: string, sizes: ReadonlyMap<string, number> | undefined): number {
  return sizes?.get(digest) ?? IN_MEMORY_BLOB_MAX;
}

/** The most bytes zstd may take to pack `size` bytes (its compress bound, with room for framing). */
export function packedLimit(size: number): number {
  return size + (size >> 7) + 1024;
}

/**
 * The blob's bytes from a zstd frame, unpacked up to `size` bytes and no further; undefined when
 * the frame is damaged, unpacks past `size`, or, with `exact`, to another length.
 */
export function unpackBounded(packed: Uint8Array, size: number, exact = true): Uint8Array | undefined {
  if (packed.length > packedLimit(size)) return undefined;
  let bytes: Uint8Array;
  try {
    // maxOutputLength stops the decoder as soon as the output would pass it, before allocating more.
    bytes = zstdDecompressSync(packed, { maxOutputLength: Math.max(size, 1) });
  } catch {
    return undefined;
  }
  if (bytes.length > size || (exact && bytes.length !== size)) return undefined;
  return bytes;
}

/** A response's declared body length (as sent: galley asks for answers that are not compressed). */
export function bodyLength(res: Response): string | null {
  return res.headers.get("content-length");
}

/**
 * A body read to its end, or Oversize as soon as it passes `limit` (the rest is never read: the
 * stream is cancelled). A Content-Length over the limit is refused before any byte is read.
 */
export async function readBounded(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  what: string,
  declaredLength?: string | null,
): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const declared = declaredLength ? Number(declaredLength) : undefined;
  if (declared !== undefined && Number.isFinite(declared) && declared > limit) {
    await body.cancel().catch(() => {});
    throw new Oversize(what, limit);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  await streamBounded(body, limit, what, (chunk) => {
    total += chunk.length;
    chunks.push(chunk);
  });
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Feeds a body's chunks to `each`, stopping with Oversize past `limit`; a body that breaks off is
 * CutShort (what `each` throws is passed on as it is).
 */
export async function streamBounded(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  what: string,
  each: (chunk: Uint8Array) => void | Promise<void>,
): Promise<void> {
  if (!body) return;
  const reader = body.getReader();
  let total = 0;
  try {
    for (;;) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (err) {
        throw new CutShort(what, (err as Error).message);
      }
      const { done, value } = next;
      if (done) break;
      total += value.length;
      if (total > limit) throw new Oversize(what, limit);
      await each(value);
    }
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw err;
  } finally {
    reader.releaseLock();
  }
}

/** The time a transfer of `bytes` may take on top of a request's time-out: at least 8 MiB/s. */
export function transferMs(bytes: number): number {
  return Math.ceil(bytes / (8 * 1024 * 1024)) * 1000;
}

/** Items in groups whose sizes add up to at most `limit` (an item bigger than that goes alone). */
export function batchesBySize<T>(items: Iterable<T>, sizeOf: (item: T) => number, limit: number): T[][] {
  const groups: T[][] = [];
  let group: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (group.length > 0 && bytes + size > limit) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(item);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
