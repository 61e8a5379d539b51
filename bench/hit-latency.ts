/**
 * Wrapper time on a cache hit, as cargo sees it: the whole process, start-up included.
 *
 *   ./node_modules/.bin/bun bench/hit-latency.ts [--project test/fixtures/cache-ws] [--runs 15]
 *
 * Builds the project once through galley while recording each rustc invocation (working dir,
 * environment, arguments); then replays every cacheable invocation --runs times against the warm
 * cache and reports the median wall time per invocation, the median of those, and how much of it
 * was restoring (writing) outputs. `galley --version` is timed before and after as the baseline of
 * a process start on this machine at that moment.
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { readEvents } from "../src/cache/engine/stats.ts";
import { median, recordInvocations } from "./invocations.ts";

const REPO = resolve(import.meta.dir, "..");
const { values: opts } = parseArgs({
  options: {
    project: { type: "string", default: join(REPO, "test/fixtures/cache-ws") },
    runs: { type: "string", default: "15" },
    galley: { type: "string", default: join(REPO, "dist/galley") },
  },
});
// A relative --galley would not be found from the project's directory, where cargo runs it.
opts.galley = resolve(opts.galley);
const runs = Number(opts.runs);
const work = mkdtempSync(join(tmpdir(), "galley-bench-hit-"));
const project = join(work, "project");
cpSync(resolve(opts.project), project, { recursive: true });
rmSync(join(project, "target"), { recursive: true, force: true });
const cacheDir = join(work, "cache");
function wall(argv: string[], cwd: string, env: Record<string, string>): number {
  const t = performance.now();
  const p = Bun.spawnSync(argv, { cwd, env, stdout: "ignore", stderr: "ignore" });
  if (p.exitCode !== 0) throw new Error(`${argv.slice(0, 3).join(" ")} failed`);
  return performance.now() - t;
}
const baseEnv = { ...process.env, GALLEY_DIR: cacheDir, CARGO_INCREMENTAL: "0" } as Record<string, string>;

try {
  const invocations = recordInvocations(project, work, opts.galley, baseEnv);

  const startup = () =>
    median(Array.from({ length: runs }, () => wall([opts.galley, "--version"], REPO, baseEnv)));
  const before = startup();
  const perInvocation: { crate: string; ms: number; restoreMs: number }[] = [];
  for (const inv of invocations) {
    const crate = inv.crate;
    const env = { ...baseEnv, ...inv.env };
    rmSync(join(cacheDir, "v1", "stats.log"), { force: true });
    const times = Array.from({ length: runs }, () => wall([opts.galley, ...inv.args], inv.cwd, env));
    const events = readEvents(cacheDir);
    if (events.some((e) => e.outcome !== "hit")) {
      console.log(`${crate}: not a hit (${events.map((e) => `${e.outcome} ${e.reason ?? ""}`).join(", ")})`);
      continue;
    }
    perInvocation.push({ crate, ms: median(times), restoreMs: median(events.map((e) => e.restoreMs ?? 0)) });
  }
  const after = startup();
  console.log("| crate | median wall ms | of which restore ms |");
  console.log("| --- | --- | --- |");
  for (const r of perInvocation) console.log(`| ${r.crate} | ${r.ms.toFixed(1)} | ${r.restoreMs} |`);
  const m = median(perInvocation.map((r) => r.ms));
  const mr = median(perInvocation.map((r) => r.ms - r.restoreMs));
  console.log(
    `\nmedian wrapper wall time on a hit: ${m.toFixed(1)} ms (${mr.toFixed(1)} ms beside restoring outputs)`,
  );
  console.log(
    `process start baseline (galley --version): ${before.toFixed(1)} ms before, ${after.toFixed(1)} ms after`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
