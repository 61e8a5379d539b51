import { afterAll, beforeAll, expect, test } from "bun:test";
import { sha256Hex } from "../../../src/cache/engine/digest.ts";
import { WriteRefused } from "../../../src/cache/store/breaker.ts";
import { openRedisStore } from "../../../src/cache/store/redis.ts";
import { CorruptEntry, getBlobs } from "../../../src/cache/store/store.ts";
import { type RedisServer, startRedis } from "../../servers.ts";
import { storeConformance, testConfig } from "../../unit/store/conformance.ts";

let server: RedisServer;
let n = 0;
beforeAll(async () => {
  server = await startRedis({ password: "s3cret" });
});
afterAll(async () => await server?.stop());

storeConformance(
  "redis",
  // A fresh key prefix per test: an empty store on the same server.
  () => openRedisStore(testConfig(server.url, { key_prefix: `t${n++}:`, ttl: "600" })),
  {
    async corruptBlob(_store, digest) {
      const c = server.client();
      await c.set(`t${n - 1}:cas-zstd:${digest}`, "not zstd at all");
      c.close();
    },
    async corruptAction(_store, key) {
      const c = server.client();
      await c.set(`t${n - 1}:ac:${key}`, '{"outputs": [');
      c.close();
    },
  },
);

test("keys get the TTL and the prefix asked for", async () => {
  const store = await openRedisStore(testConfig(server.url, { key_prefix: "ttl-test/", ttl: "120" }));
  const bytes = new TextEncoder().encode("with a ttl");
  await store.putBlob(sha256Hex(bytes), bytes);
  const c = server.client();
  const ttl = await c.ttl(`ttl-test/cas-zstd:${sha256Hex(bytes)}`);
  c.close();
  expect(ttl).toBeGreaterThan(100);
  expect(ttl).toBeLessThanOrEqual(120);
});

test("an output bigger than the server's proto-max-bulk-len: a clear refusal, not a failure", async () => {
  const small = await startRedis({ maxBulk: "1mb" });
  try {
    const store = await openRedisStore(testConfig(small.url));
    // Random bytes: zstd cannot shrink them below the limit.
    const random = new Uint8Array(2 * 2 ** 20);
    for (let i = 0; i < random.length; i += 65536) crypto.getRandomValues(random.subarray(i, i + 65536));
    const err = await store.putBlob(sha256Hex(random), random).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteRefused);
    expect((err as Error).message).toContain("proto-max-bulk-len");
  } finally {
    await small.stop();
  }
});

/** A zstd stream that unpacks to `bytes` zeros, written from a stream (no content size in its header). */
export async function zstdBomb(bytes: number): Promise<Uint8Array> {
  const { createZstdCompress } = await import("node:zlib");
  const z = createZstdCompress();
  const chunks: Buffer[] = [];
  z.on("data", (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve) => z.on("end", resolve));
  const zeros = Buffer.alloc(1 << 20);
  for (let i = 0; i < bytes / zeros.length; i++)
    if (!z.write(zeros)) await new Promise((r) => z.once("drain", r));
  z.end();
  await done;
  return Buffer.concat(chunks);
}

test("a zstd bomb or an oversized record in Redis is a damaged entry, read no further than declared", async () => {
  const store = await openRedisStore(testConfig(server.url, { key_prefix: "bomb:" }));
  const bytes = new TextEncoder().encode("a small blob");
  const digest = sha256Hex(bytes);
  const c = server.client();
  try {
    await c.set(`bomb:cas-zstd:${digest}`, Buffer.from(await zstdBomb(2 ** 30)));
    await c.set(
      `bomb:ac:${sha256Hex("huge")}`,
      `{"outputs":[],"compileMs":0,"x":"${"a".repeat(5 * 2 ** 20)}"}`,
    );
  } finally {
    c.close();
  }
  const before = process.memoryUsage().rss;
  const read = await getBlobs(store, [digest], new Map([[digest, bytes.length]])).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(read).toBeInstanceOf(CorruptEntry);
  const record = await store.getAction(sha256Hex("huge")).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(record).toBeInstanceOf(CorruptEntry);
  expect(process.memoryUsage().rss - before).toBeLessThan(64 * 2 ** 20);
  store.close?.();
});
