/**
 * Compiler-cache benchmark: release builds of bench/web-service (a ~200-package web-service graph
 * with derives, build scripts, proc-macros, ring and a bundled SQLite), side by side:
 *
 *   plain cargo cold (before)  | galley cold | galley warm | sccache cold | sccache warm | plain cold (after)
 *
 * galley runs through the `sccache` name (RUSTC_WRAPPER=.../sccache), as a Dockerfile written for
 * sccache would use it, so cc-rs sends its C compiles to galley too. "warm" is a fresh target
 * directory (same path) with the cache of the cold run. The plain cold build runs first and last:
 * the machine drifts, so ratios are taken against the mean of the two and both are printed.
 *
 *   ./node_modules/.bin/bun bench/cache.ts [--galley dist/galley] [--sccache PATH] [--skip-sccache]
 *
 * sccache 0.19.0 is installed with `cargo install sccache --locked --version 0.19.0` when missing.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const REPO = resolve(import.meta.dir, "..");
const { values: opts } = parseArgs({
  options: {
    galley: { type: "string", default: join(REPO, "dist", "galley") },
    sccache: { type: "string" },
    "skip-sccache": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
  },
});

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
const shims = join(work, "shims");
must(sh([opts.galley, "shims", "install", shims], REPO), "galley shims install");
const sccache = opts["skip-sccache"] ? undefined : findSccache();
console.error(`work dir ${work}; fetching crates (not timed)...`);
must(sh(["cargo", "fetch", "--locked"], project), "cargo fetch");

interface Run {
  name: string;
  seconds: number;
  hits?: number;
  misses?: number;
  note?: string;
}
const runs: Run[] = [];

function build(name: string, env: Env): Run {
  rmSync(join(project, "target"), { recursive: true, force: true });
  const started = performance.now();
  must(
    sh(["cargo", "build", "--release", "--locked", "--offline"], project, { CARGO_INCREMENTAL: "0", ...env }),
    name,
  );
  const seconds = (performance.now() - started) / 1000;
  const smoke = must(sh([join(project, "target/release/web-service")], project), `${name}: run the binary`);
  if (!smoke.includes('"sqlite"')) throw new Error(`${name}: unexpected output ${smoke}`);
  const run: Run = { name, seconds };
  runs.push(run);
  console.error(`${name}: ${seconds.toFixed(1)} s`);
  return run;
}

function galleyStats(dir: string): {
  hits: number;
  misses: number;
  passthroughs: number;
  medianHitWrapperMs: number | null;
  passthroughReasons: Record<string, number>;
} {
  return JSON.parse(must(sh([opts.galley, "stats", "--json"], REPO, { GALLEY_DIR: dir }), "galley stats"));
}

function sccacheStats(env: Env): { hits: number; misses: number } {
  const out = must(sh([sccache!, "--show-stats", "--stats-format=json"], REPO, env), "sccache --show-stats");
  const s = JSON.parse(out).stats;
  const sum = (o: Record<string, number> | undefined) => Object.values(o ?? {}).reduce((a, b) => a + b, 0);
  return { hits: sum(s.cache_hits?.counts), misses: sum(s.cache_misses?.counts) };
}

try {
  build("plain cargo, cold (before)", {});

  const galleyDir = join(work, "galley-cache");
  const galleyEnv = { RUSTC_WRAPPER: join(shims, "sccache"), GALLEY_DIR: galleyDir };
  const gCold = build("galley, cold", galleyEnv);
  const coldStats = galleyStats(galleyDir);
  Object.assign(gCold, { hits: coldStats.hits, misses: coldStats.misses });
  must(sh([opts.galley, "stats", "--zero"], REPO, { GALLEY_DIR: galleyDir }), "galley stats --zero");
  const gWarm = build("galley, warm", galleyEnv);
  const warmStats = galleyStats(galleyDir);
  Object.assign(gWarm, {
    hits: warmStats.hits,
    misses: warmStats.misses,
    note: `median wrapper time on a hit ${warmStats.medianHitWrapperMs?.toFixed(1)} ms; passthroughs ${JSON.stringify(warmStats.passthroughReasons)}`,
  });

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
    must(sh([sccache, "--zero-stats"], REPO, sccacheEnv), "sccache --zero-stats");
    const sWarm = build("sccache 0.19.0, warm", sccacheEnv);
    Object.assign(sWarm, sccacheStats(sccacheEnv));
    sh([sccache, "--stop-server"], REPO, sccacheEnv);
  }

  build("plain cargo, cold (after)", {});
} finally {
  printReport();
  if (!opts.keep) rmSync(work, { recursive: true, force: true });
}

function printReport(): void {
  const plain = runs.filter((r) => r.name.startsWith("plain"));
  if (plain.length === 0) return;
  const base = plain.reduce((a, r) => a + r.seconds, 0) / plain.length;
  const sWarm = runs.find((r) => r.name.startsWith("sccache") && r.name.endsWith("warm"));
  const lines = [
    `machine: ${navigator.hardwareConcurrency} cores; rustc ${sh(["rustc", "--version"], REPO).out.trim()}`,
    `packages in Cargo.lock: ${(readFileSync(join(REPO, "bench/web-service/Cargo.lock"), "utf8").match(/^\[\[package\]\]/gm) ?? []).length}`,
    "",
    "| build | wall time | × plain cold | × sccache warm | hits | misses |",
    "| --- | --- | --- | --- | --- | --- |",
    ...runs.map(
      (r) =>
        `| ${r.name} | ${r.seconds.toFixed(1)} s | ${(r.seconds / base).toFixed(2)} | ${sWarm ? (r.seconds / sWarm.seconds).toFixed(2) : "-"} | ${r.hits ?? "-"} | ${r.misses ?? "-"} |`,
    ),
    "",
    ...runs.filter((r) => r.note).map((r) => `${r.name}: ${r.note}`),
    `plain cold baseline: mean of ${plain.map((r) => r.seconds.toFixed(1)).join(" s and ")} s`,
  ];
  console.log(lines.join("\n"));
}
