/**
 * How blobs travel to a shared store that has no compression of its own (S3, Redis): zstd, which
 * shrinks rlibs and objects severalfold at a cost far below the network's. Reading checks the
 * digest of what it unpacked.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { sha256Hex } from "../engine/digest.ts";
import { LeftToQueue, uploadsLeftToQueue } from "./abandon.ts";

const LEVEL = 3;
/** A big file is packed this many bytes at a time: one zstd frame each, frames one after another. */
export const PACK_CHUNK_BYTES = 4 * 1024 * 1024;

export function packBlob(bytes: Uint8Array): Uint8Array {
  return Bun.zstdCompressSync(bytes, { level: LEVEL });
}

/**
 * A file packed a chunk at a time, never read whole: `each` gets one zstd frame per chunk (a zstd
 * stream may be several frames one after another, and unpacks to their contents in order).
 */
export async function packFileChunks(
  file: string,
  each: (frame: Uint8Array) => Promise<void>,
): Promise<void> {
  const fd = openSync(file, "r");
  const buf = Buffer.allocUnsafe(PACK_CHUNK_BYTES);
  try {
    for (let first = true; ; first = false) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0 && !first) break;
      if (uploadsLeftToQueue()) throw new LeftToQueue();
      await each(packBlob(buf.subarray(0, Math.max(n, 0))));
      if (n < buf.length) break;
    }
  } finally {
    closeSync(fd);
  }
}

/** The blob's bytes, or undefined when what the server holds is not that blob packed. */
export function unpackBlob(digest: string, stored: Uint8Array): Uint8Array | undefined {
  let bytes: Uint8Array;
  try {
    bytes = Bun.zstdDecompressSync(stored);
  } catch {
    return undefined;
  }
  return sha256Hex(bytes) === digest ? bytes : undefined;
}

/** A record as stored: JSON text. Undefined when the text is not a record's. */
export function parseRecord(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
