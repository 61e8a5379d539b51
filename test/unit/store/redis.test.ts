import { afterAll, beforeAll } from "bun:test";
import type { StoreConfig } from "../../../src/cache/engine/store-config.ts";
import { openRedisStore } from "../../../src/cache/store/redis.ts";
import { type RedisServer, startRedis } from "../../servers.ts";
import { storeConformance } from "./conformance.ts";

let server: RedisServer;
let n = 0;
beforeAll(async () => {
  server = await startRedis({ password: "s3cret" });
});
afterAll(async () => await server?.stop());

export function redisConfig(url: string, options: Record<string, string> = {}): StoreConfig {
  return {
    url,
    source: "test",
    readOnly: false,
    options,
    connectTimeoutMs: 1000,
    requestTimeoutMs: 5000,
    retryAfterMs: 60_000,
    ignored: [],
  };
}

storeConformance(
  "redis",
  // A fresh key prefix per test: an empty store on the same server.
  () => openRedisStore(redisConfig(server.url, { key_prefix: `t${n++}:`, ttl: "600" })),
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
