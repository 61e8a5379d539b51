/** Content digests: SHA-256, lower-case hex (the Remote Execution API and bazel-remote accept only this). */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";

export function sha256Hex(data: Uint8Array | string): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

export function isDigest(s: string): boolean {
  return /^[0-9a-f]{64}$/.test(s);
}

/** Files up to this size are read whole to be hashed; bigger ones through one buffer. */
const WHOLE_READ_MAX = 1024 * 1024;
const CHUNK_BYTES = 256 * 1024;

/** A file's SHA-256, never holding more than one chunk of a big file in memory. */
export function fileSha256(path: string): string {
  const fd = openSync(path, "r");
  try {
    if (fstatSync(fd).size <= WHOLE_READ_MAX) return sha256Hex(readFileSync(fd));
    const hasher = new Bun.CryptoHasher("sha256");
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      hasher.update(buf.subarray(0, n));
    }
    return hasher.digest("hex");
  } finally {
    closeSync(fd);
  }
}
