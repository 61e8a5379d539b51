/** Content digests: SHA-256, lower-case hex (the Remote Execution API and bazel-remote accept only this). */

export function sha256Hex(data: Uint8Array | string): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

export function isDigest(s: string): boolean {
  return /^[0-9a-f]{64}$/.test(s);
}
