/**
 * A shared store on a real server (Redis, S3 through s3s-fs), started on 127.0.0.1 by these tests:
 * two "machines" (own cache dirs, the target dir built afresh) share it, and every fault a shared
 * store can have leaves a build that passes with the right output, the fault counted and said once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readStats } from "../../src/cache/engine/stats.ts";
import { GALLEY, removeDir, run, tempDir } from "../helpers.ts";
import { type RedisServer, type S3Server, startRedis, startS3, startSilentServer } from "../servers.ts";
import { ALL_UNITS, appOutput, type CacheProject, cachedBuild, cacheProject } from "./cache-harness.ts";

const APP_OUTPUT = appOutputOnce();

/** What plain cargo's app prints, to compare every faulty build with. */
function appOutputOnce(): () => string {
  let text: string | undefined;
  return () => {
    if (text === undefined) {
      const p = cacheProject();
      text = run(["cargo", "run", "-q"], { cwd: p.dir, env: { CARGO_INCREMENTAL: "0" } }).stdout;
      removeDir(join(p.dir, ".."));
    }
    return text;
  };
}

/** One project, built by "machine" A then "machine" B: same checkout path, own cache and target. */
function twoMachines(): { project: CacheProject; a: CacheProject; b: CacheProject } {
  const project = cacheProject();
  const a = { ...project, cacheDir: join(tempDir("galley-machine-a-"), "cache") };
  const b = { ...project, cacheDir: join(tempDir("galley-machine-b-"), "cache") };
  return { project, a, b };
}

const warnings = (stderr: string, text: string) =>
  stderr.split("\n").filter((l) => l.startsWith("galley: warning:") && l.includes(text)).length;

interface Backend {
  name: string;
  env(): Record<string, string>;
  /** Replaces every stored blob's bytes on the server. */
  damageBlobs(): Promise<number>;
  /** Rewrites every stored record on the server. */
  rewriteRecords(change: (record: { outputs: { path: string }[] }) => void): Promise<number>;
  /** Entries on the server. */
  count(): Promise<number>;
  clear(): Promise<void>;
  /** The store's settings with credentials the server refuses, where the test server checks them. */
  wrongCredentials?(): Record<string, string>;
}

function redisBackend(): Backend & { server(): RedisServer; setServer(s: RedisServer): void } {
  let server: RedisServer;
  const withClient = async <T>(f: (c: Bun.RedisClient) => Promise<T>): Promise<T> => {
    const c = server.client();
    try {
      return await f(c);
    } finally {
      c.close();
    }
  };
  return {
    name: "redis",
    server: () => server,
    setServer: (s) => {
      server = s;
    },
    env: () => ({ GALLEY_STORE: server.url }),
    damageBlobs: () =>
      withClient(async (c) => {
        const keys = (await c.keys("galley:cas-zstd:*")) as string[];
        for (const k of keys) await c.set(k, "damaged bytes");
        return keys.length;
      }),
    rewriteRecords: (change) =>
      withClient(async (c) => {
        const keys = (await c.keys("galley:ac:*")) as string[];
        for (const k of keys) {
          const r = JSON.parse((await c.get(k))!);
          change(r);
          await c.set(k, JSON.stringify(r));
        }
        return keys.length;
      }),
    count: () => withClient(async (c) => ((await c.keys("galley:*")) as string[]).length),
    clear: () =>
      withClient(async (c) => {
        await c.send("FLUSHALL", []);
      }),
  };
}

function s3Backend(): Backend & { setServer(s: S3Server): void } {
  let server: S3Server;
  const files = (sub: string) => {
    const dir = join(server.bucketDir, "ci", sub);
    return existsSync(dir) ? readdirSync(dir).map((f) => join(dir, f)) : [];
  };
  return {
    name: "s3",
    setServer: (s) => {
      server = s;
    },
    env: () => ({
      GALLEY_STORE: `s3://${server.bucket}/ci?endpoint=${encodeURIComponent(server.endpoint)}`,
      AWS_ACCESS_KEY_ID: server.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
    }),
    async damageBlobs() {
      const blobs = files("cas-zstd");
      for (const f of blobs) writeFileSync(f, "damaged bytes");
      return blobs.length;
    },
    async rewriteRecords(change) {
      const records = files("ac").filter((f) => statSync(f).isFile());
      for (const f of records) {
        const r = JSON.parse(readFileSync(f, "utf8"));
        change(r);
        writeFileSync(f, JSON.stringify(r));
      }
      return records.length;
    },
    count: async () => files("ac").length + files("cas-zstd").length,
    wrongCredentials() {
      return { ...this.env(), AWS_SECRET_ACCESS_KEY: "not-the-secret" };
    },
    async clear() {
      removeDir(join(server.bucketDir, "ci"));
    },
  };
}

const redis = redisBackend();
const s3 = s3Backend();
const servers: { stop(): Promise<void> }[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
});
const starts: Record<string, () => Promise<void>> = {
  async redis() {
    const s = await startRedis();
    servers.push(s);
    redis.setServer(s);
  },
  async s3() {
    const s = await startS3();
    servers.push(s);
    s3.setServer(s);
  },
};

for (const backend of [redis, s3]) {
  describe(`shared store: ${backend.name}`, () => {
    beforeAll(starts[backend.name]!);
    test("a second machine's first build is all hits from the shared store, its binary byte-identical", async () => {
      await backend.clear();
      const { a, b } = twoMachines();
      const first = cachedBuild(a, { env: backend.env() });
      expect(first.misses).toEqual(ALL_UNITS.filter((u) => !first.passthroughs.includes(u)));
      const binary = readFileSync(join(a.dir, "target", "debug", "app"));
      expect(await backend.count()).toBeGreaterThan(0);
      const second = cachedBuild(b, { env: backend.env() });
      expect(second.misses).toEqual([]);
      expect(second.hits).toEqual(first.misses);
      expect(readFileSync(join(b.dir, "target", "debug", "app")).equals(binary)).toBe(true);
      expect(appOutput(b)).toBe(APP_OUTPUT());
      const stats = readStats(b.cacheDir);
      expect(stats.remoteHits).toBe(second.hits.length);
      // A remote hit is kept locally: a third build on machine B needs no server.
      const third = cachedBuild(b, { env: { GALLEY_STORE: "redis://127.0.0.1:1" } });
      expect(third.misses).toEqual([]);
      const shown = run([GALLEY, "stats"], { cwd: b.dir, env: { GALLEY_DIR: b.cacheDir, ...backend.env() } });
      expect(shown.stdout).toMatch(/Store\s+local disk \+ (redis|s3):\/\//);
      expect(shown.stdout).toMatch(/ {2}remote\s+\d+/);
    });

    test("damaged blobs on the server: misses, counted, said once; the build is right", async () => {
      await backend.clear();
      const { a, b } = twoMachines();
      cachedBuild(a, { env: backend.env() });
      expect(await backend.damageBlobs()).toBeGreaterThan(0);
      const second = cachedBuild(b, { env: backend.env() });
      expect(second.hits).toEqual([]);
      expect(appOutput(b)).toBe(APP_OUTPUT());
      expect(readStats(b.cacheDir).corruptEntries).toBeGreaterThan(0);
      expect(warnings(second.result.stderr, "damaged blob")).toBe(1);
    });

    test("a record whose output path climbs out is refused, counted, said once, and nothing is written there", async () => {
      await backend.clear();
      const { a, b } = twoMachines();
      cachedBuild(a, { env: backend.env() });
      expect(
        await backend.rewriteRecords((r) => {
          for (const o of r.outputs) o.path = `../../../escaped-${o.path}`;
        }),
      ).toBeGreaterThan(0);
      const second = cachedBuild(b, { env: backend.env() });
      expect(second.hits).toEqual([]);
      expect(appOutput(b)).toBe(APP_OUTPUT());
      expect(readStats(b.cacheDir).rejectedRecords).toBeGreaterThan(0);
      expect(warnings(second.result.stderr, "climbs out")).toBe(1);
      const parent = join(b.dir, "..");
      expect(readdirSync(parent).filter((f) => f.startsWith("escaped-"))).toEqual([]);
    });

    test("records signed with another secret are ignored, counted, said once", async () => {
      await backend.clear();
      const { a, b } = twoMachines();
      cachedBuild(a, { env: { ...backend.env(), GALLEY_STORE_SECRET: "theirs" } });
      const second = cachedBuild(b, { env: { ...backend.env(), GALLEY_STORE_SECRET: "ours" } });
      expect(second.hits).toEqual([]);
      expect(appOutput(b)).toBe(APP_OUTPUT());
      expect(readStats(b.cacheDir).unsignedRecords).toBeGreaterThan(0);
      expect(warnings(second.result.stderr, "signed with another secret")).toBe(1);
      // B stored its misses signed with its secret: a third machine holding that secret takes them.
      const c = { ...b, cacheDir: join(tempDir("galley-machine-c-"), "cache") };
      const third = cachedBuild(c, { env: { ...backend.env(), GALLEY_STORE_SECRET: "ours" } });
      expect(third.misses).toEqual([]);
    });

    test.if(backend.wrongCredentials !== undefined)(
      "wrong credentials: the build passes on the local cache, the refusal said once",
      async () => {
        await backend.clear();
        const p = cacheProject();
        const build = cachedBuild(p, { env: backend.wrongCredentials!() });
        expect(appOutput(p)).toBe(APP_OUTPUT());
        expect(warnings(build.result.stderr, "shared store")).toBe(1);
        expect(readStats(p.cacheDir).remoteErrors).toBeGreaterThan(0);
        expect(await backend.count()).toBe(0);
      },
    );

    test("read-only: reads, never writes", async () => {
      await backend.clear();
      const { a } = twoMachines();
      const build = cachedBuild(a, { env: { ...backend.env(), GALLEY_STORE_READ_ONLY: "1" } });
      expect(build.misses.length).toBeGreaterThan(0);
      expect(await backend.count()).toBe(0);
    });
  });
}

describe("shared store faults", () => {
  test("wrong credentials: the build passes on the local cache, the failure said once; ping says no", async () => {
    const server = await startRedis({ password: "right" });
    try {
      const p = cacheProject();
      const env = { GALLEY_STORE: server.url.replace(":right@", ":wrong@") };
      const build = cachedBuild(p, { env });
      expect(appOutput(p)).toBe(APP_OUTPUT());
      expect(build.misses.length).toBeGreaterThan(0);
      expect(warnings(build.result.stderr, "shared store")).toBe(1);
      expect(readStats(p.cacheDir).remoteErrors).toBeGreaterThan(0);
      const ping = run([GALLEY, "cache", "ping"], { cwd: p.dir, env: { ...env, GALLEY_DIR: p.cacheDir } });
      expect(ping.code).toBe(1);
      expect(ping.stdout).toContain("read: no");
      const good = run([GALLEY, "cache", "ping"], { cwd: p.dir, env: { GALLEY_STORE: server.url } });
      expect(good.stdout.split("\n").filter(Boolean)).toEqual([
        expect.stringMatching(/^store redis:\/\/127\.0\.0\.1:\d+ answers \(\d+ ms\)$/),
        "read: yes",
        "write: yes",
      ]);
      expect(good.code).toBe(0);
    } finally {
      await server.stop();
    }
  });

  test("a server that accepts connections and never answers: time-outs, one warning, other processes leave it alone", async () => {
    const silent = await startSilentServer();
    try {
      const p = cacheProject();
      const started = performance.now();
      const build = cachedBuild(p, {
        env: { GALLEY_STORE: `redis://127.0.0.1:${silent.port}`, GALLEY_STORE_TIMEOUT_MS: "400" },
      });
      const secs = (performance.now() - started) / 1000;
      expect(appOutput(p)).toBe(APP_OUTPUT());
      expect(warnings(build.result.stderr, "shared store")).toBe(1);
      const events = build.events.filter((e) => e.outcome === "miss");
      // Processes after the first failure skip the store without asking.
      expect(events.some((e) => e.storeSkipped)).toBe(true);
      expect(secs).toBeLessThan(60);
      // ping says so within its time-outs, and exits at once (no socket left to wait for).
      for (const url of [
        `redis://127.0.0.1:${silent.port}`,
        `s3://b/p?endpoint=http://127.0.0.1:${silent.port}`,
      ]) {
        const t = performance.now();
        const ping = run([GALLEY, "cache", "ping"], {
          cwd: p.dir,
          env: {
            GALLEY_STORE: url,
            GALLEY_STORE_TIMEOUT_MS: "300",
            AWS_ACCESS_KEY_ID: "a",
            AWS_SECRET_ACCESS_KEY: "b",
          },
        });
        expect(ping.code).toBe(1);
        expect(ping.stdout).toContain("does not answer (no answer within 300 ms)");
        expect(performance.now() - t).toBeLessThan(5000);
      }
    } finally {
      await silent.stop();
    }
  });

  test("a full Redis (maxmemory, noeviction): the build passes, 'full' said once, reads go on", async () => {
    const server = await startRedis({ maxmemory: "1500kb" });
    try {
      const p = cacheProject();
      const build = cachedBuild(p, { env: { GALLEY_STORE: server.url } });
      expect(appOutput(p)).toBe(APP_OUTPUT());
      expect(warnings(build.result.stderr, "is full")).toBe(1);
      expect(build.result.stderr).toContain("maxmemory-policy");
    } finally {
      await server.stop();
    }
  });

  test("the server stopped mid-build: the build passes with the right output", async () => {
    const server = await startRedis();
    const p = cacheProject();
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      RUSTC_WRAPPER: GALLEY,
      GALLEY_DIR: p.cacheDir,
      CARGO_INCREMENTAL: "0",
      GALLEY_STORE: server.url,
      NO_COLOR: "1",
    };
    const build = Bun.spawn(["cargo", "build"], { cwd: p.dir, env, stdout: "pipe", stderr: "pipe" });
    // Stop the server once the first crate is done.
    const log = join(p.cacheDir, "v1", "stats.log");
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !(existsSync(log) && readFileSync(log, "utf8").length > 0))
      await Bun.sleep(20);
    await server.stop();
    expect(await build.exited).toBe(0);
    const stderr = await new Response(build.stderr).text();
    expect(appOutput(p)).toBe(APP_OUTPUT());
    expect(warnings(stderr, "shared store")).toBeLessThanOrEqual(1);
    expect(readStats(p.cacheDir).remoteErrors).toBeGreaterThan(0);
  });
});
