/**
 * What a shared store that is dead, slow or half-broken adds to a build, on bench/web-service
 * (release), through sccache's Redis variable (SCCACHE_REDIS), as a CI job set up for sccache has it:
 *
 *   warm: a fresh target dir with the local cache of a cold build (prefilled at the first probe)
 *   edit: the same, after a one-line edit of the service's own crate (its units miss locally, so
 *         they ask the shared store, compile, and store there)
 *
 * for each store: none | refused connections | accepts and never answers | answers 4 bytes every
 * 250 ms | answers lookups at once and hangs on every write. The "none" builds run first and last
 * (the machine drifts); every case is built --runs times and compared by medians, wall and CPU.
 *
 *   ./node_modules/.bin/bun bench/slow-store.ts [--galley dist/galley] [--runs 3] [--project bench/web-service]
 */
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type RedisProxy, startRedisProxy } from "../test/integration/hostile/redis-proxy.ts";
import { startRedis, startSilentServer } from "../test/servers.ts";

const REPO = resolve(import.meta.dir, "..");
const { values: opts } = parseArgs({
  options: {
    galley: { type: "string", default: join(REPO, "dist", "galley") },
    runs: { type: "string", default: "3" },
    project: { type: "string", default: join(REPO, "bench", "web-service") },
  },
});
const galley = resolve(opts.galley);
const runs = Number(opts.runs);

type Env = Record<string, string>;
interface Timed {
  seconds: number;
  cpu: number;
}

const work = mkdtempSync(join(tmpdir(), "galley-bench-slow-"));
const project = join(work, "project");
cpSync(opts.project, project, { recursive: true });
const cache = join(work, "cache");
const base: Env = { RUSTC_WRAPPER: galley, GALLEY_DIR: cache, CARGO_INCREMENTAL: "0" };

/**
 * One release build, timed: wall, and CPU of cargo and all it waited for (bash's `times`). Not
 * spawnSync: the proxy that plays the slow store runs in this process and must go on answering.
 */
async function build(env: Env): Promise<Timed> {
  const script = `cargo build --release --locked -q; code=$?; times; exit $code`;
  const started = performance.now();
  const p = Bun.spawn(["bash", "-c", script], {
    cwd: project,
    env: { ...process.env, ...base, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  await p.exited;
  const seconds = (performance.now() - started) / 1000;
  if (p.exitCode !== 0) throw new Error(`build failed (${p.exitCode}):\n${err.slice(-3000)}`);
  // `times` prints the shell's and its children's user/sys: the second line is the children's.
  const line = out.trim().split("\n").at(-1) ?? "";
  const cpu = [...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce(
    (s, m) => s + Number(m[1]) * 60 + Number(m[2]),
    0,
  );
  return { seconds, cpu };
}

let aside = 0;
/** The target dir is moved aside, not deleted, while builds run (deleting thousands of files slows ext4). */
function freshTarget(): void {
  try {
    renameSync(join(project, "target"), join(work, `aside-${aside++}`));
  } catch {}
}

const main = join(project, "src", "main.rs");
const original = readFileSync(main, "utf8");
let edits = 0;
/** A one-line edit of the service's own crate: a new comment changes its source, so its units miss. */
function edit(): void {
  writeFileSync(main, `${original}\n// edit ${++edits}\n`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Case {
  name: string;
  env: () => Env;
}

console.error(`work dir ${work}; fetching crates and building cold (not timed)...`);
Bun.spawnSync(["cargo", "fetch", "--locked"], { cwd: project, stdout: "ignore", stderr: "inherit" });
await build({});
const redis = await startRedis();
const silent = await startSilentServer();
let proxy: RedisProxy | undefined;
const rows: string[] = [];
try {
  proxy = await startRedisProxy(redis.port);
  const p = proxy;
  const cases: Case[] = [
    { name: "no shared store", env: () => ({}) },
    { name: "refuses connections", env: () => ({ SCCACHE_REDIS: "redis://127.0.0.1:1" }) },
    { name: "accepts, never answers", env: () => ({ SCCACHE_REDIS: `redis://127.0.0.1:${silent.port}` }) },
    {
      name: "answers 4 bytes every 250 ms",
      env: () => {
        p.mode = { fault: "trickle", writes: "forward" };
        return p.env();
      },
    },
    {
      name: "answers lookups, hangs on writes",
      env: () => {
        p.mode = { fault: "hangWrites", writes: "hang" };
        return p.env();
      },
    },
    { name: "no shared store (again)", env: () => ({}) },
  ];
  const results = new Map<string, { warm: Timed[]; edit: Timed[] }>();
  for (let round = 0; round < runs; round++) {
    for (const c of cases) {
      const r = results.get(c.name) ?? { warm: [], edit: [] };
      freshTarget();
      r.warm.push(await build(c.env()));
      edit();
      r.edit.push(await build(c.env()));
      results.set(c.name, r);
      console.error(
        `round ${round + 1}: ${c.name}: warm ${r.warm.at(-1)!.seconds.toFixed(2)} s, edit ${r.edit.at(-1)!.seconds.toFixed(2)} s`,
      );
    }
  }
  const none = [...results.get(cases[0]!.name)!.warm, ...results.get(cases.at(-1)!.name)!.warm];
  const noneEdit = [...results.get(cases[0]!.name)!.edit, ...results.get(cases.at(-1)!.name)!.edit];
  const baseWarm = median(none.map((t) => t.seconds));
  const baseEdit = median(noneEdit.map((t) => t.seconds));
  rows.push(
    `| shared store | warm: wall (CPU) | added | after an edit: wall (CPU) | added |`,
    `| --- | --- | --- | --- | --- |`,
  );
  for (const c of cases) {
    const r = results.get(c.name)!;
    const w = median(r.warm.map((t) => t.seconds));
    const e = median(r.edit.map((t) => t.seconds));
    rows.push(
      `| ${c.name} | ${w.toFixed(2)} s (${median(r.warm.map((t) => t.cpu)).toFixed(2)} s) | ${(w - baseWarm >= 0 ? "+" : "") + (w - baseWarm).toFixed(2)} s | ${e.toFixed(2)} s (${median(r.edit.map((t) => t.cpu)).toFixed(2)} s) | ${(e - baseEdit >= 0 ? "+" : "") + (e - baseEdit).toFixed(2)} s |`,
    );
  }
} finally {
  await proxy?.stop();
  await silent.stop();
  await redis.stop();
  writeFileSync(main, original);
  console.log(
    [
      `${navigator.hardwareConcurrency} cores; medians of ${runs}; "added" is against the median of both "no shared store" rows`,
      "",
      ...rows,
    ].join("\n"),
  );
  rmSync(work, { recursive: true, force: true });
}
