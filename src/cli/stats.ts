import { cacheConfig } from "../cache/engine/config.ts";
import { readStats, zeroStats } from "../cache/engine/stats.ts";
import { type StoreConfig, storeConfig } from "../cache/engine/store-config.ts";
import { DiskStore } from "../cache/store/disk.ts";
import { type OptionTable, parseArgs, renderHelp } from "./args.ts";
import type { Command } from "./command.ts";

const OPTIONS = {
  json: { kind: "boolean", description: "Print the statistics as JSON" },
  zero: { kind: "boolean", description: "Reset the statistics to zero" },
} as const satisfies OptionTable;

export const statsCommand: Command = {
  name: "stats",
  summary: "Show the compiler cache's hits, misses, passthroughs, errors and size",
  help: () => renderHelp("galley stats [--json] [--zero]", statsCommand.summary, OPTIONS),
  async run(argv) {
    const { options } = parseArgs("stats", OPTIONS, argv);
    return await showStats(options);
  },
};

export async function showStats(options: { json: boolean; zero: boolean }): Promise<number> {
  const config = cacheConfig(process.env);
  if (options.zero) {
    zeroStats(config.dir);
    if (!options.json) process.stdout.write("statistics reset\n");
    return 0;
  }
  const s = readStats(config.dir);
  const storeBytes = new DiskStore(config.dir).sizeBytes();
  const shared = await storeConfig(process.env);
  const store = shared ? sharedStoreName(shared) : "local disk only";
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ ...s, cacheDir: config.dir, store, storeBytes, maxBytes: config.maxSize }, null, 2)}\n`,
    );
    return 0;
  }
  const lines: [string, string][] = [
    ["Cache location", config.dir],
    ["Store", store],
    ["Hits", String(s.hits)],
    ...(shared || s.remoteHits > 0
      ? ([
          ["  local", String(s.localHits)],
          ["  remote", String(s.remoteHits)],
        ] as [string, string][])
      : []),
    ["Misses", String(s.misses)],
    ["Failed compiles (not stored)", String(s.compileFailures)],
    ["Passthroughs", String(s.passthroughs)],
    ...Object.entries(s.passthroughReasons)
      .sort()
      .map(([r, n]): [string, string] => [`  ${r}`, String(n)]),
    ["Errors (compiled without cache)", String(s.errors)],
    ...Object.entries(s.errorReasons)
      .sort()
      .map(([r, n]): [string, string] => [`  ${r}`, String(n)]),
    ["Corrupt entries removed", String(s.corruptEntries)],
    ...(shared || s.rejectedRecords + s.unsignedRecords + s.remoteErrors > 0
      ? ([
          ["Shared records refused (unsafe)", String(s.rejectedRecords)],
          ["Shared records refused (signature)", String(s.unsignedRecords)],
          ["Shared store failures", String(s.remoteErrors)],
        ] as [string, string][])
      : []),
    ["Compile time saved", `${(s.compileMsSaved / 1000).toFixed(1)} s`],
    [
      "Median wrapper time on a hit",
      s.medianHitWrapperMs === null ? "-" : `${s.medianHitWrapperMs.toFixed(1)} ms`,
    ],
    ["Bytes read / written", `${mib(s.bytesRead)} / ${mib(s.bytesWritten)}`],
    ["Store size / limit", `${mib(storeBytes)} / ${mib(config.maxSize)}`],
  ];
  const width = Math.max(...lines.map(([l]) => l.length)) + 2;
  process.stdout.write(`${lines.map(([l, v]) => `${l.padEnd(width)}${v}`).join("\n")}\n`);
  return 0;
}

function sharedStoreName(c: StoreConfig): string {
  const modes = [c.readOnly ? "read-only" : "", c.secret ? "signed" : ""].filter(Boolean);
  return `local disk + ${redactUrl(c.url)}${modes.length ? ` (${modes.join(", ")})` : ""}`;
}

/** The URL without a password. */
function redactUrl(url: string): string {
  return url.replace(
    /\/\/([^/@]*)@/,
    (_, auth: string) => `//${auth.includes(":") ? `${auth.split(":")[0]}:***` : auth}@`,
  );
}

function mib(n: number): string {
  return `${(n / 2 ** 20).toFixed(1)} MiB`;
}
