/**
 * Real cargo builds through galley with a shared store on a real server: two "machines" (separate
 * cache dirs and target dirs) share it, and every fault (server stopped, a server that never
 * answers, wrong credentials, damaged blobs on the server) still gives a passing build with the
 * right output, never a restored damaged file.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readStats } from "../../../src/cache/engine/stats.ts";
import { removeDir } from "../../helpers.ts";
import { ALL_UNITS, appOutput, type CacheProject, cachedBuild, cacheProject } from "../cache-harness.ts";
import { damage } from "./damage.ts";
import {
  type BazelRemote,
  type BuildGrid,
  freePort,
  type Nginx,
  type Running,
  startBazelRemote,
  startBuildGrid,
  startNginx,
  startSilentServer,
} from "./servers.ts";

const EXPECTED = "core: hello from corelib";
const AUTH = { user: "ci", password: "s3cret" };
const cleanups: (() => void)[] = [];
const servers: Running[] = [];
let bazel: BazelRemote;
/** A second bazel-remote for the gRPC side: one server's HTTP and gRPC sides share their entries. */
let bazelGrpc: BazelRemote;
let nginx: Nginx;
let buildgrid: BuildGrid;

beforeAll(async () => {
  [bazel, bazelGrpc, nginx, buildgrid] = await Promise.all([
    startBazelRemote(AUTH),
    startBazelRemote(AUTH),
    startNginx(AUTH),
    startBuildGrid(1),
  ]);
  servers.push(bazel, bazelGrpc, nginx, buildgrid);
}, 180_000);
afterAll(async () => {
  for (const c of cleanups.reverse()) c();
  await Promise.all(servers.map((s) => s.stop()));
});

/**
 * A fresh "machine": its own cache dir, and a clean target dir. Given a project, the same checkout
 * path (as CI runners check out at one path; keys hold the source paths, as sccache's do).
 */
function machine(same?: CacheProject): CacheProject {
  const p = cacheProject();
  cleanups.push(
    () => removeDir(join(p.dir, "..")),
    () => removeDir(join(p.cacheDir, "..")),
  );
  return same ? { dir: same.dir, cacheDir: p.cacheDir } : p;
}

const credentials = { GALLEY_STORE_USERNAME: AUTH.user, GALLEY_STORE_PASSWORD: AUTH.password };

const backends: { name: string; url: () => string; blobFiles: () => string[] }[] = [
  {
    name: "bazel-remote HTTP",
    url: () => bazel.http,
    blobFiles: () => filesUnder(join(bazel.cacheDir, "cas.v2")),
  },
  {
    name: "bazel-remote gRPC (REAPI)",
    url: () => `${bazelGrpc.grpc}/two-machines`,
    blobFiles: () => filesUnder(join(bazelGrpc.cacheDir, "cas.v2")),
  },
  {
    name: "BuildGrid (REAPI)",
    url: () => buildgrid.grpc(0),
    blobFiles: () => filesUnder(buildgrid.casDir(0)),
  },
  {
    name: "nginx WebDAV",
    url: () => `webdav+${nginx.url}/galley`,
    blobFiles: () => filesUnder(join(nginx.root, "galley", "cas")),
  },
];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe.each(backends)("$name", (backend) => {
  test("a second machine's first build is warm from the shared store, its binary byte-identical", () => {
    const env = { GALLEY_STORE: backend.url(), ...credentials };
    const a = machine();
    const first = cachedBuild(a, { env });
    expect(first.misses).toEqual(ALL_UNITS);
    expect(appOutput(a)).toContain(EXPECTED);

    const appA = readFileSync(join(a.dir, "target", "debug", "app"));
    const b = machine(a);
    const second = cachedBuild(b, { env });
    expect(second.misses).toEqual([]);
    expect(second.hits).toEqual(ALL_UNITS);
    expect(second.events.filter((e) => e.outcome === "hit").every((e) => e.tier === "remote")).toBe(true);
    // The registry crates came back before cargo looked (prefill), from the records A shared.
    expect(
      second.events
        .filter((e) => e.prefilled)
        .map((e) => e.crate)
        .sort(),
    ).toEqual(["cfg_if", "itoa"]);
    expect(readFileSync(join(b.dir, "target", "debug", "app")).equals(appA)).toBe(true);
    expect(appOutput(b)).toContain(EXPECTED);
  });

  test("blobs damaged on the server are never restored: those units compile again", () => {
    const env = { GALLEY_STORE: backend.url(), ...credentials };
    const a = machine();
    cachedBuild(a, { env });
    for (const f of backend.blobFiles()) damage(f);
    const c = machine(a);
    const build = cachedBuild(c, { env });
    expect(build.hits).toEqual([]);
    expect(build.misses).toEqual(ALL_UNITS);
    expect(appOutput(c)).toContain(EXPECTED);
  });
});

describe("faults", () => {
  test("wrong credentials: the build passes without the store, and says why once", () => {
    for (const url of [bazel.http, bazel.grpc, `webdav+${nginx.url}/galley`]) {
      const p = machine();
      const build = cachedBuild(p, {
        env: { GALLEY_STORE: url, GALLEY_STORE_USERNAME: AUTH.user, GALLEY_STORE_PASSWORD: "wrong" },
      });
      expect(build.misses).toEqual(ALL_UNITS);
      expect(appOutput(p)).toContain(EXPECTED);
      expect(readStats(p.cacheDir).remoteErrors).toBeGreaterThan(0);
      const said = build.result.stderr.split("\n").filter((l) => l.includes("shared store"));
      expect(said.length).toBe(1);
      expect(said[0]).toMatch(/credentials refused|401|UNAUTHENTICATED/i);
    }
  });

  test("a stopped server and one that accepts connections and never answers: builds pass, losing the connect time-out at most", async () => {
    const silent = await startSilentServer();
    servers.push(silent);
    const closed = await freePort();
    const plain = machine();
    let started = performance.now();
    cachedBuild(plain);
    const plainMs = performance.now() - started;
    for (const url of [
      `http://127.0.0.1:${closed}`,
      `grpc://127.0.0.1:${closed}`,
      `http://127.0.0.1:${silent.port}`,
      `grpc://127.0.0.1:${silent.port}`,
      `webdav+http://127.0.0.1:${silent.port}`,
      `redis://127.0.0.1:${silent.port}`,
      `s3://bucket/prefix?endpoint=http://127.0.0.1:${silent.port}`,
    ]) {
      const p = machine();
      started = performance.now();
      // A request time-out far longer than the connect time-out: a silent server must cost the
      // latter (its first answer never begins), not the former.
      const build = cachedBuild(p, {
        env: {
          GALLEY_STORE: url,
          GALLEY_STORE_TIMEOUT_MS: "20000",
          GALLEY_STORE_CONNECT_TIMEOUT_MS: "500",
          AWS_ACCESS_KEY_ID: "test",
          AWS_SECRET_ACCESS_KEY: "test",
        },
      });
      const ms = performance.now() - started;
      expect(build.misses).toEqual(ALL_UNITS);
      expect(appOutput(p)).toContain(EXPECTED);
      expect(readStats(p.cacheDir).remoteErrors).toBeGreaterThan(0);
      expect(build.result.stderr).toContain("shared store");
      // One connect time-out for the whole build (the other processes see the failure and do not
      // ask), not a request's 20 s, nor one per compile.
      expect({ url, added: ms - plainMs < 4000 ? "under 4 s" : ms - plainMs }).toEqual({
        url,
        added: "under 4 s",
      });
    }
  });
});
