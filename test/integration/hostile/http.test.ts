/** The hostile-server suite against bazel-remote's HTTP protocol (bazel-remote behind the HTTP proxy). */
import { startBazelRemote } from "../store/servers.ts";
import { HTTP_FAULTS, startHttpProxy } from "./http-proxy.ts";
import { hostileSuite } from "./suite.ts";

hostileSuite({
  name: "bazel-remote HTTP",
  faults: HTTP_FAULTS,
  mustSee: ["GET blob", "GET record"],
  async start() {
    const server = await startBazelRemote();
    const proxy = await startHttpProxy({
      name: "bazel-remote HTTP",
      upstreamPort: server.httpPort,
      records: "proto",
      env: (base) => ({ GALLEY_STORE: base }),
    });
    return {
      proxy,
      async stop() {
        await proxy.stop();
        await server.stop();
      },
    };
  },
});
