/** The hostile-server suite against a REAPI cache over gRPC (bazel-remote behind the gRPC proxy). */
import { startBazelRemote } from "../store/servers.ts";
import { REAPI_FAULTS, startGrpcProxy } from "./grpc-proxy.ts";
import { hostileSuite } from "./suite.ts";

hostileSuite({
  name: "REAPI (bazel-remote gRPC)",
  faults: REAPI_FAULTS,
  mustSee: ["getActionResult", "batchReadBlobs", "read"],
  async start() {
    const server = await startBazelRemote();
    const proxy = await startGrpcProxy(server.grpcPort);
    return {
      proxy,
      async stop() {
        await proxy.stop();
        await server.stop();
      },
    };
  },
});
