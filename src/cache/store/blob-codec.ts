/**
 * How blobs travel to a shared store that has no compression of its own (S3, Redis): zstd, which
 * shrinks rlibs and objects severalfold at a cost far below the network's. Reading checks the
 * digest of what it unpacked.
 */
import { sha256Hex } from "../engine/digest.ts";

const LEVEL = 3;

export function packBlob(bytes: Uint8Array): Uint8Array {
  return Bun.zstdCompressSync(bytes, { level: LEVEL });
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
