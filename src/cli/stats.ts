import { appendFileSync } from "node:fs";
import { processId, processInfo } from "../cache/engine/build-id.ts";
import { type CacheConfig, cacheConfig } from "../cache/engine/config.ts";
import { type Journal, listJournals, readJournal } from "../cache/engine/journal.ts";
import { readStats, type StatsSummary, zeroedAt, zeroStats } from "../cache/engine/stats.ts";
import { type StoreConfig, storeConfig } from "../cache/engine/store-config.ts";
import { DiskStore } from "../cache/store/disk.ts";
import { InputError, UsageError } from "../errors.ts";
import { buildView, mib, selectJournal } from "../report/build-view.ts";
import { oneLine, summaryMarkdown } from "../report/summary.ts";
import { note } from "../util/term.ts";
import { type OptionTable, parseArgs, renderHelp } from "./args.ts";
import type { Command } from "./command.ts";

const OPTIONS = {
  format: {
    kind: "string",
    value: "text|json|markdown",
    description: "How to print the counters (default text)",
  },
  json: { kind: "boolean", description: "Same as --format json" },
  zero: { kind: "boolean", description: "Reset the statistics to zero (and start a new --summary period)" },
  summary: {
    kind: "boolean",
    description:
      "Append a Markdown summary of the builds since the last --zero to $GITHUB_STEP_SUMMARY (else print it)",
  },
  oneline: {
    kind: "boolean",
    description: "One line about one build: the one started from the same shell, else the last",
  },
  build: { kind: "string", value: "last|ID", description: "With --oneline: which build" },
} as const satisfies OptionTable;

const FORMATS = ["text", "json", "markdown"] as const;

export const statsCommand: Command = {
  name: "stats",
  summary: "Show the compiler cache's hits, misses, passthroughs, errors and size",
  help: () =>
    renderHelp(
      "galley stats [--format text|json|markdown] [--zero] [--summary] [--oneline [--build last|ID]]",
      statsCommand.summary,
      OPTIONS,
    ),
  async run(argv) {
    const { options } = parseArgs("stats", OPTIONS, argv);
    const format = options.json ? "json" : (options.format ?? "text");
    if (!(FORMATS as readonly string[]).includes(format))
      throw new UsageError(`unknown --format ${format}`, `formats: ${FORMATS.join(", ")}`);
    const dir = cacheConfig(process.env).dir;
    if (options.oneline) {
      process.stdout.write(`${oneLine(buildView(oneBuild(dir, options.build)))}\n`);
      return 0;
    }
    if (options.summary) return writeSummary(dir);
    return await showStats({ format: format as (typeof FORMATS)[number], zero: options.zero });
  },
};

export async function showStats(options: {
  format: "text" | "json" | "markdown";
  zero: boolean;
}): Promise<number> {
  const config = cacheConfig(process.env);
  if (options.zero) {
    zeroStats(config.dir);
    if (options.format === "text") process.stdout.write("statistics reset\n");
    return 0;
  }
  const s = readStats(config.dir);
  const storeBytes = new DiskStore(config.dir).sizeBytes();
  const shared = await storeConfig(process.env);
  const store = shared ? sharedStoreName(shared) : "local disk only";
  if (options.format === "json") {
    process.stdout.write(
      `${JSON.stringify({ ...s, cacheDir: config.dir, store, storeBytes, maxBytes: config.maxSize }, null, 2)}\n`,
    );
    return 0;
  }
  const rows = statRows(s, config, storeBytes, store, shared !== undefined);
  if (options.format === "markdown") {
    const md = rows.map(([l, v]) => `| ${l.startsWith("  ") ? `&nbsp;&nbsp;${l.trim()}` : l} | ${v} |`);
    process.stdout.write(`| galley cache | |\n| --- | ---: |\n${md.join("\n")}\n`);
    return 0;
  }
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  process.stdout.write(`${rows.map(([l, v]) => `${l.padEnd(width)}${v}`).join("\n")}\n`);
  return 0;
}

function statRows(
  s: StatsSummary,
  config: CacheConfig,
  storeBytes: number,
  store: string,
  shared: boolean,
): [string, string][] {
  const remote = shared || s.remoteHits + s.rejectedRecords + s.unsignedRecords + s.remoteErrors > 0;
  return [
    ["Cache location", config.dir],
    ["Store", store],
    ["Hits", String(s.hits)],
    ...(s.prefilled > 0
      ? ([["  prefilled (before cargo looked, no wrapper started)", String(s.prefilled)]] as [
          string,
          string,
        ][])
      : []),
    ...(remote
      ? ([
          ["  local", String(s.localHits)],
          ["  remote", String(s.remoteHits)],
        ] as [string, string][])
      : []),
    ["Misses", String(s.misses)],
    ...(["rustc", "cc", "buildScript"] as const).map((k): [string, string] => {
      const c = s.byKind[k];
      const name = { rustc: "rustc compiles", cc: "C/C++ compiles", buildScript: "build-script runs" }[k];
      return [`  ${name}`, `${c.hits} hits, ${c.misses} misses, ${c.passthroughs} passthroughs`];
    }),
    ["Failed compiles (not stored)", String(s.compileFailures)],
    ...failedLine("  build-script probes (expected)", s.failedProbes),
    ...failedLine("  others", s.failedOther),
    ["Passthroughs", String(s.passthroughs)],
    ...Object.entries(s.passthroughReasons)
      .sort()
      .map(([r, n]): [string, string] => [`  ${r}`, String(n)]),
    ["Errors (compiled without cache)", String(s.errors)],
    ...Object.entries(s.errorReasons)
      .sort()
      .map(([r, n]): [string, string] => [`  ${r}`, String(n)]),
    ["Corrupt entries removed", String(s.corruptEntries)],
    ...(remote
      ? ([
          ["Shared records refused (unsafe)", String(s.rejectedRecords)],
          ["Shared records refused (signature)", String(s.unsignedRecords)],
          ["Shared store failures", String(s.remoteErrors)],
          [
            "Uploads sent in the background / dropped",
            `${s.uploadsQueued - s.uploadsDropped} / ${s.uploadsDropped}`,
          ],
        ] as [string, string][])
      : []),
    ["Compile time saved", `${(s.compileMsSaved / 1000).toFixed(1)} s`],
    [
      "Median wrapper time on a hit",
      s.medianHitWrapperMs === null ? "-" : `${s.medianHitWrapperMs.toFixed(1)} ms`,
    ],
    [
      "galley's own CPU (compilers excluded)",
      s.wrapperProcesses === 0
        ? "-"
        : `${s.wrapperCpuMs < 1000 ? `${Math.round(s.wrapperCpuMs)} ms` : `${(s.wrapperCpuMs / 1000).toFixed(1)} s`} in ${s.wrapperProcesses} processes (${(s.wrapperCpuMs / s.wrapperProcesses).toFixed(1)} ms each)`,
    ],
    [
      "Peak memory of one galley process",
      s.peakWrapperRssKb === 0 ? "-" : `${(s.peakWrapperRssKb / 1024).toFixed(1)} MiB`,
    ],
    ["Bytes read / written", `${mib(s.bytesRead)} / ${mib(s.bytesWritten)}`],
    ["Store size / limit", `${mib(storeBytes)} / ${mib(config.maxSize)}`],
  ];
}

/**
 * The build `--oneline` speaks of: asked for by id, else the newest one whose cargo was started by
 * this command's parent (in a Dockerfile's `RUN cargo build … && galley stats --oneline`, the same
 * shell), so a concurrent build on a shared cache mount is not mistaken for it; else the last one.
 */
function oneBuild(dir: string, which: string | undefined): Journal {
  if (which) return selectJournal(dir, which);
  // The parent first; then its parent, for a subshell (`( galley stats --oneline || true )`).
  const parent = processInfo(process.ppid);
  const grandparent = parent && processInfo(parent.ppid);
  let bySubshell: Journal | undefined;
  for (const j of parent ? listJournals(dir) : []) {
    const journal = readJournal(dir, j.id);
    const launcher = journal?.header?.launcher;
    if (!launcher) continue;
    if (launcher === processId(parent!)) return journal!;
    if (grandparent && !bySubshell && launcher === processId(grandparent)) bySubshell = journal;
  }
  return bySubshell ?? selectJournal(dir, "last");
}

/** The builds journaled since the last `--zero` (else the last build), as Markdown for the job page. */
function writeSummary(dir: string): number {
  const since = zeroedAt(dir);
  const journals = listJournals(dir);
  const chosen = since === undefined ? journals.slice(0, 1) : journals.filter((j) => j.mtimeMs >= since);
  const views = chosen
    .flatMap((j) => readJournal(dir, j.id) ?? [])
    .filter((j) => since === undefined || j.entries.some((e) => e.end >= since))
    .map(buildView)
    .sort((a, b) => a.start - b.start);
  const md = summaryMarkdown(views);
  const target = process.env.GITHUB_STEP_SUMMARY;
  if (!target) {
    process.stdout.write(md);
    return 0;
  }
  try {
    appendFileSync(target, md);
  } catch (err) {
    throw new InputError(
      `cannot append to $GITHUB_STEP_SUMMARY (${target}): ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
  note(`appended the cache summary of ${views.length} build${views.length === 1 ? "" : "s"} to ${target}`);
  return 0;
}

/** `anyhow, proc-macro2 ×2`: the crates whose compiles failed, or nothing when there are none. */
function failedLine(label: string, byCrate: Record<string, number>): [string, string][] {
  const names = Object.keys(byCrate).sort();
  if (names.length === 0) return [];
  return [[label, names.map((n) => (byCrate[n]! > 1 ? `${n} ×${byCrate[n]}` : n)).join(", ")]];
}

function sharedStoreName(c: StoreConfig): string {
  const modes = [c.readOnly ? "read-only" : "", c.secret ? "signed" : ""].filter(Boolean);
  return `local disk + ${redactUrl(c.url)}${modes.length ? ` (${modes.join(", ")})` : ""}`;
}

/** The URL without its password. */
function redactUrl(url: string): string {
  return url.replace(
    /\/\/([^/@]*)@/,
    (_, auth: string) => `//${auth.includes(":") ? `${auth.split(":")[0]}:***` : auth}@`,
  );
}
