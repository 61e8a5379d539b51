import { cacheConfig } from "../cache/engine/config.ts";
import { clearJournals, KEEP_BUILDS, pruneJournals } from "../cache/engine/journal.ts";
import { ignoredSettings, storeConfig } from "../cache/engine/store-config.ts";
import { DiskStore } from "../cache/store/disk.ts";
import { UsageError } from "../errors.ts";
import { note, warn } from "../util/term.ts";
import { writeAllSync } from "../util/write-sync.ts";
import { type OptionTable, parseArgs, renderHelp } from "./args.ts";
import type { Command } from "./command.ts";

const OPTIONS = {
  auto: { kind: "boolean", description: "gc: quietly, and only if no other gc runs (what builds start)" },
} as const satisfies OptionTable;

export const cacheCommand: Command = {
  name: "cache",
  summary:
    "Maintain the compiler cache: gc (evict to the size limit), clear, verify, ping and flush (the shared store)",
  help: () =>
    renderHelp(
      "galley cache gc|clear|verify|ping|flush",
      cacheCommand.summary,
      OPTIONS,
      "\n  gc      remove least recently used entries until under GALLEY_CACHE_SIZE\n  clear   remove every entry\n  verify  check every stored blob against its digest; remove damaged ones\n  ping    say whether the shared store (GALLEY_STORE) answers, and whether galley may read and write there\n  flush   send the uploads this cache left to the background, and wait until they are sent (end a CI job or a Dockerfile's RUN with it)\n",
    ),
  async run(argv) {
    const { positionals, options } = parseArgs("cache", OPTIONS, argv, { maxPositionals: 1 });
    const config = cacheConfig(process.env);
    const store = new DiskStore(config.dir);
    switch (positionals[0]) {
      case "gc": {
        pruneJournals(config.dir, KEEP_BUILDS);
        if (options.auto) {
          store.gcLocked(config.maxSize);
          return 0;
        }
        const { removed, freedBytes } = store.gc(config.maxSize);
        note(
          `removed ${removed} entries (${(freedBytes / 2 ** 20).toFixed(1)} MiB); ${config.dir} holds ${(store.sizeBytes() / 2 ** 20).toFixed(1)} MiB`,
        );
        return 0;
      }
      case "clear":
        store.clear();
        clearJournals(config.dir);
        note(`cleared ${config.dir}`);
        return 0;
      case "verify": {
        const { checked, removed } = await store.verify();
        note(`checked ${checked} entries; removed ${removed} damaged`);
        return removed > 0 ? 1 : 0;
      }
      case "ping":
        return await ping();
      case "flush": {
        const { flushUploads } = await import("../cache/store/upload-drainer.ts");
        const { sent, dropped, waiting } = await flushUploads(process.env);
        note(
          waiting > 0
            ? `${waiting} uploads still queued after waiting (${sent} sent here)`
            : `upload queue empty${sent ? `: ${sent} sent here` : ""}${dropped ? `, ${dropped} dropped (the shared store failed)` : ""}`,
        );
        return dropped > 0 || waiting > 0 ? 1 : 0;
      }
      default:
        throw new UsageError("usage: galley cache gc|clear|verify|ping|flush", 'run "galley cache --help"');
    }
  },
};

/** One line each: does the store answer, may galley read, may it write. Exit 1 when any is no. */
async function ping(): Promise<number> {
  for (const ignored of ignoredSettings(process.env)) warn(`ignored: ${ignored}`);
  const config = await storeConfig(process.env);
  if (!config) {
    process.stdout.write("no shared store configured (set GALLEY_STORE); the local cache is used alone\n");
    return 1;
  }
  const { pingStore } = await import("../cache/store/ping.ts");
  const lines = await pingStore(config);
  writeAllSync(1, `${lines.map((l) => l.text).join("\n")}\n`);
  // A request that timed out may still hold a socket open: exit now rather than wait for it.
  process.exit(lines.every((l) => l.ok) ? 0 : 1);
}
