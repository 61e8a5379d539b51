/**
 * Shared-store benchmark: release builds of bench/web-service warmed only from a shared store (a
 * fresh local cache dir and a fresh target dir, same checkout path), per backend, side by side with
 * plain cargo cold and sccache 0.19 on the same server, in one run:
 *
 *   plain cold | galley cold with the first backend (fills it) | the other backends seeded from
 *   that build's local store through galley's Store API (`--fill build`: one galley cold build per
 *   backend instead) | per backend: galley remote-warm | per server sccache supports (Redis, S3,
 *   WebDAV): sccache cold (fills it), sccache remote-warm | plain cold again (drift)
 *
 * Backends: Redis, S3 (s3s-fs), bazel-remote over HTTP and over gRPC (two separate servers),
 * BuildGrid over gRPC, nginx WebDAV; all on 127.0.0.1 (scripts/test-servers/ installs them).
 * Ratios are against the mean of the two plain cold builds. CPU is user+sys of cargo and all it
 * waited for; for sccache the server's own CPU and that of the compilers it ran (they are not
 * cargo's children) are added from /proc.
 *
 * Then what a store that cannot be reached adds to a whole build (the small test/fixtures/cache-ws
 * project, cold: every unit asks the store): refused connections and a server that never answers.
 * Last, what connecting to Redis costs a wrapper process, without and with TLS.
 *
 *   ./node_modules/.bin/bun bench/remote.ts [--project bench/web-service]
 *     [--galley dist/galley] [--sccache PATH] [--skip-sccache] [--fill seed|build]
 *     [--backends redis,s3,http,grpc,buildgrid,webdav] [--only shared|unreachable|connect,...]
 *
 * sccache must be built with its remote backends (`cargo install sccache --locked --version 0.19.0
 * --features redis,s3,webdav` or the default features): a build without them silently caches on
 * local disk only, which this script detects and reports instead of timing it.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { storeConfig } from "../src/cache/engine/store-config.ts";
import { DiskStore } from "../src/cache/store/disk.ts";
import { openBackend } from "../src/cache/store/open.ts";
import { getBlobs, putBlobs } from "../src/cache/store/store.ts";
import {
  selfSignedCert,
  startBazelRemote,
  startBuildGrid,
  startNginx,
} from "../test/integration/store/servers.ts";
import { freePort, startRedis, startS3, startSilentServer } from "../test/servers.ts";

const REPO = resolve(import.meta.dir, "..");
const ALL_BACKENDS = ["redis", "s3", "http", "grpc", "buildgrid", "webdav"];
const { values: opts } = parseArgs({
  options: {
    galley: { type: "string", default: join(REPO, "dist", "galley") },
    sccache: {
      type: "string",
      default: join(process.env.CARGO_HOME ?? join(homedir(), ".cargo"), "bin", "sccache"),
    },
    "skip-sccache": { type: "boolean", default: false },
    fill: { type: "string", default: "seed" },
    backends: { type: "string", default: ALL_BACKENDS.join(",") },
    only: { type: "string", default: "shared,unreachable,connect" },
    project: { type: "string", default: join(REPO, "bench", "web-service") },
  },
});
// A relative --galley would not be found from the project's directory, where cargo runs it.
opts.galley = resolve(opts.galley);
if (opts.fill !== "seed" && opts.fill !== "build") throw new Error("--fill is seed or build");
const wanted = opts.backends.split(",");
for (const b of wanted) if (!ALL_BACKENDS.includes(b)) throw new Error(`--backends: no backend ${b}`);
const parts = opts.only.split(",");

type Env = Record<string, string | undefined>;
interface Timed {
  seconds: number;
  cpu: number;
}

function sh(argv: string[], cwd: string, env: Env = {}): { code: number; out: string; err: string } & Timed {
  const started = performance.now();
  const p = Bun.spawnSync(argv, {
    cwd,
    env: { ...process.env, ...env } as Record<string, string>,
    stdout: "pipe",
    stderr: "pipe",
  });
  const seconds = (performance.now() - started) / 1000;
  const u = p.resourceUsage;
  const cpu = u ? (Number(u.cpuTime.user) + Number(u.cpuTime.system)) / 1e6 : Number.NaN;
  return { code: p.exitCode ?? -1, out: p.stdout.toString(), err: p.stderr.toString(), seconds, cpu };
}

function must<T extends { code: number; err: string }>(r: T, what: string): T {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}):\n${r.err.slice(-3000)}`);
  return r;
}

const work = mkdtempSync(join(tmpdir(), "galley-bench-remote-"));
const shims = join(work, "shims");
must(sh([opts.galley, "shims", "install", shims], REPO), "galley shims install");
const rows: string[] = [];
const notes: string[] = [];

function build(project: string, name: string, env: Env, smoke?: string): Timed {
  rmSync(join(project, "target"), { recursive: true, force: true });
  const r = must(
    sh(["cargo", "build", "--release", "--locked", "--offline"], project, { CARGO_INCREMENTAL: "0", ...env }),
    name,
  );
  if (smoke) {
    const out = must(sh([join(project, "target/release", smoke)], project), `${name}: run the binary`).out;
    if (smoke === "web-service" && !out.includes('"sqlite"'))
      throw new Error(`${name}: unexpected output ${out}`);
  }
  console.error(`${name}: ${r.seconds.toFixed(1)} s wall, ${r.cpu.toFixed(1)} s CPU`);
  return r;
}

function galleyStats(dir: string): {
  hits: number;
  misses: number;
  remoteHits: number;
  prefilled: number;
  medianHitWrapperMs: number | null;
} {
  return JSON.parse(
    must(sh([opts.galley, "stats", "--json"], REPO, { GALLEY_DIR: dir }), "galley stats").out,
  );
}

interface SccacheInfo {
  hits: number;
  misses: number;
  location: string;
}

function sccacheStats(env: Env): SccacheInfo {
  const out = must(
    sh([opts.sccache, "--show-stats", "--stats-format=json"], REPO, env),
    "sccache --show-stats",
  ).out;
  const info = JSON.parse(out);
  const s = info.stats;
  const sum = (o: Record<string, number> | undefined) => Object.values(o ?? {}).reduce((a, b) => a + b, 0);
  return {
    hits: sum(s.cache_hits?.counts),
    misses: sum(s.cache_misses?.counts),
    location: info.cache_location,
  };
}

/**
 * CPU seconds of the sccache server listening on `port` and of the compilers it ran and reaped
 * (utime, stime, cutime, cstime of /proc/PID/stat): it is not cargo's child, so cargo's CPU time
 * leaves it out.
 */
function sccacheServerCpu(port: string): number {
  const tick = Number(sh(["getconf", "CLK_TCK"], REPO).out.trim()) || 100;
  for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (!cmd[0]?.endsWith("sccache") || cmd.length > 2) continue;
      const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      if (!environ.includes(`SCCACHE_SERVER_PORT=${port}`) || !environ.includes("SCCACHE_START_SERVER=1"))
        continue;
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      // Fields 14-17 of stat (utime stime cutime cstime) are 11-14 after "pid (comm) ".
      return fields.slice(11, 15).reduce((a, f) => a + Number(f), 0) / tick;
    } catch {}
  }
  return Number.NaN;
}

async function redisCommands(url: string): Promise<Record<string, number>> {
  const c = new Bun.RedisClient(url);
  const info = (await c.send("INFO", ["commandstats"])) as string;
  c.close();
  const calls: Record<string, number> = {};
  for (const m of info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) calls[m[1]!] = Number(m[2]);
  return calls;
}

function row(name: string, t: Timed, base: Timed, extra: string): void {
  rows.push(
    `| ${name} | ${t.seconds.toFixed(1)} s | ${t.cpu.toFixed(1)} s | ${(t.seconds / base.seconds).toFixed(3)} / ${(t.cpu / base.cpu).toFixed(3)} | ${extra} |`,
  );
}

/**
 * Copies every record of a local store, blobs first, into a shared one through galley's Store API:
 * what the galley cold build would have written there.
 */
async function seed(from: string, env: Env): Promise<{ actions: number; blobs: number; seconds: number }> {
  const started = performance.now();
  // The backends read credentials from the process's environment (AWS_* for S3), as a wrapper does.
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const config = await storeConfig(process.env);
  if (!config) throw new Error("seed: no store configured");
  const remote = await openBackend(config);
  const local = new DiskStore(from);
  const acRoot = join(from, "v1", "ac");
  let actions = 0;
  let blobs = 0;
  try {
    for (const shard of readdirSync(acRoot)) {
      for (const key of readdirSync(join(acRoot, shard))) {
        const result = await local.getAction(key);
        if (!result) continue;
        const digests = [...result.outputs.map((o) => o.digest), result.stdout, result.stderr].filter(
          (d): d is string => d !== undefined,
        );
        const found = await getBlobs(local, digests);
        if (found.size !== new Set(digests).size) throw new Error(`seed: blobs of ${key} missing locally`);
        await putBlobs(remote, found);
        await remote.putAction(key, result);
        actions++;
        blobs += found.size;
      }
    }
  } finally {
    remote.close?.();
    for (const k of Object.keys(env)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
  return { actions, blobs, seconds: (performance.now() - started) / 1000 };
}

interface Backend {
  name: string;
  galley: Env;
  /** sccache's settings for the same server, where sccache has a backend for it. */
  sccache?: Env;
}

async function sharedStores(): Promise<void> {
  const project = join(work, "project");
  cpSync(resolve(opts.project), project, { recursive: true });
  rmSync(join(project, "target"), { recursive: true, force: true });
  // The web-service binary prints its dependencies' versions: a smoke test of what was restored.
  const smoke = opts.project.replace(/\/+$/, "").endsWith("web-service") ? "web-service" : undefined;
  must(sh(["cargo", "fetch", "--locked"], project), "cargo fetch");
  const stops: (() => Promise<void>)[] = [];
  const backends: Backend[] = [];
  try {
    for (const name of wanted) {
      if (name === "redis") {
        const redis = await startRedis();
        stops.push(redis.stop);
        backends.push({
          name: "redis",
          galley: { GALLEY_STORE: redis.url },
          sccache: { SCCACHE_REDIS_ENDPOINT: redis.url, SCCACHE_REDIS_KEY_PREFIX: "sccache/" },
        });
      } else if (name === "s3") {
        const s3 = await startS3();
        stops.push(s3.stop);
        const creds = { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey };
        backends.push({
          name: "s3 (s3s-fs)",
          galley: {
            GALLEY_STORE: `s3://${s3.bucket}/galley?endpoint=${encodeURIComponent(s3.endpoint)}`,
            ...creds,
          },
          sccache: {
            SCCACHE_BUCKET: s3.bucket,
            SCCACHE_S3_KEY_PREFIX: "sccache",
            SCCACHE_ENDPOINT: s3.endpoint,
            SCCACHE_S3_USE_SSL: "false",
            SCCACHE_REGION: "us-east-1",
            ...creds,
          },
        });
      } else if (name === "http") {
        const br = await startBazelRemote();
        stops.push(br.stop);
        backends.push({ name: "bazel-remote HTTP", galley: { GALLEY_STORE: br.http } });
      } else if (name === "grpc") {
        const br = await startBazelRemote();
        stops.push(br.stop);
        backends.push({ name: "bazel-remote gRPC", galley: { GALLEY_STORE: br.grpc } });
      } else if (name === "buildgrid") {
        const bg = await startBuildGrid(1);
        stops.push(bg.stop);
        backends.push({ name: "BuildGrid gRPC", galley: { GALLEY_STORE: bg.grpc(0) } });
      } else if (name === "webdav") {
        const nginx = await startNginx();
        stops.push(nginx.stop);
        backends.push({
          name: "nginx WebDAV",
          galley: { GALLEY_STORE: `webdav+${nginx.url}/galley` },
          // nginx creates the directories of a PUT itself (create_full_put_path); it has no MKCOL here.
          sccache: {
            SCCACHE_WEBDAV_ENDPOINT: `${nginx.url}/sccache`,
            SCCACHE_WEBDAV_DISABLE_CREATE_DIR: "true",
          },
        });
      }
    }
    const timed: { name: string; t: Timed; extra: string }[] = [];
    const plain1 = build(project, "plain cargo, cold (before)", {}, smoke);
    timed.push({ name: "plain cargo, cold (before)", t: plain1, extra: "-" });
    const wrapper = join(shims, "sccache");

    // Fill: a galley cold build with the first backend, then seed the others from its local store.
    for (const [i, b] of backends.entries()) {
      if (i > 0 && opts.fill === "seed") {
        const s = await seed(join(work, `galley-${backends[0]!.name}-a`), b.galley);
        notes.push(
          `${b.name}: seeded from the ${backends[0]!.name} cold build's local store through galley's Store API: ${s.actions} records, ${s.blobs} blobs in ${s.seconds.toFixed(1)} s (not timed as a build)`,
        );
        continue;
      }
      const aDir = join(work, `galley-${b.name}-a`);
      const cold = build(
        project,
        `galley ${b.name}, cold`,
        { RUSTC_WRAPPER: wrapper, GALLEY_DIR: aDir, ...b.galley },
        smoke,
      );
      const cs = galleyStats(aDir);
      timed.push({
        name: `galley ${b.name}, cold (fills the store)`,
        t: cold,
        extra: `${cs.hits} hits, ${cs.misses} misses`,
      });
    }

    // Remote-warm: a fresh local cache dir and target dir, the store the only source.
    for (const b of backends) {
      const bDir = join(work, `galley-${b.name}-b`);
      const redisUrl = b.name === "redis" ? b.galley.GALLEY_STORE! : undefined;
      const before = redisUrl ? await redisCommands(redisUrl) : {};
      const warm = build(
        project,
        `galley ${b.name}, remote-warm`,
        { RUSTC_WRAPPER: wrapper, GALLEY_DIR: bDir, ...b.galley },
        smoke,
      );
      const ws = galleyStats(bDir);
      timed.push({
        name: `galley ${b.name}, remote-warm`,
        t: warm,
        extra: `${ws.hits} hits (${ws.remoteHits} remote, ${ws.prefilled} of them prefilled), ${ws.misses} misses; median hit in a wrapper ${ws.medianHitWrapperMs?.toFixed(1)} ms`,
      });
      if (redisUrl) {
        const after = await redisCommands(redisUrl);
        const d = (cmd: string) => (after[cmd] ?? 0) - (before[cmd] ?? 0);
        notes.push(
          `galley redis remote-warm: ${d("get")} GET (records and blobs), ${d("set")} SET, ${d("exists")} EXISTS for ${ws.hits} hits (${ws.remoteHits} remote) and ${ws.misses} misses`,
        );
      }
    }

    if (!opts["skip-sccache"] && existsSync(opts.sccache)) {
      for (const b of backends) {
        if (!b.sccache) continue;
        const port = String(await freePort());
        for (const phase of ["cold", "remote-warm"]) {
          const env: Env = {
            RUSTC_WRAPPER: opts.sccache,
            SCCACHE_DIR: join(work, `sccache-${b.name}-${phase}`),
            SCCACHE_SERVER_PORT: port,
            SCCACHE_IDLE_TIMEOUT: "0",
            ...b.sccache,
          };
          const name = `sccache 0.19 ${b.name}, ${phase}`;
          sh([opts.sccache, "--stop-server"], REPO, env);
          try {
            must(sh([opts.sccache, "--start-server"], REPO, env), "sccache --start-server");
            const where = sccacheStats(env).location;
            if (where.startsWith("Local disk"))
              throw new Error(
                `this sccache has no backend for ${b.name} (it caches on "${where}"); install one built with its default features`,
              );
            const t = build(project, name, env, smoke);
            const s = sccacheStats(env);
            const server = sccacheServerCpu(port);
            timed.push({
              name,
              t: { seconds: t.seconds, cpu: t.cpu + server },
              extra: `${s.hits} hits, ${s.misses} misses (${where}); CPU incl. ${server.toFixed(1)} s of its server and the compilers it ran`,
            });
          } catch (err) {
            notes.push(`${name}: failed: ${(err as Error).message.split("\n").slice(0, 3).join(" ")}`);
            break;
          } finally {
            sh([opts.sccache, "--stop-server"], REPO, env);
          }
        }
      }
    }

    const plain2 = build(project, "plain cargo, cold (after)", {}, smoke);
    timed.push({ name: "plain cargo, cold (after)", t: plain2, extra: "-" });
    const base = { seconds: (plain1.seconds + plain2.seconds) / 2, cpu: (plain1.cpu + plain2.cpu) / 2 };
    notes.unshift(
      `fill: ${opts.fill === "seed" ? `one galley cold build with ${backends[0]?.name}, the other stores seeded from its local store` : "one galley cold build per backend"}; baseline: mean of the plain cold builds before and after, ${base.seconds.toFixed(1)} s wall, ${base.cpu.toFixed(1)} s CPU`,
    );
    for (const { name, t, extra } of timed) row(name, t, base, extra);
    for (const b of backends) {
      const g = timed.find((x) => x.name === `galley ${b.name}, remote-warm`);
      const s = timed.find((x) => x.name === `sccache 0.19 ${b.name}, remote-warm`);
      if (g && s)
        notes.push(
          `${b.name}: galley remote-warm / sccache remote-warm = ${(g.t.seconds / s.t.seconds).toFixed(3)} wall, ${(g.t.cpu / s.t.cpu).toFixed(3)} CPU`,
        );
    }
  } finally {
    for (const stop of stops) await stop().catch(() => {});
  }
}

/** A cold build of the small fixture with no store, a refused one and a silent one. */
async function unreachable(): Promise<void> {
  const project = join(work, "cache-ws");
  cpSync(join(REPO, "test", "fixtures", "cache-ws"), project, { recursive: true });
  must(sh(["cargo", "fetch", "--locked"], project), "cargo fetch");
  const silent = await startSilentServer();
  try {
    const cases: [string, Env][] = [
      ["galley, no store", {}],
      ["galley, store refuses connections", { GALLEY_STORE: "redis://127.0.0.1:1" }],
      ["galley, store accepts and never answers", { GALLEY_STORE: `redis://127.0.0.1:${silent.port}` }],
    ];
    const times = new Map<string, Timed[]>();
    for (let round = 0; round < 3; round++) {
      for (const [name, env] of cases) {
        const dir = join(work, `unreachable-${round}-${name.replace(/\W+/g, "-")}`);
        const t = build(project, `${name} (round ${round + 1})`, {
          RUSTC_WRAPPER: opts.galley,
          GALLEY_DIR: dir,
          ...env,
        });
        times.set(name, [...(times.get(name) ?? []), t]);
      }
    }
    const median = (ts: Timed[], k: keyof Timed) => [...ts.map((t) => t[k])].sort((a, b) => a - b)[1]!;
    const base = {
      seconds: median(times.get(cases[0]![0])!, "seconds"),
      cpu: median(times.get(cases[0]![0])!, "cpu"),
    };
    for (const [name] of cases) {
      const m = { seconds: median(times.get(name)!, "seconds"), cpu: median(times.get(name)!, "cpu") };
      rows.push(
        `| ${name} (cache-ws, cold, median of 3) | ${m.seconds.toFixed(2)} s | ${m.cpu.toFixed(2)} s | +${(m.seconds - base.seconds).toFixed(2)} s wall, +${(m.cpu - base.cpu).toFixed(2)} s CPU | - |`,
      );
    }
  } finally {
    await silent.stop();
  }
}

/**
 * What a wrapper process pays to reach Redis, without and with TLS: `galley cache ping` says how
 * long connecting and the first request took ("answers (N ms)"); its whole run is timed too.
 */
async function connections(): Promise<void> {
  const dir = join(work, "tls");
  mkdirSync(dir, { recursive: true });
  const { cert, key } = selfSignedCert(dir);
  const plainPort = await freePort();
  const tlsPort = await freePort();
  const servers = [
    Bun.spawn(["redis-server", "--port", String(plainPort), "--bind", "127.0.0.1", "--save", ""], {
      stdout: "ignore",
    }),
    Bun.spawn(
      [
        "redis-server",
        "--port",
        "0",
        "--tls-port",
        String(tlsPort),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--tls-cert-file",
        cert,
        "--tls-key-file",
        key,
        "--tls-ca-cert-file",
        cert,
        "--tls-auth-clients",
        "no",
      ],
      { stdout: "ignore" },
    ),
  ];
  await Bun.sleep(500);
  try {
    for (const url of [`redis://127.0.0.1:${plainPort}`, `rediss://127.0.0.1:${tlsPort}`]) {
      const answers: number[] = [];
      const walls: number[] = [];
      for (let i = 0; i < 15; i++) {
        const r = must(
          sh([opts.galley, "cache", "ping"], REPO, {
            GALLEY_STORE: url,
            NODE_EXTRA_CA_CERTS: cert,
          }),
          "galley cache ping",
        );
        answers.push(Number(/answers \((\d+) ms\)/.exec(r.out)?.[1]));
        walls.push(r.seconds * 1000);
      }
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      notes.push(
        `${url.split(":")[0]}: connect + first request ${med(answers)} ms (median of 15); whole \`galley cache ping\` process ${med(walls).toFixed(0)} ms`,
      );
    }
  } finally {
    for (const p of servers) p.kill();
  }
}

try {
  if (parts.includes("shared")) await sharedStores();
  if (parts.includes("unreachable")) await unreachable();
  if (parts.includes("connect")) await connections();
} finally {
  console.log(
    [
      `machine: ${navigator.hardwareConcurrency} cores; rustc ${sh(["rustc", "--version"], REPO).out.trim()}`,
      "",
      "| build | wall | CPU (user+sys) | × plain cold (wall / CPU) | cache |",
      "| --- | --- | --- | --- | --- |",
      ...rows,
      "",
      ...notes,
    ].join("\n"),
  );
  rmSync(work, { recursive: true, force: true });
}
