import { afterAll, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../../../src/cache/engine/digest.ts";
import { DiskStore } from "../../../src/cache/store/disk.ts";
import { removeDir, tempDir } from "../../helpers.ts";
import { storeConformance } from "./conformance.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) removeDir(d);
});
const fresh = () => {
  const d = tempDir("galley-store-");
  dirs.push(d);
  return new DiskStore(d);
};
const file = (s: DiskStore, kind: string, key: string) => join(s.dir, "v1", kind, key.slice(0, 2), key);

storeConformance("disk", fresh, {
  corruptBlob(store, digest) {
    const p = file(store as DiskStore, "cas", digest);
    const bytes = readFileSync(p);
    bytes[10] = bytes[10]! ^ 0xff;
    writeFileSync(p, bytes);
  },
  corruptAction(store, key) {
    writeFileSync(file(store as DiskStore, "ac", key), '{"outputs": [');
  },
});

test("gc evicts least recently used entries down to 90% of the limit, and stale temporaries", async () => {
  const store = fresh();
  const blobs = Array.from({ length: 10 }, (_, i) => new Uint8Array(1000).fill(i));
  for (const [i, b] of blobs.entries()) {
    const d = sha256Hex(b);
    await store.putBlob(d, b);
    const t = new Date(2020, 0, 1, 0, i);
    utimesSync(file(store, "cas", d), t, t);
  }
  await store.getBlob(sha256Hex(blobs[0]!)); // used now: must survive
  writeFileSync(join(store.dir, "v1", "tmp", "dead-writer"), "partial");
  utimesSync(join(store.dir, "v1", "tmp", "dead-writer"), new Date(2020, 0, 1), new Date(2020, 0, 1));
  expect(store.sizeBytes()).toBe(10_000);
  const { removed } = store.gc(8000);
  expect(removed).toBe(3);
  expect(store.sizeBytes()).toBe(7000);
  expect(await store.hasBlob(sha256Hex(blobs[0]!))).toBe(true);
  expect(await store.hasBlob(sha256Hex(blobs[1]!))).toBe(false);
  expect(readdirSync(join(store.dir, "v1", "tmp"))).toEqual([]);
});

test("gc drops digest memos untouched for a week, and keeps the others", () => {
  const store = fresh();
  const units = join(store.dir, "v1", "digests", "units");
  const shard = join(store.dir, "v1", "digests", "ab");
  mkdirSync(units, { recursive: true });
  mkdirSync(shard, { recursive: true });
  for (const f of [join(units, "old"), join(units, "recent"), join(shard, "old")]) writeFileSync(f, "{}");
  const longAgo = new Date(Date.now() - 8 * 24 * 60 * 60 * 1000);
  utimesSync(join(units, "old"), longAgo, longAgo);
  utimesSync(join(shard, "old"), longAgo, longAgo);
  store.gc(1 << 30);
  expect(readdirSync(units)).toEqual(["recent"]);
  expect(readdirSync(shard)).toEqual([]);
});

test("a file is stored as a blob in chunks, hashed on the way; a damaged copy already there is replaced", async () => {
  const s = fresh();
  const src = join(s.dir, "libbig.rlib");
  // Over a chunk, and not a multiple of one.
  const bytes = new Uint8Array(700 * 1024 + 13).map((_, i) => (i * 31 + (i >> 9)) % 256);
  writeFileSync(src, bytes);
  const { digest, size } = await s.putBlobFile(src);
  expect(digest).toBe(sha256Hex(bytes));
  expect(size).toBe(bytes.length);
  expect(Buffer.compare(Buffer.from((await s.getBlob(digest))!), Buffer.from(bytes))).toBe(0);
  const blob = file(s, "cas", digest);
  const damaged = readFileSync(blob);
  damaged[5] = damaged[5]! ^ 0xff;
  writeFileSync(blob, damaged);
  await s.putBlobFile(src);
  expect(sha256Hex(readFileSync(blob))).toBe(digest);
  expect(readdirSync(join(s.dir, "v1", "tmp"))).toEqual([]);
});

test("a big blob one record carries inline is still a file when another record names it without", async () => {
  const store = fresh();
  const big = new Uint8Array(40 * 1024).map((_, i) => i % 241);
  const d = sha256Hex(big);
  const out = { path: "libbig.rlib", digest: d, size: big.length, mode: 0o644 };
  const inline = { outputs: [{ ...out, inline: Buffer.from(big).toString("base64") }], compileMs: 0 };
  const plain = { outputs: [out], compileMs: 0 };
  await store.putResults(new Map([[d, big]]), [{ key: sha256Hex("a"), result: inline }]);
  expect(await store.hasBlob(d)).toBe(false);
  await store.putResults(new Map([[d, big]]), [
    { key: sha256Hex("a"), result: inline },
    { key: sha256Hex("b"), result: plain },
  ]);
  expect(Buffer.from((await store.getBlob(d))!)).toEqual(Buffer.from(big));
});
