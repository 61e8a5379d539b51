/**
 * Compiler-cache benchmark: release builds of bench/web-service (a ~200-package web-service graph
 * with derives, build scripts, proc-macros, ring and a bundled SQLite), side by side in one run:
 *
 *   plain cargo cold (before) | galley cold (RUSTC_WRAPPER=galley) | galley's first warm build
 *   after it | galley warm under the `galley` and the `sccache` name | galley into another target
 *   dir | galley from a checkout at another path | the same two in portable mode
 *   (GALLEY_PORTABLE=1, after a cold portable build) | sccache 0.19.0 cold and warm | plain cargo
 *   cold (after)
 *
 * "warm" is a fresh target directory (same path) with the cache of the cold run. The first warm
 * build after the cold one has a row of its own (it writes the prefill's digest memo), so the rows
 * of the two names compare like with like; repeated warm builds alternate which name goes first.
 * The plain cold build runs first and last: the machine drifts, so ratios are taken against the
 * mean of the two.
 * CPU time is user+sys of cargo and everything it waited for (bash's `times`); sccache's server is
 * not cargo's child, so its CPU time is not in its rows. Finally `cargo build --timings` of galley's
 * warm build names the units the time left goes to.
 *
 *   ./node_modules/.bin/bun bench/cache.ts [--galley dist/galley]
 *     [--sccache PATH] [--skip-sccache] [--keep] [--portable-only] [--cold-only [--repeat N]]
 *     [--warm-only [--warm-runs N]]
 *
 * --cold-only measures the cold overhead alone: plain and galley cold builds in turn, each galley
 * build against the mean of the plain builds on either side of it.
 *
 * sccache 0.19.0 is installed with `cargo install sccache --locked --version 0.19.0` when missing.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const REPO = resolve(import.meta.dir, "..");
const { values: opts } = parseArgs({
  options: {
    galley: { type: "string", default: join(REPO, "dist", "galley") },
    sccache: { type: "string" },
    "skip-sccache": { type: "boolean", default: false },
    /** Only the portable-mode rows (cold, another target dir, another checkout): a quick check. */
    "portable-only": { type: "boolean", default: false },
    /** Only cold builds, plain and galley in turn (--repeat galley builds, plain before and after each). */
    "cold-only": { type: "boolean", default: false },
    /** Only galley cold, its first warm build and warm under both names, and sccache cold and warm. */
    "warm-only": { type: "boolean", default: false },
    /** With --warm-only: each warm build this many times, compared by medians. */
    "warm-runs": { type: "string", default: "1" },
    repeat: { type: "string", default: "2" },
    keep: { type: "boolean", default: false },
  },
});
// A relative --galley would not be found from the project's directory, where cargo runs it.
opts.galley = resolve(opts.galley);

type Env = Record<string, string | undefined>;

function sh(argv: string[], cwd: string, env: Env = {}): { code: number; out: string; err: string } {
  const p = Bun.spawnSync(argv, {
    cwd,
    env: { ...process.env, ...env } as Record<string, string>,
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: p.exitCode ?? -1, out: p.stdout.toString(), err: p.stderr.toString() };
}

function must(r: { code: number; out: string; err: string }, what: string): string {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}):\n${r.err.slice(-3000)}`);
  return r.out;
}

function findSccache(): string {
  if (opts.sccache) return opts.sccache;
  const installed = join(process.env.CARGO_HOME ?? join(homedir(), ".cargo"), "bin", "sccache");
  const version = existsSync(installed) ? sh([installed, "--version"], REPO).out.trim() : "";
  if (version !== "sccache 0.19.0") {
    console.error(`installing sccache 0.19.0 (found: ${version || "none"})...`);
    must(
      sh(["cargo", "install", "sccache", "--locked", "--version", "0.19.0"], REPO),
      "cargo install sccache",
    );
  }
  return installed;
}

const work = mkdtempSync(join(tmpdir(), "galley-bench-cache-"));
const project = join(work, "web-service");
cpSync(join(REPO, "bench", "web-service"), project, { recursive: true });
const elsewhere = join(work, "elsewhere", "checkout", "web-service");
cpSync(join(REPO, "bench", "web-service"), elsewhere, { recursive: true });
const shims = join(work, "shims");
mkdirSync(join(work, "aside"));
must(sh([opts.galley, "shims", "install", shims], REPO), "galley shims install");
const portableOnly = opts["portable-only"];
const coldOnly = opts["cold-only"];
const sccache = opts["skip-sccache"] || portableOnly || coldOnly ? undefined : findSccache();
console.error(`work dir ${work}; fetching crates (not timed)...`);
must(sh(["cargo", "fetch", "--locked"], project), "cargo fetch");

interface Run {
  name: string;
  seconds: number;
  cpu: number;
  hits?: number;
  misses?: number;
  note?: string;
  /** galley's own CPU (its wrapper processes, compilers excluded), seconds, and how many processes. */
  own?: { cpu: number; processes: number };
}
const runs: Run[] = [];

interface BuildOpts {
  at?: string;
  targetDir?: string;
  extra?: string[];
}

/**
 * The last build's target dir is moved aside, not deleted, until the run ends: ext4 makes creating
 * files slow for minutes after thousands were deleted (it avoids reusing their inodes), which a
 * CI runner's fresh checkout does not pay, and which weighs most on the shortest builds.
 */
let asideCount = 0;
function moveAside(dir: string): void {
  if (existsSync(dir)) renameSync(dir, join(work, "aside", String(asideCount++)));
}

/** A release build from a fresh target directory, timed (wall and CPU); the binary must run. */
function build(name: string, env: Env, o: BuildOpts = {}): Run {
  const at = o.at ?? project;
  const target = o.targetDir ?? join(at, "target");
  moveAside(target);
  const cargo = [
    "cargo",
    "build",
    "--release",
    "--locked",
    "--offline",
    "--target-dir",
    target,
    ...(o.extra ?? []),
  ];
  const started = performance.now();
  const out = must(
    sh(["bash", "-c", `"$@" >&2; s=$?; times; exit $s`, "bash", ...cargo], at, {
      CARGO_INCREMENTAL: "0",
      ...env,
    }),
    name,
  );
  const seconds = (performance.now() - started) / 1000;
  const smoke = must(sh([join(target, "release/web-service")], at), `${name}: run the binary`);
  if (!smoke.includes('"sqlite"')) throw new Error(`${name}: unexpected output ${smoke}`);
  const run: Run = { name, seconds, cpu: childCpu(out) };
  runs.push(run);
  console.error(`${name}: ${seconds.toFixed(1)} s wall, ${run.cpu.toFixed(1)} s CPU`);
  return run;
}

/** user+sys of the children from bash's `times` (its second line). */
function childCpu(times: string): number {
  const line = times.trim().split("\n").at(-1) ?? "";
  const secs = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return secs.reduce((a, b) => a + b, 0);
}

interface GalleyStats {
  hits: number;
  misses: number;
  medianHitWrapperMs: number | null;
  passthroughReasons: Record<string, number>;
  byKind: Record<string, { hits: number; misses: number; passthroughs: number }>;
  wrapperCpuMs: number;
  wrapperProcesses: number;
}

function galleyStats(dir: string): GalleyStats {
  return JSON.parse(must(sh([opts.galley, "stats", "--json"], REPO, { GALLEY_DIR: dir }), "galley stats"));
}

/** Runs a galley build with zeroed stats and puts the counts on its row. */
function galleyBuild(name: string, env: Env, o: BuildOpts = {}, note = false): Run {
  must(sh([opts.galley, "stats", "--zero"], REPO, env), "galley stats --zero");
  const r = build(name, env, o);
  const s = galleyStats(env.GALLEY_DIR!);
  Object.assign(r, {
    hits: s.hits,
    misses: s.misses,
    own: { cpu: s.wrapperCpuMs / 1000, processes: s.wrapperProcesses },
  });
  if (note) {
    const k = s.byKind;
    r.note = `median wrapper time on a hit ${s.medianHitWrapperMs?.toFixed(1)} ms; build-script runs ${k.buildScript?.hits} hits / ${k.buildScript?.misses} misses / ${k.buildScript?.passthroughs} run; C ${k.cc?.hits} hits / ${k.cc?.misses} misses; passthroughs ${JSON.stringify(s.passthroughReasons)}`;
  }
  return r;
}

function sccacheStats(env: Env): { hits: number; misses: number } {
  const out = must(sh([sccache!, "--show-stats", "--stats-format=json"], REPO, env), "sccache --show-stats");
  const s = JSON.parse(out).stats;
  const sum = (o: Record<string, number> | undefined) => Object.values(o ?? {}).reduce((a, b) => a + b, 0);
  return { hits: sum(s.cache_hits?.counts), misses: sum(s.cache_misses?.counts) };
}

/** The slowest units of a `cargo build --timings` report (its embedded UNIT_DATA). */
function slowestUnits(target: string): string {
  const dir = join(target, "cargo-timings");
  const file = readdirSync(dir).find((f) => f.startsWith("cargo-timing-") && f.endsWith(".html"));
  if (!file) return "no timings report";
  const html = readFileSync(join(dir, file), "utf8");
  const m = /const UNIT_DATA = (\[[\s\S]*?\]);\n/.exec(html);
  if (!m) return "no UNIT_DATA in the timings report";
  const units = JSON.parse(m[1]!) as { name: string; version: string; target: string; duration: number }[];
  return units
    .sort((a, b) => b.duration - a.duration)
    .slice(0, 8)
    .map((u) => `${u.name}${u.target} ${u.duration.toFixed(2)} s`)
    .join(", ");
}

/** galley under its own name, on the cache the cold build fills and the warm builds read. */
const galleyEnv = { RUSTC_WRAPPER: opts.galley, GALLEY_DIR: join(work, "galley-cache") };
let timings = "";
try {
  if (coldOnly) coldInTurn();
  else if (opts["warm-only"]) warmRows();
  else allRows();
} finally {
  printReport();
  if (!opts.keep) rmSync(work, { recursive: true, force: true });
}

function coldInTurn(): void {
  const n = Number(opts.repeat);
  build("plain cargo, cold #1", {});
  for (let i = 1; i <= n; i++) {
    galleyBuild(`galley, cold #${i}`, {
      RUSTC_WRAPPER: opts.galley,
      GALLEY_DIR: join(work, `cold-cache-${i}`),
    });
    build(`plain cargo, cold #${i + 1}`, {});
  }
}

function sccacheRows(): void {
  if (sccache) {
    const sccacheEnv = {
      RUSTC_WRAPPER: sccache,
      SCCACHE_DIR: join(work, "sccache-cache"),
      SCCACHE_CACHE_SIZE: "10G",
    };
    sh([sccache, "--stop-server"], REPO, sccacheEnv);
    must(sh([sccache, "--start-server"], REPO, sccacheEnv), "sccache --start-server");
    const sCold = build("sccache 0.19.0, cold", sccacheEnv);
    Object.assign(sCold, sccacheStats(sccacheEnv));
    for (const n of warmRunNames()) {
      must(sh([sccache, "--zero-stats"], REPO, sccacheEnv), "sccache --zero-stats");
      const sWarm = build(`sccache 0.19.0, warm${n}`, sccacheEnv);
      Object.assign(sWarm, sccacheStats(sccacheEnv));
    }
    sh([sccache, "--stop-server"], REPO, sccacheEnv);
  }
}

/**
 * The first warm build after the cold one, on a row of its own: it is the one that writes the
 * prefill's digest memo, so whichever name came first used to carry that cost.
 */
function firstWarmRow(): void {
  galleyBuild("galley, first warm after cold (`galley` name)", galleyEnv);
}

function warmRows(): void {
  galleyBuild("galley, cold (RUSTC_WRAPPER=galley)", galleyEnv);
  firstWarmRow();
  const sccacheName = { ...galleyEnv, RUSTC_WRAPPER: join(shims, "sccache") };
  warmRunNames().forEach((n, i) => {
    // Each name goes first in every other pair, so the machine's drift favours neither.
    const pair = [
      () => galleyBuild(`galley, warm, \`galley\` name${n}`, galleyEnv, {}, n === ""),
      () => galleyBuild(`galley, warm, \`sccache\` name${n}`, sccacheName),
    ];
    for (const row of i % 2 === 0 ? pair : pair.reverse()) row();
  });
  sccacheRows();
}

/** Name suffixes of the repeated warm builds: "", " #2", " #3"... */
function warmRunNames(): string[] {
  const n = opts["warm-only"] ? Number(opts["warm-runs"]) : 1;
  return Array.from({ length: n }, (_, i) => (i === 0 ? "" : ` #${i + 1}`));
}

/** With repeated warm builds: the median of each kind, and galley's against sccache's. */
function warmMedians(): string[] {
  if (warmRunNames().length < 2) return [];
  const med = (prefix: string) => {
    const xs = runs
      .filter((r) => r.name.startsWith(prefix))
      .map((r) => r.seconds)
      .sort((a, b) => a - b);
    return xs[Math.floor(xs.length / 2)];
  };
  const sc = med("sccache 0.19.0, warm");
  const first = runs.find((r) => r.name.startsWith("galley, first warm"));
  return [
    ...["`galley` name", "`sccache` name"].map((name) => {
      const g = med(`galley, warm, ${name}`);
      return g === undefined || sc === undefined
        ? ""
        : `median galley warm, ${name}: ${g.toFixed(1)} s against sccache's ${sc.toFixed(1)} s: ${(g / sc).toFixed(3)}x`;
    }),
    first && sc !== undefined
      ? `galley's first warm build after cold: ${first.seconds.toFixed(1)} s against sccache's ${sc.toFixed(1)} s: ${(first.seconds / sc).toFixed(3)}x`
      : "",
  ].filter(Boolean);
}

function allRows(): void {
  if (!portableOnly) build("plain cargo, cold (before)", {});

  if (!portableOnly) {
    galleyBuild("galley, cold (RUSTC_WRAPPER=galley)", galleyEnv);
    firstWarmRow();
    galleyBuild("galley, warm, `galley` name", galleyEnv, {}, true);
    galleyBuild("galley, warm, `sccache` name", { ...galleyEnv, RUSTC_WRAPPER: join(shims, "sccache") });
    galleyBuild("galley, into another target dir", galleyEnv, { targetDir: join(work, "other-target") });
    galleyBuild("galley, from another checkout path", galleyEnv, { at: elsewhere });
  }

  const portableEnv = { ...galleyEnv, GALLEY_DIR: join(work, "galley-portable"), GALLEY_PORTABLE: "1" };
  galleyBuild("galley portable, cold", portableEnv);
  galleyBuild("galley portable, into another target dir", portableEnv, {
    targetDir: join(work, "other-target"),
  });
  galleyBuild("galley portable, from another checkout path", portableEnv, { at: elsewhere }, true);

  if (!portableOnly) {
    galleyBuild("galley, warm, `galley` name, --timings", galleyEnv, { extra: ["--timings"] });
    timings = slowestUnits(join(project, "target"));
  }

  sccacheRows();

  if (!portableOnly) build("plain cargo, cold (after)", {});
}

function printReport(): void {
  const plain = runs.filter((r) => r.name.startsWith("plain"));
  // Without plain builds (--portable-only), ratios are against the portable cold build.
  const baseRuns = plain.length > 0 ? plain : runs.slice(0, 1);
  if (baseRuns.length === 0) return;
  const base = baseRuns.reduce((a, r) => a + r.seconds, 0) / baseRuns.length;
  const baseCpu = baseRuns.reduce((a, r) => a + r.cpu, 0) / baseRuns.length;
  const sWarm = runs.find((r) => r.name.startsWith("sccache") && r.name.includes(", warm"));
  const lines = [
    `machine: ${navigator.hardwareConcurrency} cores; rustc ${sh(["rustc", "--version"], REPO).out.trim()}`,
    `packages in Cargo.lock: ${(readFileSync(join(REPO, "bench/web-service/Cargo.lock"), "utf8").match(/^\[\[package\]\]/gm) ?? []).length}`,
    "",
    "| build | wall time | × plain cold | × sccache warm | CPU (user+sys) | CPU × plain | hits | misses |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ...runs.map(
      (r) =>
        `| ${r.name} | ${r.seconds.toFixed(1)} s | ${(r.seconds / base).toFixed(3)} | ${sWarm ? (r.seconds / sWarm.seconds).toFixed(2) : "-"} | ${r.cpu.toFixed(1)} s | ${(r.cpu / baseCpu).toFixed(3)} | ${r.hits ?? "-"} | ${r.misses ?? "-"} |`,
    ),
    "",
    ...runs.filter((r) => r.note).map((r) => `${r.name}: ${r.note}`),
    `baseline (${baseRuns.map((r) => r.name).join("; ")}): mean of ${baseRuns.map((r) => r.seconds.toFixed(1)).join(" s and ")} s (CPU ${baseRuns.map((r) => r.cpu.toFixed(1)).join(" s and ")} s)`,
    ...(timings ? [`slowest units of galley's warm build (cargo --timings): ${timings}`] : []),
    ...neighbourRatios(),
    ...ownCpu(),
    ...warmMedians(),
  ];
  console.log(lines.join("\n"));
}

/**
 * What galley's own processes cost each build (their CPU up to their record, as `galley stats`
 * counts it; in a warm build mostly the prefill): the part that the machine's drift does not blur.
 */
function ownCpu(): string[] {
  return runs
    .filter((r) => r.own && r.own.processes > 0)
    .map(
      (r) =>
        `${r.name}: galley's own CPU ${r.own!.cpu.toFixed(2)} s in ${r.own!.processes} processes (${((r.own!.cpu * 1000) / r.own!.processes).toFixed(1)} ms each), ${((100 * r.own!.cpu) / r.cpu).toFixed(2)}% of the build's CPU`,
    );
}

/**
 * Each galley cold build's CPU against the mean of the plain builds just before and after it, then
 * the mean and the median of those ratios: one pair of builds scatters with the machine's drift.
 */
function neighbourRatios(): string[] {
  const ratios: number[] = [];
  const lines = runs.flatMap((r, i) => {
    const before = runs[i - 1];
    const after = runs[i + 1];
    if (!coldOnly || !r.name.startsWith("galley") || !before || !after) return [];
    const plainCpu = (before.cpu + after.cpu) / 2;
    const plainWall = (before.seconds + after.seconds) / 2;
    ratios.push(r.cpu / plainCpu);
    return [
      `${r.name}: CPU ${(r.cpu / plainCpu).toFixed(3)}x, wall ${(r.seconds / plainWall).toFixed(3)}x the plain builds beside it`,
    ];
  });
  if (ratios.length < 2) return lines;
  const sorted = [...ratios].sort((x, y) => x - y);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const mean = ratios.reduce((x, y) => x + y, 0) / ratios.length;
  return [
    ...lines,
    `galley cold CPU over ${ratios.length} builds: mean ${mean.toFixed(3)}x, median ${median.toFixed(3)}x the plain builds beside each`,
  ];
}
