/**
 * One build as the report and the CI summaries show it, from its journal: units in time order with
 * their lanes, the critical path, totals, and the misses that cost most first.
 */
import { type Journal, type JournalEntry, listJournals, readJournal } from "../cache/engine/journal.ts";
import { InputError } from "../errors.ts";

export interface ViewUnit extends JournalEntry {
  index: number;
  /** Time saved by a hit: the compile it recorded, less the restore. */
  savedMs: number;
  /** The timeline row it is drawn on (units that overlap in time get different lanes). */
  lane: number;
  critical: boolean;
}

export interface Totals {
  units: number;
  hits: number;
  misses: number;
  passthroughs: number;
  errors: number;
  savedMs: number;
  /** Compile time spent on misses, passthroughs and errors. */
  compiledMs: number;
  bytesRestored: number;
  bytesStored: number;
}

export interface BuildView {
  id: string;
  argv?: string[];
  cwd?: string;
  /** The first unit's start (or cargo's, when known) and the last unit's end, ms since the epoch. */
  start: number;
  end: number;
  units: ViewUnit[];
  lanes: number;
  totals: Totals;
  /** Misses (and errors), most expensive first. */
  misses: ViewUnit[];
  /** The critical path, first unit first. */
  criticalPath: ViewUnit[];
}

/** `last`, a build id, or a unique prefix of one. */
export function selectJournal(dir: string, which: string): Journal {
  const all = listJournals(dir);
  if (all.length === 0)
    throw new InputError(
      `no build is recorded in ${dir}`,
      "build with galley as RUSTC_WRAPPER first (GALLEY_DIR says where the cache is)",
    );
  const matches = which === "last" ? all.slice(0, 1) : all.filter((j) => j.id.startsWith(which));
  if (matches.length !== 1)
    throw new InputError(
      matches.length === 0 ? `no build "${which}" in ${dir}` : `"${which}" names ${matches.length} builds`,
      `builds (newest first): ${all
        .slice(0, 5)
        .map((j) => j.id)
        .join(", ")}${all.length > 5 ? ", …" : ""} (galley report --list)`,
    );
  const journal = readJournal(dir, matches[0]!.id);
  if (!journal) throw new InputError(`cannot read the journal of build ${matches[0]!.id} in ${dir}`);
  return journal;
}

export function buildView(journal: Journal): BuildView {
  const units: ViewUnit[] = journal.entries
    .slice()
    .sort((a, b) => a.start - b.start || a.end - b.end)
    .map((e, index) => ({
      ...e,
      index,
      savedMs: e.outcome === "hit" ? Math.max(0, (e.compileMs ?? 0) - (e.restoreMs ?? 0)) : 0,
      lane: 0,
      critical: false,
    }));
  const lanes = assignLanes(units);
  const criticalPath = markCriticalPath(units);
  const start = Math.min(journal.header?.started ?? Number.POSITIVE_INFINITY, ...units.map((u) => u.start));
  const end = Math.max(...units.map((u) => u.end), start);
  const totals: Totals = {
    units: units.length,
    hits: 0,
    misses: 0,
    passthroughs: 0,
    errors: 0,
    savedMs: 0,
    compiledMs: 0,
    bytesRestored: 0,
    bytesStored: 0,
  };
  for (const u of units) {
    if (u.outcome === "hit") totals.hits++;
    else if (u.outcome === "miss") totals.misses++;
    else if (u.outcome === "passthrough") totals.passthroughs++;
    else totals.errors++;
    totals.savedMs += u.savedMs;
    if (u.outcome !== "hit") totals.compiledMs += u.compileMs ?? u.end - u.start;
    totals.bytesRestored += u.bytesRead ?? 0;
    totals.bytesStored += u.bytesWritten ?? 0;
  }
  const misses = units
    .filter((u) => u.outcome === "miss" || u.outcome === "error")
    .sort((a, b) => b.end - b.start - (a.end - a.start));
  const view: BuildView = {
    id: journal.id,
    start: Number.isFinite(start) ? start : journal.mtimeMs,
    end,
    units,
    lanes,
    totals,
    misses,
    criticalPath,
  };
  if (journal.header?.argv) view.argv = journal.header.argv;
  if (journal.header?.cwd) view.cwd = journal.header.cwd;
  return view;
}

/** Greedy interval packing: each unit on the first lane free when it starts. */
function assignLanes(units: ViewUnit[]): number {
  const laneEnds: number[] = [];
  for (const u of units) {
    let lane = laneEnds.findIndex((end) => end <= u.start);
    if (lane === -1) lane = laneEnds.push(0) - 1;
    laneEnds[lane] = u.end;
    u.lane = lane;
  }
  return laneEnds.length;
}

/**
 * The chain of dependencies that ended last: from the unit that ended last, step to the dependency
 * that ended last, until a unit has none recorded. A unit depends on the crates it links
 * (`--extern`) and on what its package's build script needed (the build script's compile and the
 * package's C compiles).
 */
function markCriticalPath(units: ViewUnit[]): ViewUnit[] {
  if (units.length === 0) return [];
  const byId = new Map<string, ViewUnit>();
  const pkgPrereqs = new Map<string, ViewUnit[]>();
  for (const u of units) {
    if (u.id) byId.set(u.id, u);
    if (u.pkg && (u.kind !== "rustc" || u.id?.startsWith("build_script_")))
      pkgPrereqs.set(u.pkg, [...(pkgPrereqs.get(u.pkg) ?? []), u]);
  }
  const depsOf = (u: ViewUnit): ViewUnit[] => {
    const deps = (u.deps ?? []).flatMap((id) => byId.get(id) ?? []);
    if (u.kind === "rustc" && u.pkg && !u.id?.startsWith("build_script_"))
      deps.push(...(pkgPrereqs.get(u.pkg) ?? []));
    // A build script's run and its C compiles wait for the build script's compile.
    else if (u.pkg) deps.push(...(pkgPrereqs.get(u.pkg) ?? []).filter((p) => p.kind === "rustc"));
    return deps.filter((d) => d !== u && d.start <= u.start);
  };
  let current: ViewUnit | undefined = units.reduce((a, b) => (b.end > a.end ? b : a));
  const path: ViewUnit[] = [];
  while (current && !current.critical) {
    current.critical = true;
    path.push(current);
    const deps = depsOf(current);
    current = deps.length > 0 ? deps.reduce((a, b) => (b.end > a.end ? b : a)) : undefined;
  }
  return path.reverse();
}

/** A duration for people: `850 ms`, `3.2 s`, `2 min 05 s`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** A miss's reason in one line: what changed (the first key part that differs), else what happened. */
export function missReason(u: JournalEntry): string {
  if (u.outcome === "error") return `error: ${u.reason ?? "unknown"}`;
  if (u.outcome === "passthrough") return `passed through: ${u.reason ?? "unknown"}`;
  if (u.reason === "compile failed") return "the compile failed";
  const why = u.why ?? [];
  const changed = why.slice(1).filter((l) => /^[~+-] /.test(l));
  if (changed.length > 0) return `${changed[0]}${changed.length > 1 ? ` (+${changed.length - 1} more)` : ""}`;
  return why[1] ?? why[0] ?? u.reason ?? "miss";
}
