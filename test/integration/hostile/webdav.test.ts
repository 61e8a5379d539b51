/** The hostile-server suite against plain WebDAV (nginx's dav module behind the HTTP proxy). */
import { startNginx } from "../store/servers.ts";
import { HTTP_FAULTS, startHttpProxy } from "./http-proxy.ts";
import { hostileSuite } from "./suite.ts";

hostileSuite({
  name: "nginx WebDAV",
  faults: HTTP_FAULTS,
  mustSee: ["GET blob", "GET record"],
  async start() {
    const server = await startNginx();
    const proxy = await startHttpProxy({
      name: "nginx WebDAV",
      upstreamPort: server.port,
      records: "proto",
      env: (base) => ({ GALLEY_STORE: `webdav+${base}/galley` }),
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
