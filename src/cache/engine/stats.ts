/**
 * Cache statistics: every wrapper process appends one line (O_APPEND keeps concurrent lines whole);
 * `galley stats` adds them up. No daemon holds counters in memory.
 */
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { journalEvent, journalEvents, type UnitInfo } from "./journal.ts";
import { sayDeferred } from "./notice.ts";
import type { StatEvent } from "./stat-event.ts";

export type { Outcome, StatEvent } from "./stat-event.ts";

export interface StatsSummary {
  hits: number;
  /** Of the hits: units put into the target dir before cargo looked (prefill), no wrapper started. */
  prefilled: number;
  /** Lookups that missed and compiled (and were stored, or said why not). */
  misses: number;
  /** Lookups that missed and whose compile failed (build-script probes fail on purpose): not stored. */
  compileFailures: number;
  /** Failed compiles by crate: build-script probes (expected) and the others. */
  failedProbes: Record<string, number>;
  failedOther: Record<string, number>;
  passthroughs: number;
  passthroughReasons: Record<string, number>;
  errors: number;
  errorReasons: Record<string, number>;
  corruptEntries: number;
  /** Hits served by the local store / fetched from the shared one. */
  localHits: number;
  remoteHits: number;
  rejectedRecords: number;
  unsignedRecords: number;
  remoteErrors: number;
  /** Uploads left to the background queue, and those its drainer dropped. */
  uploadsQueued: number;
  uploadsDropped: number;
  compileMsSaved: number;
  bytesRead: number;
  bytesWritten: number;
  medianHitWrapperMs: number | null;
  /** galley's own CPU in the processes that recorded it, compilers excluded. */
  wrapperCpuMs: number;
  wrapperProcesses: number;
  /** The largest peak resident memory of one of those processes, in KiB. */
  peakWrapperRssKb: number;
  /** The same counts per kind of action: rustc compiles, C/C++ compiles, build-script runs. */
  byKind: Record<ActionKind, KindCounts>;
}

export type ActionKind = "rustc" | "cc" | "buildScript";
export interface KindCounts {
  hits: number;
  misses: number;
  passthroughs: number;
}

/** The kind of an event, from its label (`cc:<source>`, `build_script:<package>`, else a crate). */
export function kindOf(label: string | undefined): ActionKind {
  if (label?.startsWith("cc:")) return "cc";
  if (label?.startsWith("build_script:")) return "buildScript";
  return "rustc";
}

const statsFile = (dir: string) => join(dir, "v1", "stats.log");
const zeroedFile = (dir: string) => join(dir, "v1", "stats.zeroed");

export function recordStat(dir: string, event: StatEvent): void {
  appendEvents(dir, [event]);
  journalEvent(dir, event);
  // A unit's wrapper: cargo shows its stderr (a probe's it keeps to itself), so it says what the
  // quiet prefill probe of the build met.
  sayDeferred();
}

/** Several units' events from one process, in one write each to the stats log and the journal. */
export function recordStats(dir: string, items: { event: StatEvent; info: UnitInfo }[]): void {
  if (items.length === 0) return;
  appendEvents(
    dir,
    items.map(({ event }) => event),
  );
  journalEvents(dir, items);
}

/**
 * What a drainer of the upload queue did: jobs it took from the queue and those it dropped. Not a
 * unit: it goes to the stats log only, not to a build's journal.
 */
export function recordUploads(dir: string, taken: number, dropped: number): void {
  appendEvents(dir, [
    { outcome: "passthrough", side: "uploads", uploadsQueued: taken, uploadsDropped: dropped },
  ]);
}

/** The faults the prefill probe met in the shared store (it restores units, but is no unit itself). */
export function recordProbeFaults(
  dir: string,
  faults: Pick<StatEvent, "corrupt" | "remoteErrors" | "rejected" | "unsigned">,
): void {
  appendEvents(dir, [{ outcome: "passthrough", side: "probe", ...faults }]);
}

/** Whether this process has put its CPU on an event yet: it is counted once. */
let cpuStamped = false;

function appendEvents(dir: string, events: StatEvent[]): void {
  try {
    if (!cpuStamped) {
      const cpu = process.cpuUsage();
      events[0] = {
        ...events[0]!,
        cpuMs: Math.round((cpu.user + cpu.system) / 100) / 10,
        peakRssKb: peakRssKb(),
      };
      cpuStamped = true;
    }
    mkdirSync(join(dir, "v1"), { recursive: true });
    appendFileSync(statsFile(dir), events.map((e) => `${JSON.stringify(e)}\n`).join(""));
  } catch {
    // statistics never fail a build
  }
}

/**
 * This process's own peak resident memory, in KiB: VmHWM, which starts afresh at exec. (getrusage's
 * maxRSS does not: it keeps the peak of the cargo process this one was forked from.)
 */
function peakRssKb(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "latin1"));
    if (m) return Number(m[1]);
  } catch {
    // no /proc (macOS): the rusage figure, an upper bound
  }
  return process.resourceUsage().maxRSS;
}

/** Every recorded event, oldest first (a torn line from a writer that died is skipped). */
export function readEvents(dir: string): StatEvent[] {
  let text = "";
  try {
    text = readFileSync(statsFile(dir), "utf8");
  } catch {
    return [];
  }
  const events: StatEvent[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      events.push(JSON.parse(line) as StatEvent);
    } catch {}
  }
  return events;
}

export function readStats(dir: string): StatsSummary {
  const s: StatsSummary = {
    hits: 0,
    prefilled: 0,
    misses: 0,
    compileFailures: 0,
    failedProbes: {},
    failedOther: {},
    passthroughs: 0,
    passthroughReasons: {},
    errors: 0,
    errorReasons: {},
    corruptEntries: 0,
    localHits: 0,
    remoteHits: 0,
    rejectedRecords: 0,
    unsignedRecords: 0,
    remoteErrors: 0,
    uploadsQueued: 0,
    uploadsDropped: 0,
    compileMsSaved: 0,
    bytesRead: 0,
    bytesWritten: 0,
    medianHitWrapperMs: null,
    wrapperCpuMs: 0,
    wrapperProcesses: 0,
    peakWrapperRssKb: 0,
    byKind: {
      rustc: { hits: 0, misses: 0, passthroughs: 0 },
      cc: { hits: 0, misses: 0, passthroughs: 0 },
      buildScript: { hits: 0, misses: 0, passthroughs: 0 },
    },
  };
  const hitTimes: number[] = [];
  for (const e of readEvents(dir)) {
    // What every process met in the shared store; the upload queue's drainer and the prefill probe
    // are no units, so only that of them is counted.
    s.corruptEntries += e.corrupt ?? 0;
    s.rejectedRecords += e.rejected ?? 0;
    s.unsignedRecords += e.unsigned ?? 0;
    s.remoteErrors += e.remoteErrors ?? 0;
    s.uploadsQueued += e.uploadsQueued ?? 0;
    s.uploadsDropped += e.uploadsDropped ?? 0;
    if (e.side !== undefined) continue;
    const kind = s.byKind[kindOf(e.crate)];
    if (e.outcome === "hit") kind.hits++;
    else if (e.outcome === "miss" && e.reason !== "compile failed") kind.misses++;
    else if (e.outcome === "passthrough") kind.passthroughs++;
    s.bytesRead += e.bytesRead ?? 0;
    s.bytesWritten += e.bytesWritten ?? 0;
    if (e.cpuMs !== undefined) {
      s.wrapperCpuMs += e.cpuMs;
      s.wrapperProcesses++;
    }
    if (e.peakRssKb !== undefined) s.peakWrapperRssKb = Math.max(s.peakWrapperRssKb, e.peakRssKb);
    if (e.outcome === "hit") {
      s.hits++;
      if (e.prefilled) s.prefilled++;
      if (e.tier === "remote") s.remoteHits++;
      else s.localHits++;
      s.compileMsSaved += Math.max(0, (e.compileMs ?? 0) - (e.restoreMs ?? 0));
      if (e.wrapperMs !== undefined) hitTimes.push(e.wrapperMs);
    } else if (e.outcome === "miss") {
      if (e.reason === "compile failed") {
        s.compileFailures++;
        const byCrate = e.probe ? s.failedProbes : s.failedOther;
        const crate = e.crate ?? "?";
        byCrate[crate] = (byCrate[crate] ?? 0) + 1;
      } else s.misses++;
    } else if (e.outcome === "passthrough") {
      s.passthroughs++;
      const r = e.reason ?? "unknown";
      s.passthroughReasons[r] = (s.passthroughReasons[r] ?? 0) + 1;
    } else if (e.outcome === "error") {
      s.errors++;
      const r = e.reason ?? "unknown";
      s.errorReasons[r] = (s.errorReasons[r] ?? 0) + 1;
    }
  }
  s.wrapperCpuMs = Math.round(s.wrapperCpuMs * 10) / 10;
  hitTimes.sort((a, b) => a - b);
  if (hitTimes.length > 0) s.medianHitWrapperMs = hitTimes[Math.floor(hitTimes.length / 2)]!;
  return s;
}

export function zeroStats(dir: string): void {
  rmSync(statsFile(dir), { force: true });
  try {
    // Builds journaled from now on are the ones `galley stats --summary` sums up.
    mkdirSync(join(dir, "v1"), { recursive: true });
    writeFileSync(zeroedFile(dir), `${Date.now()}\n`);
  } catch {}
}

/** When the statistics were last zeroed (ms since the epoch), if ever. */
export function zeroedAt(dir: string): number | undefined {
  try {
    const at = Number(readFileSync(zeroedFile(dir), "utf8"));
    return Number.isFinite(at) ? at : undefined;
  } catch {
    return undefined;
  }
}
