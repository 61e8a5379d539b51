import { afterAll, beforeAll, expect, test } from "bun:test";
import { sha256Hex } from "../../../src/cache/engine/digest.ts";
import { WriteRefused } from "../../../src/cache/store/breaker.ts";
import { openRedisStore } from "../../../src/cache/store/redis.ts";
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
