/**
 * The hostile-server suite for one backend: machine 1 fills the real store through the proxy in
 * pass-through mode; then, for each fault, machine 2 (a fresh cache dir, a fresh target dir, the
 * same checkout path) builds through the proxy with the fault on, and:
 *   - the build passes, its binary and the app's output byte-identical to plain cargo's;
 *   - the fault is counted in `galley stats --json` (corrupt entries, refused records or store
 *     failures, by what the fault is);
 *   - it is said once: exactly one `galley: warning:` line on that topic;
 *   - no galley process went over WRAPPER_MEMORY_BUDGET_BYTES (the peaks galley recorded and the
 *     peaks the watchdog sampled, which include a rustc -vV probe that records nothing);
 *   - the build ended by itself, within BUILD_DEADLINE_MS.
 * Writes from machine 2 are acknowledged by the proxy and dropped, so the store stays as machine 1
 * left it for the next fault (and a last pass-through build checks it still is).
 *
 * Each test reports every check that failed at once, in one line per problem, so the table of
 * what fails today (and how) can be read off one run.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WRAPPER_MEMORY_BUDGET_BYTES } from "../../../src/cache/store/limits.ts";
import { removeDir } from "../../helpers.ts";
import {
  appBinary,
  appOutput,
  BUILD_DEADLINE_MS,
  type Build,
  build,
  crates,
  freshCache,
  galleyStats,
  LEFTOVER_GRACE_MS,
  type Project,
  plainProject,
  REGISTRY_UNITS,
  removeProject,
  type Stats,
  unitEvents,
  warningLines,
} from "./machines.ts";
import { FAULTS, type FaultName, type HostileProxy } from "./proxy.ts";

/** What a fault must leave behind: which counter goes up, and the topic of the one warning. */
type Outcome = "damaged" | "refused" | "failed" | "damagedOrFailed";

export const EXPECTED: Record<FaultName, Outcome> = {
  bomb: "damaged",
  prefillBomb: "damaged",
  oversize: "damagedOrFailed",
  lyingLength: "damagedOrFailed",
  endless: "damagedOrFailed",
  truncate: "damaged",
  reset: "damagedOrFailed",
  // A deadline that fires mid-answer may be a store failure or a damaged entry; the time it costs is checked.
  trickle: "damagedOrFailed",
  wrongDigest: "damaged",
  garbageBlobs: "damagedOrFailed",
  garbageRecord: "refused",
  hugeRecord: "refused",
  absurdSize: "refused",
  absurdCount: "refused",
  hangWrites: "failed",
};

/**
 * The words the one warning about the store must have (every warning about the shared store names
 * it; a failure may be said in any words).
 */
const TOPICS: Record<Outcome, RegExp> = {
  damaged: /damaged|corrupt/i,
  refused: /refus|damaged|corrupt|malformed/i,
  failed: /./,
  damagedOrFailed: /./,
};

const failures = (s: Stats) => s.remoteErrors + (s.uploadsDropped ?? 0);
const COUNTED: Record<Outcome, { names: string; count(s: Stats): number }> = {
  damaged: { names: "corruptEntries", count: (s) => s.corruptEntries },
  refused: { names: "rejectedRecords + corruptEntries", count: (s) => s.rejectedRecords + s.corruptEntries },
  failed: { names: "remoteErrors + uploadsDropped", count: failures },
  damagedOrFailed: {
    names: "corruptEntries + remoteErrors + uploadsDropped",
    count: (s) => s.corruptEntries + failures(s),
  },
};

/** galley's word for a write that missed its grace and went to the background. */
const SLOW_WRITE = /did not take an upload/;

/** Work a build leaves to the background (uploads) may count a fault a moment after it ends. */
const COUNT_GRACE_MS = 10_000;

/**
 * Machine 2's request time-out: short, so that trickles and hangs cost little when handled. Writes
 * (acknowledged at once by the proxy) get a grace long enough that a proxy busy with another
 * connection's huge answer does not count as a slow store; hangWrites keeps galley's own grace.
 */
const TIMEOUT_ENV = { GALLEY_STORE_TIMEOUT_MS: "3000", GALLEY_STORE_CONNECT_TIMEOUT_MS: "3000" };
const WRITE_GRACE_ENV = { GALLEY_STORE_WRITE_GRACE_MS: "2000" };
const TEST_TIMEOUT_MS = BUILD_DEADLINE_MS + 60_000;
const BUDGET_KB = WRAPPER_MEMORY_BUDGET_BYTES / 1024;

export interface Backend {
  name: string;
  /** The faults its proxy can inject (run in FAULT_ORDER). */
  faults: readonly FaultName[];
  /** Kinds of request (the proxy's `seen`) a warm machine 2 must send: the paths the faults hit. */
  mustSee: string[];
  /** Starts the real server and the proxy in front of it; stop() stops both. */
  start(): Promise<{ proxy: HostileProxy; stop(): Promise<void> }>;
}

const mib = (kb: number) => `${(kb / 1024).toFixed(0)} MiB`;

/**
 * How much longer than a build without any shared store a build with a fault may take: the design
 * wants a slow or dead store noticed once per build, a few time-outs, not one per process.
 */
const slowAfter = (localMs: number) => 2 * localMs + 12_000;

/** Everything wrong with machine 2's build, one line each (empty: the fault was handled). */
async function problems(
  b: Build,
  p: Project,
  cacheDir: string,
  outcome: Outcome | undefined,
  proxy: HostileProxy,
  localMs: number,
  notes: string[],
): Promise<{ problems: string[]; stats: Stats | undefined }> {
  const out: string[] = [];
  if (!b.timedOut && b.ms > slowAfter(localMs))
    out.push(
      `slow: ${(b.ms / 1000).toFixed(1)} s, where a build without a shared store takes ${(localMs / 1000).toFixed(1)} s`,
    );
  // While the proxy acknowledges writes at once, a write that missed galley's grace was held up by
  // the machine or the proxy's other work, not by the fault under test: noted, not counted.
  const all = warningLines(b.stderr);
  const warnings = outcome === "failed" ? all : all.filter((l) => !SLOW_WRITE.test(l));
  if (warnings.length < all.length) notes.push(...all.filter((l) => SLOW_WRITE.test(l)));
  if (b.timedOut)
    out.push(`hang: the build had not ended after ${BUILD_DEADLINE_MS / 1000} s and was killed`);
  for (const k of b.leftover)
    out.push(
      `left running: ${k.what} had not ended ${LEFTOVER_GRACE_MS / 1000} s after the build and was killed`,
    );
  for (const k of b.killed)
    out.push(`SIGKILL: ${k.what} passed ${mib(k.peakKb)} and was killed by the watchdog`);
  if (b.code !== 0 && !b.timedOut) {
    out.push(
      `crash: the build failed (exit ${b.code}${b.signal ? `, ${b.signal}` : ""}): ${crashReason(b.stderr)}`,
    );
  }
  if (b.code === 0) {
    const binary = appBinary(p.dir);
    if (!binary?.equals(p.binary)) out.push("wrong output: the binary differs from plain cargo's");
    if (appOutput(p.dir) !== p.output) out.push("wrong output: the app prints other than plain cargo's");
  }
  let stats: Stats | undefined;
  const readStats = () => {
    try {
      stats = galleyStats(cacheDir);
    } catch (e) {
      out.push(`no stats: ${(e as Error).message.split("\n")[0]}`);
    }
  };
  readStats();
  if (outcome) {
    if (proxy.injected === 0)
      out.push("harness: the proxy never injected the fault (no such answer was asked for)");
    const counted = COUNTED[outcome];
    const later = outcome === "failed" || outcome === "damagedOrFailed";
    for (
      let end = Date.now() + (later ? COUNT_GRACE_MS : 0);
      stats && counted.count(stats) === 0 && Date.now() < end;
    ) {
      await Bun.sleep(500);
      readStats();
    }
    if (stats && counted.count(stats) === 0)
      out.push(
        `not counted: ${counted.names} = 0 (corrupt ${stats.corruptEntries}, refused ${stats.rejectedRecords}, store failures ${stats.remoteErrors}, errors ${stats.errors})`,
      );
    const aboutStore = warnings.filter((l) => proxy.shownAs().some((name) => l.includes(name)));
    if (aboutStore.length !== 1)
      out.push(
        `said ${aboutStore.length === 0 ? "never" : `${aboutStore.length} times`}; warnings: ${JSON.stringify(warnings).slice(0, 600)}`,
      );
    else if (!TOPICS[outcome].test(aboutStore[0]!))
      out.push(`said, but not as ${outcome} (${TOPICS[outcome]}): ${JSON.stringify(aboutStore[0])}`);
  } else if (warnings.length > 0) out.push(`warnings without a fault: ${JSON.stringify(warnings)}`);
  const recorded = stats?.peakWrapperRssKb ?? 0;
  if (recorded > BUDGET_KB)
    out.push(`memory: a wrapper recorded a peak of ${mib(recorded)}, over the budget of ${mib(BUDGET_KB)}`);
  if (b.peak && b.peak.peakKb > BUDGET_KB && !b.killed.some((k) => k.pid === b.peak!.pid))
    out.push(`memory: ${b.peak.what} reached ${mib(b.peak.peakKb)}, over the budget of ${mib(BUDGET_KB)}`);
  return { problems: out, stats };
}

/** Which process of the build failed and how, from cargo's words, with any error galley printed. */
function crashReason(stderr: string): string {
  const reasons = [...stderr.matchAll(/process didn't exit successfully: `([^`]*)` \(([^)]*)\)/g)].map(
    (m) => {
      const argv = m[1]!.split(" ");
      const crate = argv.includes("-vV")
        ? "the rustc -vV probe"
        : `the wrapper of ${argv[argv.indexOf("--crate-name") + 1] ?? "?"}`;
      return `${crate} ended with ${m[2]}`;
    },
  );
  // What the wrapper itself printed: an uncaught error's line (cargo's own error lines left out).
  const errors = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /^([A-Z]\w+: \S|error: |panic|galley: (error|fatal))/.test(l))
    .filter((l) => !/^Caused by|could not compile|process didn't exit|failed to run custom build/.test(l))
    .slice(0, 3);
  return (
    [...new Set(reasons), ...errors].join("; ").slice(0, 500) ||
    stderr.trim().split("\n").slice(-3).join(" | ")
  );
}

export function hostileSuite(backend: Backend): void {
  describe(`hostile ${backend.name}`, () => {
    let proxy: HostileProxy;
    let stopServers: () => Promise<void> = async () => {};
    let project: Project;
    /** How long machine 2's build takes with no shared store at all (every unit compiled). */
    let localMs = 0;
    const caches: string[] = [];
    const cache = () => {
      const c = freshCache();
      caches.push(c);
      return c;
    };

    beforeAll(async () => {
      project = plainProject();
      const started = await backend.start();
      proxy = started.proxy;
      stopServers = started.stop;
      // Machine 1 fills the store through the proxy, which changes nothing.
      proxy.mode = { writes: "forward" };
      const fill = await build(project.dir, cache(), proxy.env());
      if (fill.code !== 0) throw new Error(`machine 1's build failed:\n${fill.stderr}`);
      if (!proxy.seen.write)
        throw new Error(`machine 1 wrote nothing through the proxy: ${JSON.stringify(proxy.seen)}`);
      proxy.mode = { writes: "sink" };
      const local = await build(project.dir, cache(), {});
      if (local.code !== 0) throw new Error(`a build without a shared store failed:\n${local.stderr}`);
      localMs = local.ms;
    }, 300_000);

    afterAll(async () => {
      await stopServers();
      if (project) removeProject(project);
      for (const c of caches) removeDir(join(c, ".."));
    });

    const passThrough = async (what: string) => {
      proxy.mode = { writes: "sink" };
      for (const k of Object.keys(proxy.seen)) delete proxy.seen[k];
      const cacheDir = cache();
      const b = await build(project.dir, cacheDir, { ...proxy.env(), ...TIMEOUT_ENV, ...WRITE_GRACE_ENV });
      const notes: string[] = [];
      const found = await problems(b, project, cacheDir, undefined, proxy, localMs, notes);
      const events = unitEvents(cacheDir);
      const misses = crates(events, (e) => e.outcome === "miss" && e.reason !== "compile failed");
      if (misses.length > 0) found.problems.push(`${what}: misses ${misses.join(", ")}`);
      const unseen = backend.mustSee.filter((k) => !proxy.seen[k]);
      if (unseen.length > 0)
        found.problems.push(
          `harness: no ${unseen.join(", ")} went through the proxy (${JSON.stringify(proxy.seen)})`,
        );
      const prefilled = crates(events, (e) => e.prefilled === true && e.tier === "remote");
      if (JSON.stringify(prefilled) !== JSON.stringify(REGISTRY_UNITS))
        found.problems.push(`${what}: prefilled from the shared store ${JSON.stringify(prefilled)}`);
      report(backend.name, what, b, found.problems, notes);
      expect(found.problems).toEqual([]);
    };

    test(
      "pass-through: machine 2 is all hits, the registry units prefilled from the shared index",
      () => passThrough("pass-through"),
      TEST_TIMEOUT_MS,
    );

    for (const fault of FAULT_ORDER.filter((f) => backend.faults.includes(f))) {
      test(
        `${fault}: ${FAULTS[fault]}: the build passes, byte-identical; counted, said once, within memory`,
        async () => {
          const cacheDir = cache();
          proxy.injected = 0;
          proxy.mode = { fault, writes: fault === "hangWrites" ? "hang" : "sink" };
          let b: Build;
          try {
            b = await build(project.dir, cacheDir, {
              ...proxy.env(),
              ...TIMEOUT_ENV,
              ...(fault === "hangWrites" ? {} : WRITE_GRACE_ENV),
            });
          } finally {
            proxy.mode = { writes: "sink" };
          }
          const notes: string[] = [];
          const found = await problems(b, project, cacheDir, EXPECTED[fault], proxy, localMs, notes);
          report(backend.name, fault, b, found.problems, notes);
          rmSync(join(project.dir, "target"), { recursive: true, force: true });
          expect(found.problems).toEqual([]);
        },
        TEST_TIMEOUT_MS,
      );
    }

    test(
      "after every fault the store is still whole: another fresh machine is all hits",
      () => passThrough("store still whole"),
      TEST_TIMEOUT_MS,
    );
  });
}

/** Faults in the order they run: the quick ones first. */
export const FAULT_ORDER: readonly FaultName[] = [
  "wrongDigest",
  "truncate",
  "garbageRecord",
  "absurdSize",
  "absurdCount",
  "hugeRecord",
  "bomb",
  "prefillBomb",
  "oversize",
  "lyingLength",
  "endless",
  "garbageBlobs",
  "reset",
  "trickle",
  "hangWrites",
];

/** One line per test for the table of results (bun prints it with the test's output). */
function report(backend: string, fault: string, b: Build, found: string[], notes: string[]): void {
  // HOSTILE_LOGS=<dir> keeps each build's stderr there, to read what galley said.
  const logs = process.env.HOSTILE_LOGS;
  if (logs) writeFileSync(join(logs, `${backend.replace(/\W+/g, "-")}-${fault}.stderr`), b.stderr);
  const peak = b.peak ? `${mib(b.peak.peakKb)} (${b.peak.what})` : "none sampled";
  const verdict = found.length === 0 ? "PASS" : `FAIL: ${found.join("; ")}`;
  const noted = notes.length > 0 ? ` | noted: ${JSON.stringify(notes)}` : "";
  console.log(
    `hostile | ${backend} | ${fault} | ${(b.ms / 1000).toFixed(1)} s | peak ${peak} | ${verdict}${noted}`,
  );
}
