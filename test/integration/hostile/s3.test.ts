/** The hostile-server suite against S3 (s3s-fs behind the HTTP proxy, which forwards requests as signed). */
import { startS3 } from "../../servers.ts";
import { HTTP_FAULTS, startHttpProxy } from "./http-proxy.ts";
import { hostileSuite } from "./suite.ts";

hostileSuite({
  name: "s3",
  faults: HTTP_FAULTS,
  mustSee: ["GET blob", "GET record"],
  async start() {
    const server = await startS3();
    const proxy = await startHttpProxy({
      name: "s3",
      upstreamPort: Number(new URL(server.endpoint).port),
      records: "json",
      shownAs: `s3://${server.bucket}`,
      env: (base) => ({
        GALLEY_STORE: `s3://${server.bucket}/ci?endpoint=${encodeURIComponent(base)}`,
        AWS_ACCESS_KEY_ID: server.accessKeyId,
        AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
      }),
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
