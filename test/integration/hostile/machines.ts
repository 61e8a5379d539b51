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
export const BUILD_DEADLINE_MS = 90_000;
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
  /** Processes of the build still running LEFTOVER_GRACE_MS after cargo ended (then killed). */
  leftover: Sample[];
  /** The galley process with the highest peak resident memory the watchdog saw. */
  peak: Sample | undefined;
  /** galley processes seen. */
  sampled: number;
}

interface Proc {
  pid: number;
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
      out.push({ pid: Number(name), comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) });
    } catch {}
  }
  return out;
}

/**
 * The processes of one build, found by a variable set for it alone and inherited by everything it
 * starts: this also finds what outlives cargo (a background uploader) and nothing of other builds
 * on the machine.
 */
class Marked {
  readonly variable = `HOSTILE_BUILD=${process.pid}-${Math.random().toString(36).slice(2)}`;
  private readonly known = new Map<number, boolean>();

  /** The build's processes, galley's alone unless `all`. */
  list(all = false): Proc[] {
    return processes().filter((p) => (all || isGalley(p)) && this.has(p.pid));
  }

  private has(pid: number): boolean {
    let yes = this.known.get(pid);
    if (yes === undefined) {
      try {
        yes = readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(this.variable);
      } catch {
        yes = false;
      }
      this.known.set(pid, yes);
    }
    return yes;
  }
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
    const script = argv.indexOf("--galley-build-script");
    if (script >= 0) {
      const pkg = /\/build\/([^/]+)-[0-9a-f]{16}\//.exec(argv[script + 1] ?? "")?.[1];
      return `the build-script run of ${pkg ?? "?"}`;
    }
    const crate = argv.indexOf("--crate-name");
    if (crate >= 0) return `the wrapper of ${argv[crate + 1]}`;
    return `galley ${argv.slice(1, 3).join(" ")}`.trim();
  } catch {
    return `galley process ${pid}`;
  }
}

const isGalley = (p: Proc) => p.comm.startsWith("galley");

/** How long galley processes of a build may go on after cargo ended (work left to the background). */
export const LEFTOVER_GRACE_MS = 15_000;

/** `cargo build` through galley in `dir` on `cacheDir`, from a clean target dir, watched. */
export async function build(dir: string, cacheDir: string, env: Record<string, string>): Promise<Build> {
  rmSync(join(dir, "target"), { recursive: true, force: true });
  rmSync(join(cacheDir, "v1", "stats.log"), { force: true });
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(GALLEY_|SCCACHE_|RUSTC_WRAPPER$|CARGO_BUILD_RUSTC_WRAPPER$)/.test(k),
    ),
  );
  const marked = new Marked();
  const [markName, markValue] = marked.variable.split("=") as [string, string];
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
      [markName]: markValue,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const stdout = new Response(proc.stdout).text();
  const stderr = new Response(proc.stderr).text();
  const peaks = new Map<number, Sample>();
  const killed: Sample[] = [];
  const sample = () => {
    for (const p of marked.list()) {
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
    killAll(marked);
    proc.kill("SIGKILL");
  }, BUILD_DEADLINE_MS);
  await proc.exited;
  clearTimeout(deadline);
  const ms = performance.now() - started;
  // What goes on after cargo: watched the same way, given a while, then killed and reported.
  const leftover: Sample[] = [];
  for (const end = Date.now() + LEFTOVER_GRACE_MS; marked.list(true).length > 0 && Date.now() < end; )
    await Bun.sleep(200);
  clearInterval(watchdog);
  for (const p of marked.list(true))
    leftover.push(peaks.get(p.pid) ?? { pid: p.pid, what: `${p.comm} (${p.pid})`, peakKb: 0 });
  killAll(marked);
  const all = [...peaks.values()];
  return {
    code: proc.exitCode,
    signal: proc.signalCode === null ? null : String(proc.signalCode),
    stdout: await stdout,
    stderr: await stderr,
    ms,
    timedOut,
    killed,
    leftover,
    peak: all.sort((a, b) => b.peakKb - a.peakKb)[0],
    sampled: all.length,
  };
}

function killAll(marked: Marked): void {
  for (const p of marked.list(true))
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {}
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
    run([GALLEY_UNDER_TEST, "stats", "--json"], { cwd: cacheDir, env: { GALLEY_DIR: cacheDir } }),
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
