/**
 * Memory benchmark: the peak resident memory of galley's own processes. cargo runs up to `-j`
 * wrapper processes at once and each holds what it reads, so the number that matters is the peak of
 * one process, by kind of process, not a total. Every wrapper process stamps its peak RSS on the
 * first stats event it records (`peakRssKb`); this reads those stamps from each build's stats log
 * and prints, for each kind (hit, miss, pass-through, failed compile, the prefill probe), the
 * median, p95 (nearest rank) and max, in one run:
 *
 *   web: release builds of bench/web-service: cold with each shared store (Redis, bazel-remote over
 *     gRPC; the first cold build's cache is then the local one) | warm (a fresh target dir, the same
 *     local cache, no shared store: prefill at the probe, then local hits) | the same with prefill
 *     off (GALLEY_PREFILL=0: every unit is a wrapper process's hit) | per store, remote-warm with
 *     and without prefill (a fresh local cache and target dir each: prefill from the store's index,
 *     or every unit a remote hit in its wrapper) | `galley cache gc --auto` over the warm cache (a
 *     miss that stores starts one now and then; it records no stats, so it is measured from outside)
 *   big: a crate whose rlib is over 100 MB (a static of random bytes, which zstd cannot shrink):
 *     cold (a miss that stores it) and warm (a hit that restores it), with the local store only and
 *     with each shared store (cold fills it, remote-warm reads it into a fresh local cache). Here
 *     galley runs under bench/peak-rss.ts, which also takes the whole process's peak from the kernel
 *     (wait4) as a check on the stamp; for a miss that figure includes rustc's own peak.
 *   floor: `galley --version`, the executable's own footprint (wait4).
 *
 * The stamp is VmHWM from /proc/self/status: the peak of the process image alone, which starts
 * afresh at exec (getrusage's maxRSS would carry the peak of the cargo that forked the process).
 * The "cargo itself" rows give cargo's own peak beside it. After a build with a shared store,
 * `galley cache flush` sends what the build left to the background upload queue (as a CI job's last
 * step does), so the remote-warm build after it finds the store filled.
 *
 * Servers (redis-server, bazel-remote; scripts/test-servers/ installs them) run on 127.0.0.1 and
 * are stopped here.
 *
 *   ./node_modules/.bin/bun bench/memory.ts [--galley dist/galley] [--only floor,web,big]
 *     [--stores redis,grpc] [--big-mb 120] [--project bench/web-service] [--keep]
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { StatEvent } from "../src/cache/engine/stat-event.ts";
import { WRAPPER_MEMORY_BUDGET_BYTES } from "../src/cache/store/limits.ts";
import { startBazelRemote } from "../test/integration/store/servers.ts";
import { startRedis } from "../test/servers.ts";

const REPO = resolve(import.meta.dir, "..");
const PARTS = ["floor", "web", "big"];
const STORES = ["redis", "grpc"];
const { values: opts } = parseArgs({
  options: {
    galley: { type: "string", default: join(REPO, "dist", "galley") },
    only: { type: "string", default: PARTS.join(",") },
    /** Shared stores, in order; the first one's cold web-service build is the warm build's cache. */
    stores: { type: "string", default: STORES.join(",") },
    "big-mb": { type: "string", default: "120" },
    project: { type: "string", default: join(REPO, "bench", "web-service") },
    keep: { type: "boolean", default: false },
  },
});
// A relative --galley would not be found from the project's directory, where cargo runs it.
const galley = resolve(opts.galley);
const parts = opts.only.split(",").filter(Boolean);
for (const p of parts) if (!PARTS.includes(p)) throw new Error(`--only: no part ${p} (${PARTS.join(", ")})`);
const storeNames = opts.stores === "none" ? [] : opts.stores.split(",").filter(Boolean);
for (const s of storeNames) if (!STORES.includes(s)) throw new Error(`--stores: no store ${s}`);
const bigMb = Number(opts["big-mb"]);
if (!(bigMb > 0)) throw new Error("--big-mb: a size in MB");

type Env = Record<string, string | undefined>;

/**
 * The bench's environment with no galley, sccache or wrapper settings of the caller's: each build
 * says where its cache is and which store it uses, and nothing else leaks in.
 */
function baseEnv(): Env {
  const env: Env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(GALLEY_|SCCACHE_|RUSTC_WRAPPER$|RUSTC_WORKSPACE_WRAPPER$|CARGO_TARGET_DIR$|CARGO_BUILD_)/.test(k))
      continue;
    env[k] = v;
  }
  return env;
}

function sh(argv: string[], cwd: string, env: Env = {}) {
  const started = performance.now();
  const p = Bun.spawnSync(argv, {
    cwd,
    env: { ...baseEnv(), ...env } as Record<string, string>,
    stdout: "pipe",
    stderr: "pipe",
  });
  return {
    code: p.exitCode ?? -1,
    out: p.stdout.toString(),
    err: p.stderr.toString(),
    seconds: (performance.now() - started) / 1000,
    // Bun.spawnSync reports maxRSS in bytes (process.resourceUsage() reports KiB).
    rssKb: Math.round((p.resourceUsage?.maxRSS ?? 0) / 1024),
  };
}

function must<T extends { code: number; err: string }>(r: T, what: string): T {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}):\n${r.err.slice(-3000)}`);
  return r;
}

/**
 * cargo, with the largest anonymous memory its process held (RssAnon, polled until it exits; the
 * rustup proxy execs the real cargo, so the pid is cargo's). cargo forks each wrapper process, and
 * the kernel carries the forked copy's resident memory (cargo's anonymous pages at that moment)
 * into the peak that getrusage reports for the process after exec: a wrapper's `peakRssKb` is never
 * below that, so stamps up to this figure may be cargo's memory, not galley's.
 */
async function cargo(args: string[], cwd: string, env: Env) {
  const started = performance.now();
  const p = Bun.spawn(["cargo", ...args], {
    cwd,
    env: { ...baseEnv(), ...env } as Record<string, string>,
    stdout: "pipe",
    stderr: "pipe",
  });
  let anonKb = 0;
  const poll = () => {
    try {
      const m = /RssAnon:\s+(\d+)/.exec(readFileSync(`/proc/${p.pid}/status`, "utf8"));
      if (m) anonKb = Math.max(anonKb, Number(m[1]));
    } catch {}
  };
  const timer = setInterval(poll, 50);
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  const code = await p.exited;
  clearInterval(timer);
  return { code, out, err, seconds: (performance.now() - started) / 1000, cargoKb: anonKb };
}

const work = mkdtempSync(join(tmpdir(), "galley-bench-memory-"));
// No config file of the caller's may add a store to a build that is meant to have none.
const NO_CONFIG = join(work, "no-config.toml");

interface Row {
  build: string;
  process: string;
  /** Peak RSS in KiB, one per process. */
  kb: number[];
  /** Whole-process peak (wait4), where measured from outside. */
  whole?: string;
  largest?: string;
}
const rows: Row[] = [];
const notes: string[] = [];

const mib = (kb: number) => (kb / 1024).toFixed(1);
/** Nearest rank: the value at or below which `q` of the processes are. */
function rank(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

/** The events of a cache dir's stats log from line `from` on (a torn line is skipped). */
function eventsOf(dir: string, from = 0): StatEvent[] {
  let text = "";
  try {
    text = readFileSync(join(dir, "v1", "stats.log"), "utf8");
  } catch {
    return [];
  }
  const events: StatEvent[] = [];
  for (const line of text.split("\n").slice(from)) {
    if (!line) continue;
    try {
      events.push(JSON.parse(line) as StatEvent);
    } catch {}
  }
  return events;
}
const logLines = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").length - 1 : 0);

/**
 * The kind of process whose stamp an event carries. The prefill probe stamps the first of the
 * units it restored (all `prefilled`); a wrapper stamps its one event. Hits and misses are split by
 * what ran (rustc, a C compile through the `sccache` name, a build script's run): they hold
 * different outputs.
 */
function processKind(e: StatEvent): string {
  if (e.prefilled) return "prefill probe";
  const action = e.crate?.startsWith("cc:")
    ? "C"
    : e.crate?.startsWith("build_script:")
      ? "build-script run"
      : "rustc";
  if (e.outcome === "miss") return e.reason === "compile failed" ? "failed compile" : `miss, ${action}`;
  if (e.outcome === "hit") return `hit, ${action}`;
  if (e.outcome === "passthrough") return "pass-through";
  return e.outcome;
}
const KIND_ORDER = ["prefill probe", "hit", "miss", "pass-through", "failed compile", "error"];
const kindRank = (k: string) => KIND_ORDER.findIndex((o) => k.startsWith(o));

/** One row per kind of process, from the stamped events of one build. */
function stampRows(build: string, events: StatEvent[]): void {
  const byKind = new Map<string, StatEvent[]>();
  for (const e of events) {
    if (e.peakRssKb === undefined) continue;
    const kind = processKind(e);
    byKind.set(kind, [...(byKind.get(kind) ?? []), e]);
  }
  const kinds = [...byKind.keys()].sort((a, b) => kindRank(a) - kindRank(b) || a.localeCompare(b));
  for (const kind of kinds) {
    const es = byKind.get(kind)!.sort((a, b) => a.peakRssKb! - b.peakRssKb!);
    const top = es.at(-1)!;
    rows.push({
      build,
      process: kind,
      kb: es.map((e) => e.peakRssKb!),
      largest:
        kind === "prefill probe"
          ? `${events.filter((e) => e.prefilled).length} units restored`
          : `${top.crate ?? "?"}${top.tier === "remote" ? " (remote)" : ""}`,
    });
  }
}

/**
 * A release build from a fresh target dir through galley; its stamped processes become rows, and
 * cargo's own peak one more.
 */
async function galleyBuild(build: string, project: string, env: Env, smoke?: string): Promise<void> {
  const dir = env.GALLEY_DIR!;
  const from = eventsOf(dir).length;
  rmSync(join(project, "target"), { recursive: true, force: true });
  const r = must(
    await cargo(["build", "--release", "--locked", "--offline"], project, {
      RUSTC_WRAPPER: galley,
      CARGO_INCREMENTAL: "0",
      GALLEY_CONFIG: NO_CONFIG,
      ...env,
    }),
    build,
  );
  if (smoke) {
    const out = must(
      sh([join(project, "target", "release", smoke)], project),
      `${build}: run the binary`,
    ).out;
    if (!out.includes('"sqlite"')) throw new Error(`${build}: unexpected output ${out}`);
  }
  if (env.GALLEY_STORE) flush(build, env);
  const events = eventsOf(dir, from);
  const count = (f: (e: StatEvent) => boolean) => events.filter(f).length;
  const stamped = count((e) => e.peakRssKb !== undefined);
  console.error(`${build}: ${r.seconds.toFixed(1)} s wall, ${stamped} stamped processes`);
  notes.push(
    `${build}: ${count((e) => e.outcome === "hit")} hits (${count((e) => !!e.prefilled)} prefilled, ${count((e) => e.outcome === "hit" && e.tier === "remote")} from the shared store), ${count((e) => e.outcome === "miss" && e.reason !== "compile failed")} misses, ${count((e) => e.outcome === "passthrough")} pass-throughs, ${count((e) => e.reason === "compile failed")} failed compiles, ${count((e) => e.outcome === "error")} errors; ${stamped} processes stamped`,
  );
  stampRows(build, events);
  rows.push({
    build,
    process: "cargo itself, anonymous memory",
    kb: [r.cargoKb],
    whole: "(RssAnon, polled)",
  });
}

/**
 * What a CI job's last step does: `galley cache flush` sends what the build left to the background
 * upload queue, so the next (remote-warm) build finds the store filled.
 */
function flush(build: string, env: Env): void {
  const r = must(
    sh([galley, "cache", "flush"], REPO, { GALLEY_CONFIG: NO_CONFIG, ...env }),
    `${build}: flush`,
  );
  notes.push(`${build}: \`galley cache flush\` ${r.err.trim() || r.out.trim()} (${r.seconds.toFixed(1)} s)`);
}

/** A galley command measured from outside (wait4): it records no stats. */
function wholeProcess(build: string, kind: string, argv: string[], env: Env, runs = 1): void {
  const kb: number[] = [];
  for (let i = 0; i < runs; i++)
    kb.push(must(sh(argv, REPO, { GALLEY_CONFIG: NO_CONFIG, ...env }), build).rssKb);
  rows.push({ build, process: kind, kb: kb.sort((a, b) => a - b), whole: "(these)" });
}

interface SharedStore {
  key: string;
  name: string;
  url: string;
  stop(): Promise<void>;
}

async function startStore(key: string): Promise<SharedStore> {
  if (key === "redis") {
    const r = await startRedis();
    return { key, name: "Redis", url: r.url, stop: r.stop };
  }
  const b = await startBazelRemote();
  return { key, name: "bazel-remote gRPC", url: b.grpc, stop: b.stop };
}

async function web(stores: SharedStore[]): Promise<void> {
  const name = basename(resolve(opts.project));
  const project = join(work, name);
  cpSync(resolve(opts.project), project, { recursive: true });
  rmSync(join(project, "target"), { recursive: true, force: true });
  // The web-service binary prints its dependencies' versions: a smoke test of what was restored.
  const smoke = name === "web-service" ? name : undefined;
  must(sh(["cargo", "fetch", "--locked"], project), "cargo fetch");
  const colds = stores.length > 0 ? stores : [undefined];
  const dirs: string[] = [];
  for (const [i, s] of colds.entries()) {
    const dir = join(work, `web-cold-${i}`);
    await galleyBuild(
      `${name} cold${s ? `, with ${s.name}` : ""}`,
      project,
      { GALLEY_DIR: dir, ...(s ? { GALLEY_STORE: s.url } : {}) },
      smoke,
    );
    dirs.push(dir);
  }
  const local = dirs[0]!;
  // With prefill, the wrappers of a warm build have only the workspace's own crate left to restore;
  // without it, every unit is a wrapper process's hit: the distribution of hits.
  const prefillOff = { GALLEY_PREFILL: "0" };
  await galleyBuild(`${name} warm, local cache`, project, { GALLEY_DIR: local }, smoke);
  notes.push(
    `${name} local cache: ${mib(duKb(join(local, "v1")))} MiB, of which prefill records ${mib(duKb(join(local, "v1", "prefill", "units")))} MiB`,
  );
  await galleyBuild(
    `${name} warm, local cache, prefill off`,
    project,
    { GALLEY_DIR: local, ...prefillOff },
    smoke,
  );
  for (const s of stores) {
    const dir = join(work, `web-remote-${s.key}`);
    await galleyBuild(
      `${name} remote-warm, from ${s.name}`,
      project,
      { GALLEY_DIR: dir, GALLEY_STORE: s.url },
      smoke,
    );
    notes.push(
      `${name} remote-warm, from ${s.name}: the fresh local store then holds ${mib(duKb(join(dir, "v1", "cas")))} MiB of blobs, nearly all fetched by the prefill probe`,
    );
    await galleyBuild(
      `${name} remote-warm, from ${s.name}, prefill off`,
      project,
      { GALLEY_DIR: join(work, `web-remote-${s.key}-no-prefill`), GALLEY_STORE: s.url, ...prefillOff },
      smoke,
    );
  }
  wholeProcess(`${name} cache`, "`galley cache gc --auto` (no stat)", [galley, "cache", "gc", "--auto"], {
    GALLEY_DIR: local,
  });
}

/** Bytes under a directory, in KiB. */
function duKb(dir: string): number {
  if (!existsSync(dir)) return 0;
  let bytes = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) bytes += statSync(join(e.parentPath, e.name)).size;
  }
  return bytes / 1024;
}

const BIG_CRATE = "big_blob";

async function big(stores: SharedStore[]): Promise<void> {
  const crate = join(work, "big-blob");
  mkdirSync(join(crate, "src"), { recursive: true });
  writeFileSync(
    join(crate, "Cargo.toml"),
    '[package]\nname = "big-blob"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n\n[workspace]\n',
  );
  writeFileSync(join(crate, "src", "lib.rs"), 'pub static BLOB: &[u8] = include_bytes!("big.bin");\n');
  // Random bytes: an rlib of them is as big compressed (zstd for Redis) as not.
  const fd = openSync(join(crate, "src", "big.bin"), "w");
  try {
    for (let i = 0; i < bigMb; i++) writeSync(fd, randomBytes(1 << 20));
  } finally {
    closeSync(fd);
  }
  const log = join(work, "peak-rss.log");
  const wrapper = join(work, "peak-rss-wrapper");
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(
    wrapper,
    `#!/bin/sh\nexec ${q(process.execPath)} ${q(join(REPO, "bench", "peak-rss.ts"))} ${q(log)} ${q(galley)} "$@"\n`,
    { mode: 0o755 },
  );
  const cases: { name: string; dir: string; store?: SharedStore; expect: string }[] = [
    { name: "cold, local store only", dir: "big-local", expect: "miss" },
    { name: "warm, local store", dir: "big-local", expect: "hit" },
    ...stores.flatMap((s) => [
      { name: `cold, with ${s.name}`, dir: `big-${s.key}-cold`, store: s, expect: "miss" },
      { name: `remote-warm, from ${s.name}`, dir: `big-${s.key}-warm`, store: s, expect: "hit" },
    ]),
  ];
  for (const c of cases) {
    const dir = join(work, c.dir);
    const from = eventsOf(dir).length;
    const logFrom = logLines(log);
    rmSync(join(crate, "target"), { recursive: true, force: true });
    const build = `${bigMb} MB rlib, ${c.name}`;
    const r = must(
      await cargo(["build", "--release", "--offline"], crate, {
        RUSTC_WRAPPER: wrapper,
        GALLEY_DIR: dir,
        GALLEY_CONFIG: NO_CONFIG,
        ...(c.store ? { GALLEY_STORE: c.store.url } : {}),
      }),
      build,
    );
    if (c.store) flush(build, { GALLEY_DIR: dir, GALLEY_STORE: c.store.url });
    const events = eventsOf(dir, from).filter((e) => e.crate === BIG_CRATE);
    const measured = readFileSync(log, "utf8")
      .split("\n")
      .slice(logFrom)
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { what: string; rssKb: number })
      .filter((m) => m.what === BIG_CRATE);
    const e = events.find((x) => x.peakRssKb !== undefined);
    console.error(`${build}: ${r.seconds.toFixed(1)} s wall, ${e?.outcome ?? "no stat"}`);
    if (!e || e.outcome !== c.expect)
      notes.push(
        `${build}: expected a ${c.expect}, the stats say ${e ? `${e.outcome} (${e.reason})` : "nothing"}`,
      );
    if (e?.reason && e.reason !== "stored" && e.outcome === "miss") notes.push(`${build}: ${e.reason}`);
    const whole = measured.map((m) => m.rssKb);
    rows.push({
      build,
      process: e ? processKind(e) : "?",
      kb: e ? [e.peakRssKb!] : [],
      whole: whole.length
        ? `${whole.map(mib).join(", ")} MiB${e?.outcome === "miss" ? " (with rustc)" : ""}`
        : "-",
      largest: e ? `${e.crate}${e.tier === "remote" ? " (remote)" : ""}` : "-",
    });
    if (c === cases[0]) {
      const deps = join(crate, "target", "release", "deps");
      const sizes = readdirSync(deps)
        .filter((n) => n.startsWith(`lib${BIG_CRATE}`))
        .map(
          (n) =>
            `${n.replace(/-[0-9a-f]+\./, ".")} ${(statSync(join(deps, n)).size / 2 ** 20).toFixed(1)} MiB`,
        );
      notes.push(`${bigMb} MB rlib crate outputs: ${sizes.join(", ")}`);
    }
  }
}

const stops: (() => Promise<void>)[] = [];
try {
  if (parts.includes("floor"))
    wholeProcess("executable", "`galley --version` (no stat)", [galley, "--version"], {}, 5);
  const wantStores = parts.includes("web") || parts.includes("big");
  const stores: SharedStore[] = [];
  if (wantStores)
    for (const key of storeNames) {
      const s = await startStore(key);
      stops.push(s.stop);
      stores.push(s);
    }
  if (parts.includes("web")) await web(stores);
  if (parts.includes("big")) await big(stores);
} finally {
  for (const stop of stops) await stop().catch(() => {});
  const budgetKb = WRAPPER_MEMORY_BUDGET_BYTES / 1024;
  const over = rows.flatMap((r) => r.kb).filter((kb) => kb > budgetKb).length;
  console.log(
    [
      `galley ${sh([galley, "--version"], REPO).out.trim()}; machine: ${navigator.hardwareConcurrency} cores; ${sh(["rustc", "--version"], REPO).out.trim()}`,
      "",
      "Peak RSS of one galley process, MiB: galley's own stamp (`peakRssKb`, taken when the process records its stats) unless the row says otherwise; n = processes. A stamp is never below what cargo held when it forked the process: up to the row `cargo itself` of its build (cargo's largest anonymous memory) it may be cargo's, not galley's.",
      "",
      "| build | galley process | n | median | p95 | max | whole process (wait4) | largest |",
      "| --- | --- | --- | --- | --- | --- | --- | --- |",
      ...rows.map((r) => {
        const s = [...r.kb].sort((a, b) => a - b);
        const cell = (v: number | undefined) => (v === undefined ? "-" : mib(v));
        return `| ${r.build} | ${r.process} | ${s.length} | ${cell(s.length ? rank(s, 0.5) : undefined)} | ${cell(s.length ? rank(s, 0.95) : undefined)} | ${cell(s.at(-1))} | ${r.whole ?? "-"} | ${r.largest ?? "-"} |`;
      }),
      "",
      `WRAPPER_MEMORY_BUDGET_BYTES (src/cache/store/limits.ts): ${mib(budgetKb)} MiB per wrapper process; ${over} of the processes above are over it.`,
      ...notes.map((n) => `- ${n}`),
    ].join("\n"),
  );
  if (opts.keep) console.error(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
