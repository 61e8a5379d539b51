/**
 * How fast a `galley report` page renders in a real browser (headless Chromium over the DevTools
 * protocol): the page's load (navigation start to the end of the load event, so parsing, styles,
 * layout and the script) and its first paint, median of --runs loads.
 *
 *   ./node_modules/.bin/bun bench/report-render.ts --synthetic 1000      # a made-up 1000-unit build
 *   ./node_modules/.bin/bun bench/report-render.ts --project bench/web-service   # cold, then warm build: report of the warm one
 *   ./node_modules/.bin/bun bench/report-render.ts --dir CACHE_DIR [--build ID]  # a build already journaled
 *
 * --project builds in release mode through galley (cold into a fresh cache, then warm from a fresh
 * target directory).
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Browser } from "../test/browser.ts";

const REPO = resolve(import.meta.dir, "..");
const { values: opts } = parseArgs({
  options: {
    synthetic: { type: "string" },
    project: { type: "string" },
    dir: { type: "string" },
    build: { type: "string", default: "last" },
    runs: { type: "string", default: "7" },
    galley: { type: "string", default: join(REPO, "dist", "galley") },
    /** Keep a copy of the page here. */
    out: { type: "string" },
  },
});
// A relative --galley would not be found from the project's directory, where cargo runs it.
opts.galley = resolve(opts.galley);

const work = mkdtempSync(join(tmpdir(), "galley-bench-report-"));
const galley = (args: string[], cwd: string, env: Record<string, string>) => {
  const p = Bun.spawnSync([opts.galley, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  if (p.exitCode !== 0) throw new Error(`galley ${args.join(" ")} failed: ${p.stderr}`);
  return p.stdout.toString() + p.stderr.toString();
};

/** A made-up build: `n` units on 8 jobs, each linking up to 4 earlier ones, a tenth of them missing. */
function syntheticJournal(cacheDir: string, n: number): void {
  const dir = join(cacheDir, "v1", "journal");
  mkdirSync(dir, { recursive: true });
  const start = Date.parse("2026-01-01T00:00:00Z");
  const lines = [
    JSON.stringify({ type: "build", id: "synthetic", started: start, argv: ["cargo", "build"] }),
  ];
  const jobs = new Array(8).fill(start);
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let i = 0; i < n; i++) {
    const job = jobs.indexOf(Math.min(...jobs));
    const miss = rand() < 0.1;
    const took = miss ? 500 + rand() * 8000 : 5 + rand() * 30;
    const s = jobs[job] + rand() * 20;
    jobs[job] = s + took;
    const deps = Array.from(
      { length: Math.floor(rand() * 4) },
      () => `crate_${Math.floor(rand() * i)}-h`,
    ).filter(() => i > 0);
    lines.push(
      JSON.stringify({
        kind: "rustc",
        name: `crate-${i}`,
        id: `crate_${i}-h`,
        pkg: `crate-${i}@1.0.0`,
        deps,
        start: Math.round(s),
        end: Math.round(s + took),
        outcome: miss ? "miss" : "hit",
        ...(miss
          ? {
              reason: "stored",
              why: ["a source file or env var changed", `~ file:src/lib.rs: 1a2b3c -> 4d5e6f`],
            }
          : {
              compileMs: Math.round(took * 20),
              restoreMs: Math.round(took / 2),
              bytesRead: 200_000,
              tier: "local",
            }),
      }),
    );
  }
  writeFileSync(join(dir, "synthetic.jsonl"), `${lines.join("\n")}\n`);
}

function cargoBuild(project: string, cacheDir: string): void {
  rmSync(join(project, "target"), { recursive: true, force: true });
  const p = Bun.spawnSync(["cargo", "build", "--release"], {
    cwd: project,
    env: { ...process.env, RUSTC_WRAPPER: opts.galley, GALLEY_DIR: cacheDir, CARGO_INCREMENTAL: "0" },
    stdout: "ignore",
    stderr: "pipe",
  });
  if (p.exitCode !== 0) throw new Error(`cargo build failed: ${p.stderr.toString().slice(-3000)}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  let cacheDir = opts.dir ? resolve(opts.dir) : join(work, "cache");
  let what: string;
  if (opts.synthetic) {
    syntheticJournal(cacheDir, Number(opts.synthetic));
    what = `a synthetic build of ${opts.synthetic} units`;
  } else if (opts.project) {
    const project = join(work, "project");
    cpSync(resolve(opts.project), project, { recursive: true });
    cacheDir = join(work, "cache");
    const t0 = performance.now();
    cargoBuild(project, cacheDir);
    const t1 = performance.now();
    cargoBuild(project, cacheDir);
    const t2 = performance.now();
    what = `the warm build of ${opts.project} (cold ${((t1 - t0) / 1000).toFixed(1)} s, warm ${((t2 - t1) / 1000).toFixed(1)} s)`;
  } else if (opts.dir) {
    what = `build ${opts.build} of ${cacheDir}`;
  } else throw new Error("say --synthetic N, --project DIR or --dir CACHE_DIR");

  const page = join(work, "report.html");
  const t = performance.now();
  const said = galley(["report", "--out", page, "--build", opts.build], work, { GALLEY_DIR: cacheDir });
  const writeMs = performance.now() - t;
  if (opts.out) cpSync(page, resolve(opts.out));
  const browser = await Browser.launch();
  const loads: number[] = [];
  const paints: number[] = [];
  let bars = 0;
  try {
    for (let i = 0; i < Number(opts.runs); i++) {
      await browser.open("about:blank");
      await browser.open(`file://${page}`);
      const m = await browser.evaluate<{ load: number; paint: number; bars: number }>(`(() => {
        document.body.getBoundingClientRect();
        const nav = performance.getEntriesByType("navigation")[0];
        const paint = performance.getEntriesByName("first-contentful-paint")[0];
        return { load: nav.loadEventEnd - nav.startTime, paint: paint ? paint.startTime : -1, bars: document.querySelectorAll(".bar").length };
      })()`);
      loads.push(m.load);
      paints.push(m.paint);
      bars = m.bars;
    }
  } finally {
    await browser.close();
  }
  console.log(`report of ${what}`);
  console.log(`  ${said.trim() || "(galley report said nothing)"}`);
  console.log(
    `  page: ${(statSync(page).size / 1024).toFixed(0)} KiB, ${bars} bars; galley report took ${writeMs.toFixed(0)} ms`,
  );
  console.log(
    `  headless Chromium, median of ${loads.length} loads: load event done at ${median(loads).toFixed(0)} ms, first contentful paint at ${median(paints).toFixed(0)} ms (all loads: ${loads.map((l) => l.toFixed(0)).join(", ")} ms)`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
