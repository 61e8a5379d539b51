import { afterAll, beforeAll } from "bun:test";
import { openRedisStore } from "../../../src/cache/store/redis.ts";
import { type RedisServer, startRedis } from "../../servers.ts";
import { storeConformance, testConfig } from "./conformance.ts";

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
