/**
 * What a miss costs beyond rustc, phase by phase. Each rustc invocation of a project's release build
 * is replayed alone, --runs times, alternately straight to rustc and through galley as a miss (a
 * fresh GALLEY_SALT per run: nothing matches, everything is compiled and stored). Reported per
 * invocation and summed: CPU (user+sys of the process and what it waited for) and wall time, and
 * from galley's debug lines where its own time goes: process start (to the wrapper's first line),
 * keying, the lookup, storing, and the exit (the wall time after its last line).
 *
 *   ./node_modules/.bin/bun bench/miss-cost.ts [--project test/fixtures/cache-ws] [--runs 5]
 *     [--limit N] [--galley dist/galley]
 *
 * --limit takes N invocations spread over the build (a big project replays fewer).
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type Invocation, median, recordInvocations } from "./invocations.ts";

const REPO = resolve(import.meta.dir, "..");
const { values: opts } = parseArgs({
  options: {
    project: { type: "string", default: join(REPO, "test/fixtures/cache-ws") },
    runs: { type: "string", default: "5" },
    limit: { type: "string" },
    galley: { type: "string", default: join(REPO, "dist/galley") },
  },
});
// A relative --galley would not be found from the project's directory, where cargo runs it.
opts.galley = resolve(opts.galley);
const runs = Number(opts.runs);
const work = mkdtempSync(join(tmpdir(), "galley-bench-miss-"));
const project = join(work, "project");
cpSync(resolve(opts.project), project, { recursive: true });
rmSync(join(project, "target"), { recursive: true, force: true });
const baseEnv = {
  ...process.env,
  GALLEY_DIR: join(work, "cache"),
  CARGO_INCREMENTAL: "0",
} as Record<string, string>;

interface Sample {
  ms: number;
  cpuMs: number;
  stderr: string;
}

function timed(argv: string[], cwd: string, env: Record<string, string>): Sample {
  const t = performance.now();
  const p = Bun.spawnSync(argv, { cwd, env, stdout: "ignore", stderr: "pipe" });
  const ms = performance.now() - t;
  if (p.exitCode !== 0) throw new Error(`${argv.slice(0, 3).join(" ")} failed: ${p.stderr}`);
  const cpu = p.resourceUsage.cpuTime;
  return { ms, cpuMs: Number(cpu.user + cpu.system) / 1000, stderr: p.stderr.toString() };
}

const PHASES = ["start", "key", "lookup", "compile", "store", "exit"] as const;
type Phases = Record<(typeof PHASES)[number], number>;

/** The wrapper's debug lines: `started at S ms; key in K ms; no-entry after L ms` and `compiled in C ms; stored in W ms; done at D ms`. */
function phasesOf(s: Sample): Phases {
  const a = /started at ([\d.]+) ms; key in ([\d.]+) ms; [\w-]+ after ([\d.]+) ms/.exec(s.stderr);
  const b = /compiled in (\d+) ms; stored in ([\d.]+) ms; done at ([\d.]+) ms/.exec(s.stderr);
  if (!a || !b) throw new Error(`no timings in galley's debug output:\n${s.stderr}`);
  const [start, key, after] = [Number(a[1]), Number(a[2]), Number(a[3])];
  return {
    start,
    key,
    lookup: after - key,
    compile: Number(b[1]),
    store: Number(b[2]),
    exit: s.ms - Number(b[3]),
  };
}

function pick(all: Invocation[]): Invocation[] {
  const n = opts.limit ? Number(opts.limit) : all.length;
  if (n >= all.length) return all;
  return Array.from({ length: n }, (_, i) => all[Math.floor((i * all.length) / n)]!);
}

try {
  const invocations = pick(recordInvocations(project, work, opts.galley, baseEnv));
  const rows: { crate: string; plain: Sample[]; galley: Sample[]; phases: Phases }[] = [];
  let salt = 0;
  for (const inv of invocations) {
    const env = { ...baseEnv, ...inv.env };
    const plain: Sample[] = [];
    const galley: Sample[] = [];
    for (let r = 0; r < runs; r++) {
      plain.push(timed(inv.args, inv.cwd, env));
      galley.push(
        timed([opts.galley, ...inv.args], inv.cwd, {
          ...env,
          GALLEY_LOG: "debug",
          GALLEY_SALT: `miss-${salt++}`,
        }),
      );
    }
    const phases = galley.map(phasesOf);
    const med = Object.fromEntries(PHASES.map((k) => [k, median(phases.map((p) => p[k]))])) as Phases;
    rows.push({ crate: inv.crate, plain, galley, phases: med });
  }

  const m = (xs: Sample[], k: "ms" | "cpuMs") => median(xs.map((x) => x[k]));
  console.log(
    `| crate | rustc CPU ms | galley miss CPU ms | overhead CPU ms | ${PHASES.join(" ms | ")} ms |`,
  );
  console.log(`| --- | --- | --- | --- | ${PHASES.map(() => "---").join(" | ")} |`);
  for (const r of rows) {
    const over = m(r.galley, "cpuMs") - m(r.plain, "cpuMs");
    console.log(
      `| ${r.crate} | ${m(r.plain, "cpuMs").toFixed(1)} | ${m(r.galley, "cpuMs").toFixed(1)} | ${over.toFixed(1)} | ${PHASES.map((k) => r.phases[k].toFixed(1)).join(" | ")} |`,
    );
  }
  const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((a, r) => a + f(r), 0);
  const plainCpu = sum((r) => m(r.plain, "cpuMs"));
  const galleyCpu = sum((r) => m(r.galley, "cpuMs"));
  const plainWall = sum((r) => m(r.plain, "ms"));
  const galleyWall = sum((r) => m(r.galley, "ms"));
  console.log(
    `\n${rows.length} invocations, medians of ${runs} runs each, summed: rustc ${plainCpu.toFixed(0)} ms CPU / ${plainWall.toFixed(0)} ms wall; through galley as a miss ${galleyCpu.toFixed(0)} ms CPU (${(galleyCpu / plainCpu).toFixed(3)}x) / ${galleyWall.toFixed(0)} ms wall (${(galleyWall / plainWall).toFixed(3)}x)`,
  );
  console.log(
    `galley's own time per miss (median of the per-invocation medians): ${PHASES.filter(
      (k) => k !== "compile",
    )
      .map((k) => `${k} ${median(rows.map((r) => r.phases[k])).toFixed(1)} ms`)
      .join(", ")}`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
