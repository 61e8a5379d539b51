/**
 * Machines for the hostile-server suite: cargo builds through galley started asynchronously (the
 * proxies run in this process and must keep answering while cargo runs), each watched by a memory
 * watchdog that samples every galley process of the build (its peak resident memory, VmHWM) and
 * SIGKILLs one that passes KILL_RSS_BYTES, so that a bomb cannot take the test machine down; and a
 * deadline after which the whole build is killed and reported as hung.
 *
 * (A cgroup memory limit would bound the build harder. This machine offers the memory controller
 * only under cgroup v1, inside the cgroup of the session that runs the tests, which is not ours to
 * change; the watchdog needs nothing but /proc.)
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { readEvents, type StatEvent } from "../../../src/cache/engine/stats.ts";
import { copyFixture, GALLEY, ok, removeDir, run, tempDir } from "../../helpers.ts";
import { GIB } from "./proxy.ts";

/** A galley process above this is killed by the watchdog (far above the budget it is checked against). */
export const KILL_RSS_BYTES = 1 * GIB;
/** A build that has not ended by then is killed and reported as hung. */
export const BUILD_DEADLINE_MS = 150_000;
const SAMPLE_EVERY_MS = 40;
/** The galley under test: the build's (dist/galley), or another one named by HOSTILE_GALLEY (an older build, to compare). */
export const GALLEY_UNDER_TEST = process.env.HOSTILE_GALLEY || GALLEY;

/** The fixture with registry dependencies, one of them with a build script (typenum) and cc. */
export const FIXTURE = "build-scripts";
/** Its registry units, which a fresh machine's first probe restores from the shared index. */
export const REGISTRY_UNITS = [
  "build_script:typenum",
  "build_script_main",
  "cc",
  "find_msvc_tools",
  "shlex",
  "typenum",
];

export interface Project {
  /** The checkout: every machine builds at this one path, as CI runners check out at one path. */
  dir: string;
  /** What plain cargo built there. */
  binary: Buffer;
  output: string;
}

const appPath = (dir: string) => join(dir, "target", "debug", "app");

/** A copy of the fixture, built once by plain cargo for the bytes every galley build must match. */
export function plainProject(): Project {
  const dir = copyFixture(FIXTURE, join(tempDir("galley-hostile-"), "ws"));
  ok(
    run(["cargo", "build"], { cwd: dir, env: { CARGO_INCREMENTAL: "0", RUSTC_WRAPPER: "" } }),
    "plain cargo build",
  );
  const binary = readFileSync(appPath(dir));
  const output = ok(run([appPath(dir)], { cwd: dir }), "plain app").stdout;
  rmSync(join(dir, "target"), { recursive: true, force: true });
  return { dir, binary, output };
}

export function removeProject(p: Project): void {
  removeDir(join(p.dir, ".."));
}

/** A fresh machine: its own cache dir (the target dir is removed before each build). */
export function freshCache(): string {
  return join(tempDir("galley-hostile-cache-"), "cache");
}

export interface Sample {
  pid: number;
  /** What the process was: the rustc -vV probe, or the crate it wrapped. */
  what: string;
  peakKb: number;
}

export interface Build {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
  /** galley processes the watchdog killed. */
  killed: Sample[];
  /** The galley process with the highest peak resident memory the watchdog saw. */
  peak: Sample | undefined;
  /** galley processes seen. */
  sampled: number;
}

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
}

function processes(): Proc[] {
  let names: string[];
  try {
    names = readdirSync("/proc");
  } catch {
    return [];
  }
  const out: Proc[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      out.push({ pid: Number(name), ppid, comm });
    } catch {}
  }
  return out;
}

/** The processes below `root` (itself included), by a walk of the parent links. */
function tree(root: number, all: Proc[]): Proc[] {
  const children = new Map<number, Proc[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: Proc[] = [];
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      todo.push(c.pid);
    }
  }
  return out;
}

function statusKb(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "latin1"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function describeProcess(pid: number): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0");
    if (argv.includes("-vV")) return "the rustc -vV probe (prefill)";
    const crate = argv.indexOf("--crate-name");
    if (crate >= 0) return `the wrapper of ${argv[crate + 1]}`;
    return `galley ${argv.slice(1, 3).join(" ")}`.trim();
  } catch {
    return `galley process ${pid}`;
  }
}

const isGalley = (p: Proc) => p.comm === "galley" || p.comm.startsWith("galley");

/** `cargo build` through galley in `dir` on `cacheDir`, from a clean target dir, watched. */
export async function build(dir: string, cacheDir: string, env: Record<string, string>): Promise<Build> {
  rmSync(join(dir, "target"), { recursive: true, force: true });
  rmSync(join(cacheDir, "v1", "stats.log"), { force: true });
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(GALLEY_|SCCACHE_|RUSTC_WRAPPER$|CARGO_BUILD_RUSTC_WRAPPER$)/.test(k),
    ),
  );
  const started = performance.now();
  const proc = Bun.spawn(["cargo", "build"], {
    cwd: dir,
    env: {
      ...(inherited as Record<string, string>),
      NO_COLOR: "1",
      RUSTC_WRAPPER: GALLEY_UNDER_TEST,
      GALLEY_DIR: cacheDir,
      // No config file of this machine's user joins in.
      GALLEY_CONFIG: join(cacheDir, "..", "no-config.toml"),
      CARGO_INCREMENTAL: "0",
      ...env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const stdout = new Response(proc.stdout).text();
  const stderr = new Response(proc.stderr).text();
  const peaks = new Map<number, Sample>();
  const killed: Sample[] = [];
  const sample = () => {
    for (const p of tree(proc.pid, processes())) {
      if (!isGalley(p)) continue;
      const hwm = statusKb(p.pid, "VmHWM");
      const rss = statusKb(p.pid, "VmRSS");
      const known = peaks.get(p.pid) ?? { pid: p.pid, what: describeProcess(p.pid), peakKb: 0 };
      known.peakKb = Math.max(known.peakKb, hwm, rss);
      peaks.set(p.pid, known);
      if (rss * 1024 > KILL_RSS_BYTES && !killed.some((k) => k.pid === p.pid)) {
        killed.push({ ...known });
        try {
          process.kill(p.pid, "SIGKILL");
        } catch {}
      }
    }
  };
  const watchdog = setInterval(sample, SAMPLE_EVERY_MS);
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    for (const p of [...tree(proc.pid, processes()).reverse()])
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {}
    proc.kill("SIGKILL");
  }, BUILD_DEADLINE_MS);
  await proc.exited;
  clearInterval(watchdog);
  clearTimeout(deadline);
  const ms = performance.now() - started;
  const all = [...peaks.values()];
  return {
    code: proc.exitCode,
    signal: proc.signalCode === null ? null : String(proc.signalCode),
    stdout: await stdout,
    stderr: await stderr,
    ms,
    timedOut,
    killed,
    peak: all.sort((a, b) => b.peakKb - a.peakKb)[0],
    sampled: all.length,
  };
}

export function appBinary(dir: string): Buffer | undefined {
  try {
    return readFileSync(appPath(dir));
  } catch {
    return undefined;
  }
}

export function appOutput(dir: string): string | undefined {
  const r = run([appPath(dir)], { cwd: dir });
  return r.code === 0 ? r.stdout : undefined;
}

/** What `galley stats --json` says of a cache (the summary every user sees). */
export interface Stats {
  hits: number;
  prefilled: number;
  misses: number;
  remoteHits: number;
  corruptEntries: number;
  rejectedRecords: number;
  remoteErrors: number;
  errors: number;
  errorReasons: Record<string, number>;
  peakWrapperRssKb: number;
  wrapperProcesses: number;
  /** Uploads a background drainer dropped (where galley has one). */
  uploadsDropped?: number;
}

export function galleyStats(cacheDir: string): Stats {
  const r = ok(
    run([GALLEY, "stats", "--json"], { cwd: cacheDir, env: { GALLEY_DIR: cacheDir } }),
    "galley stats --json",
  );
  return JSON.parse(r.stdout) as Stats;
}

/** The stats events of the last build: which units were prefilled, which hit. */
export function unitEvents(cacheDir: string): StatEvent[] {
  return readEvents(cacheDir);
}

export function warningLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith("galley: warning:"));
}

/** Every crate an outcome was recorded for, sorted and once each. */
export function crates(events: StatEvent[], pick: (e: StatEvent) => boolean): string[] {
  return [...new Set(events.filter(pick).map((e) => e.crate ?? "?"))].sort();
}
