/**
 * The build journal: one file per build (`v1/journal/<build id>.jsonl`; see build-id.ts), one line
 * per unit galley handled: what it was, when it ran, how it ended and why. `galley report` and
 * `galley stats --summary` read it. The first process of a build writes a header line (cargo's
 * command line, directory, start) and prunes old journals, so the directory stays bounded without
 * waiting for a gc. Like the stats, a journal never fails a build.
 */
import {
  appendFileSync,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { currentBuild, type ProcessInfo, processId, processInfo } from "./build-id.ts";
import type { Outcome, StatEvent } from "./stat-event.ts";

export type UnitKind = "rustc" | "cc" | "build-script";

/** What a wrapper process works on; described once, at its start. */
export interface UnitInfo {
  kind: UnitKind;
  /** What people call it: `serde`, `ring (build script)`, `ring: curve25519.c`. */
  name: string;
  /** The cargo package (name@version) it belongs to. */
  pkg?: string;
  /** rustc: the crate name and cargo's hash (`serde-1a2b…`), which dependents' `--extern` files carry. */
  id?: string;
  /** rustc: the ids of the crates it links against. */
  deps?: string[];
}

export interface JournalEntry extends UnitInfo {
  /** Wall-clock times (ms since the epoch) of the wrapper process's start and end. */
  start: number;
  end: number;
  outcome: Outcome;
  reason?: string;
  /** Misses: what the lookup found, then the key parts that changed (`galley explain`'s answer). */
  why?: string[];
  compileMs?: number;
  restoreMs?: number;
  bytesRead?: number;
  bytesWritten?: number;
  /** Hits: the store tier that answered, or `prefilled` (put back before cargo looked). */
  tier?: string;
}

export interface BuildHeader {
  type: "build";
  id: string;
  /** cargo's start (ms since the epoch), command line and working directory, when known. */
  started?: number;
  argv?: string[];
  cwd?: string;
  /** The process that started cargo (a shell, a CI step): `galley stats --oneline` run from the same one finds this build. */
  launcher?: string;
}

export interface Journal {
  id: string;
  mtimeMs: number;
  header?: BuildHeader;
  entries: JournalEntry[];
}

/** Journals kept: the newest builds. */
export const KEEP_BUILDS = 64;

const journalDir = (dir: string) => join(dir, "v1", "journal");

let unit: UnitInfo | undefined;

/** Called once by a wrapper when it knows what it compiles; its stat events then reach the journal. */
export function describeUnit(info: UnitInfo): void {
  unit = info;
}

/** Appends the event of this process's unit to its build's journal (called by recordStat). */
export function journalEvent(dir: string, event: StatEvent): void {
  journalEvents(dir, [{ event, info: unit ?? { kind: "rustc", name: event.crate ?? "?" } }]);
}

/** Several units' events at once (prefill restores many units in one process). */
export function journalEvents(dir: string, items: { event: StatEvent; info: UnitInfo }[]): void {
  try {
    const end = Math.round(performance.timeOrigin + performance.now());
    const lines = items.map(({ event, info }) => {
      const entry: JournalEntry = {
        ...info,
        start: Math.round(performance.timeOrigin),
        end,
        outcome: event.outcome,
      };
      if (event.reason) entry.reason = event.reason;
      if (event.why) entry.why = event.why;
      for (const k of ["compileMs", "restoreMs", "bytesRead", "bytesWritten"] as const)
        if (event[k] !== undefined) entry[k] = Math.round(event[k]);
      if (event.outcome === "hit") entry.tier = event.prefilled ? "prefilled" : (event.tier ?? "local");
      return `${JSON.stringify(entry)}\n`;
    });
    if (lines.length > 0) append(dir, lines.join(""));
  } catch {
    // the journal never fails a build
  }
}

function append(dir: string, line: string, retry = true): void {
  const build = currentBuild();
  const file = join(journalDir(dir), `${build.id}.jsonl`);
  let fd: number;
  try {
    // O_APPEND|O_EXCL: the process that creates the journal writes its header.
    fd = openSync(file, "ax");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") {
      appendFileSync(file, line);
      return;
    }
    if (code !== "ENOENT" || !retry) throw err;
    mkdirSync(journalDir(dir), { recursive: true });
    append(dir, line, false);
    return;
  }
  try {
    writeSync(fd, `${JSON.stringify(headerOf(build.id, build.cargo))}\n${line}`);
  } finally {
    closeSync(fd);
  }
  pruneJournals(dir, KEEP_BUILDS);
}

function headerOf(id: string, cargo: ProcessInfo | undefined): BuildHeader {
  const header: BuildHeader = { type: "build", id };
  if (!cargo) return header;
  try {
    header.argv = readFileSync(`/proc/${cargo.pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    header.cwd = readlinkSync(`/proc/${cargo.pid}/cwd`);
    const btime = /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1];
    // Start times are in clock ticks (USER_HZ, 100 on Linux) since boot.
    if (btime) header.started = Number(btime) * 1000 + Number(cargo.startTicks) * 10;
    const launcher = processInfo(cargo.ppid);
    if (launcher) header.launcher = processId(launcher);
  } catch {
    // a header with less in it
  }
  return header;
}

/** The journals, newest first. */
export function listJournals(dir: string): { id: string; mtimeMs: number }[] {
  let names: string[];
  try {
    names = readdirSync(journalDir(dir));
  } catch {
    return [];
  }
  const out: { id: string; mtimeMs: number }[] = [];
  for (const name of names) {
    if (!name.endsWith(".jsonl")) continue;
    try {
      out.push({
        id: name.slice(0, -".jsonl".length),
        mtimeMs: statSync(join(journalDir(dir), name)).mtimeMs,
      });
    } catch {}
  }
  return out.sort((a, b) => b.mtimeMs - a.mtimeMs || b.id.localeCompare(a.id));
}

/** One build's journal (a torn line from a writer that died is skipped). */
export function readJournal(dir: string, id: string): Journal | undefined {
  const path = join(journalDir(dir), `${id}.jsonl`);
  let text: string;
  let mtimeMs: number;
  try {
    text = readFileSync(path, "utf8");
    mtimeMs = statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
  const journal: Journal = { id, mtimeMs, entries: [] };
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      const record = JSON.parse(line) as JournalEntry | BuildHeader;
      if ("type" in record && record.type === "build") journal.header = record;
      else journal.entries.push(record as JournalEntry);
    } catch {}
  }
  return journal;
}

/** Removes all but the newest `keep` journals. */
export function pruneJournals(dir: string, keep: number): number {
  let removed = 0;
  for (const j of listJournals(dir).slice(keep)) {
    rmSync(join(journalDir(dir), `${j.id}.jsonl`), { force: true });
    removed++;
  }
  return removed;
}

export function clearJournals(dir: string): void {
  rmSync(journalDir(dir), { recursive: true, force: true });
}
