/**
 * Shared-store benchmark: release builds of bench/web-service warmed only from a shared store (a
 * fresh local cache dir and a fresh target dir, same checkout path), per backend, side by side with
 * plain cargo cold and sccache 0.19 on the same server:
 *
 *   plain cold | per backend (redis, s3): galley cold (fills the store), galley remote-warm,
 *   sccache cold, sccache remote-warm
 *
 * Then what a store that cannot be reached adds to a whole build (the small test/fixtures/cache-ws
 * project, cold: every unit asks the store): refused connections and a server that never answers.
 * Last, what connecting to Redis costs a wrapper process, without and with TLS.
 * Servers run on 127.0.0.1 (scripts/test-servers/ installs them).
 *
 *   flock /tmp/galley-bench.lock ./node_modules/.bin/bun bench/remote.ts [--project bench/web-service]
 *     [--galley dist/galley] [--sccache PATH] [--skip-sccache] [--only unreachable]
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { freePort, startRedis, startS3, startSilentServer } from "../test/servers.ts";

const REPO = resolve(import.meta.dir, "..");
const { values: opts } = parseArgs({
  options: {
    galley: { type: "string", default: join(REPO, "dist", "galley") },
    sccache: {
      type: "string",
      default: join(process.env.CARGO_HOME ?? join(homedir(), ".cargo"), "bin", "sccache"),
    },
    "skip-sccache": { type: "boolean", default: false },
    only: { type: "string" },
    project: { type: "string", default: join(REPO, "bench", "web-service") },
  },
});

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
  medianHitWrapperMs: number | null;
} {
  return JSON.parse(
    must(sh([opts.galley, "stats", "--json"], REPO, { GALLEY_DIR: dir }), "galley stats").out,
  );
}

function sccacheStats(env: Env): { hits: number; misses: number } {
  const out = must(
    sh([opts.sccache, "--show-stats", "--stats-format=json"], REPO, env),
    "sccache --show-stats",
  ).out;
  const s = JSON.parse(out).stats;
  const sum = (o: Record<string, number> | undefined) => Object.values(o ?? {}).reduce((a, b) => a + b, 0);
  return { hits: sum(s.cache_hits?.counts), misses: sum(s.cache_misses?.counts) };
}

async function redisCommands(url: string): Promise<Record<string, number>> {
  const c = new Bun.RedisClient(url);
  const info = (await c.send("INFO", ["commandstats"])) as string;
  c.close();
  const calls: Record<string, number> = {};
  for (const m of info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) calls[m[1]!] = Number(m[2]);
  return calls;
}

function row(name: string, t: Timed, base: Timed | undefined, extra: string): void {
  const ratio = base ? `${(t.seconds / base.seconds).toFixed(3)} / ${(t.cpu / base.cpu).toFixed(3)}` : "-";
  rows.push(`| ${name} | ${t.seconds.toFixed(1)} s | ${t.cpu.toFixed(1)} s | ${ratio} | ${extra} |`);
}

async function sharedStores(): Promise<void> {
  const project = join(work, "project");
  cpSync(resolve(opts.project), project, { recursive: true });
  rmSync(join(project, "target"), { recursive: true, force: true });
  // The web-service binary prints its dependencies' versions: a smoke test of what was restored.
  const smoke = opts.project.endsWith("web-service") ? "web-service" : undefined;
  must(sh(["cargo", "fetch", "--locked"], project), "cargo fetch");
  const redis = await startRedis();
  const s3 = await startS3();
  try {
    const plain = build(project, "plain cargo, cold", {}, smoke);
    row("plain cargo, cold", plain, plain, "-");
    const backends: { name: string; galley: Env; sccache: Env }[] = [
      {
        name: "redis",
        galley: { GALLEY_STORE: redis.url },
        sccache: { SCCACHE_REDIS_ENDPOINT: redis.url },
      },
      {
        name: "s3",
        galley: {
          GALLEY_STORE: `s3://${s3.bucket}/galley?endpoint=${encodeURIComponent(s3.endpoint)}`,
          AWS_ACCESS_KEY_ID: s3.accessKeyId,
          AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
        },
        sccache: {
          SCCACHE_BUCKET: s3.bucket,
          SCCACHE_S3_KEY_PREFIX: "sccache",
          SCCACHE_ENDPOINT: s3.endpoint,
          SCCACHE_REGION: "us-east-1",
          AWS_ACCESS_KEY_ID: s3.accessKeyId,
          AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
        },
      },
    ];
    for (const b of backends) {
      const wrapper = join(shims, "sccache");
      const aDir = join(work, `galley-${b.name}-a`);
      const cold = build(
        project,
        `galley ${b.name}, cold`,
        { RUSTC_WRAPPER: wrapper, GALLEY_DIR: aDir, ...b.galley },
        smoke,
      );
      const cs = galleyStats(aDir);
      row(`galley ${b.name}, cold (fills the store)`, cold, plain, `${cs.hits} hits, ${cs.misses} misses`);
      const bDir = join(work, `galley-${b.name}-b`);
      const before = b.name === "redis" ? await redisCommands(redis.url) : {};
      const warm = build(
        project,
        `galley ${b.name}, remote-warm`,
        { RUSTC_WRAPPER: wrapper, GALLEY_DIR: bDir, ...b.galley },
        smoke,
      );
      const ws = galleyStats(bDir);
      row(
        `galley ${b.name}, remote-warm`,
        warm,
        plain,
        `${ws.hits} hits (${ws.remoteHits} remote), ${ws.misses} misses; median hit ${ws.medianHitWrapperMs?.toFixed(1)} ms`,
      );
      if (b.name === "redis") {
        const after = await redisCommands(redis.url);
        const d = (cmd: string) => (after[cmd] ?? 0) - (before[cmd] ?? 0);
        notes.push(
          `galley redis remote-warm: ${d("get")} GET (records and blobs), ${d("set")} SET, ${d("exists")} EXISTS for ${ws.hits} hits and ${ws.misses} misses; blobs of one lookup are pipelined (one round trip)`,
        );
      }
      if (opts["skip-sccache"] || !existsSync(opts.sccache)) continue;
      for (const phase of ["cold", "remote-warm"]) {
        const env = {
          RUSTC_WRAPPER: opts.sccache,
          SCCACHE_DIR: join(work, `sccache-${b.name}-${phase}`),
          ...b.sccache,
        };
        sh([opts.sccache, "--stop-server"], REPO, env);
        must(sh([opts.sccache, "--start-server"], REPO, env), "sccache --start-server");
        try {
          const t = build(project, `sccache 0.19 ${b.name}, ${phase}`, env, smoke);
          const s = sccacheStats(env);
          row(`sccache 0.19 ${b.name}, ${phase}`, t, plain, `${s.hits} hits, ${s.misses} misses`);
        } catch (err) {
          notes.push(
            `sccache 0.19 ${b.name}, ${phase}: failed: ${(err as Error).message.split("\n").slice(0, 3).join(" ")}`,
          );
        } finally {
          sh([opts.sccache, "--stop-server"], REPO, env);
        }
      }
    }
  } finally {
    await redis.stop();
    await s3.stop();
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
  must(
    sh(
      [
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "key.pem",
        "-out",
        "cert.pem",
      ].concat(["-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]),
      dir,
    ),
    "openssl req",
  );
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
        join(dir, "cert.pem"),
        "--tls-key-file",
        join(dir, "key.pem"),
        "--tls-ca-cert-file",
        join(dir, "cert.pem"),
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
            NODE_EXTRA_CA_CERTS: join(dir, "cert.pem"),
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
  if (opts.only !== "unreachable") await sharedStores();
  await unreachable();
  await connections();
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
