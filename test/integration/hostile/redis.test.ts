/** The hostile-server suite against Redis (redis-server behind the RESP proxy). */
import { startRedis } from "../../servers.ts";
import { REDIS_FAULTS, startRedisProxy } from "./redis-proxy.ts";
import { hostileSuite } from "./suite.ts";

hostileSuite({
  name: "redis",
  faults: REDIS_FAULTS,
  mustSee: ["blob", "record"],
  async start() {
    const server = await startRedis();
    const proxy = await startRedisProxy(server.port);
    return {
      proxy,
      async stop() {
        await proxy.stop();
        await server.stop();
      },
    };
  },
});
