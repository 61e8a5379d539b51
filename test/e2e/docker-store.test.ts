/**
 * A generated Dockerfile with --store on a real engine: the builder reaches a Redis on the host's
 * loopback (--network=host) with its password as a BuildKit secret; a second build with every
 * layer and cache mount forgotten (a fresh builder) is warm from the shared store alone.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { copyFixture, galley, ok, removeDir, tempDir } from "../helpers.ts";
import { type RedisServer, startRedis } from "../servers.ts";
import {
  docker,
  forgetAll,
  imageLayers,
  layerEntries,
  mountStats,
  printedBuild,
  SKIP_DOCKER,
  tagBookwormRust,
} from "./docker-harness.ts";

const root = tempDir("galley-e2e-store-");
const TAG = "galley-e2e-store:1";
let server: RedisServer | undefined;

describe.skipIf(SKIP_DOCKER)("galley dockerfile --store on a real engine", () => {
  beforeAll(async () => {
    tagBookwormRust();
    server = await startRedis({ password: "e2e-store-pw" });
  });
  afterAll(async () => {
    docker(["rmi", "-f", TAG]);
    await server?.stop();
    removeDir(root);
  });

  test("the credentials arrive as a secret only; a fresh builder's build is warm from the store", async () => {
    const dir = copyFixture("docker-app", join(root, "docker-app"));
    const said = ok(
      galley(["dockerfile", "--write", "--store", `redis://127.0.0.1:${server!.port}`], { cwd: dir }),
    ).stderr;
    writeFileSync(join(dir, "galley-store.env"), "GALLEY_STORE_PASSWORD=e2e-store-pw\n");
    forgetAll();
    mountStats("galley-amd64", "clear");
    const cold = printedBuild(said, dir, TAG);
    if (cold.code !== 0) throw new Error(`docker build failed:\n${cold.log.slice(-4000)}`);
    const c = server!.client();
    const keys = ((await c.keys("galley:*")) as string[]).length;
    c.close();
    if (keys === 0)
      throw new Error(`the build stored nothing in the shared store:\n${cold.log.slice(-3000)}`);
    // A fresh builder: no layers, an empty local cache.
    forgetAll();
    mountStats("galley-amd64", "clear");
    const warm = printedBuild(said, dir, TAG);
    if (warm.code !== 0) throw new Error(`docker build failed:\n${warm.log.slice(-4000)}`);
    const s = mountStats("galley-amd64", "read");
    if (s.misses > 0) throw new Error(`misses: ${JSON.stringify(s.crates)}\n${warm.log.slice(-5000)}`);
    expect(s.hits).toBeGreaterThan(0);
    // Served by the shared store: the local cache mount started empty.
    expect(s.remoteHits).toBe(s.hits);
    expect(ok(docker(["run", "--rm", "--network=none", TAG])).stdout).toMatch(/^app says hello/m);
    // The password is in no layer, no history and no file of the image.
    expect(JSON.stringify(imageLayers(TAG))).not.toContain("e2e-store-pw");
    expect(layerEntries(TAG).filter((e) => e.includes("galley-store"))).toEqual([]);
  });
});
