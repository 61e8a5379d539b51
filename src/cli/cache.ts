import { cacheConfig } from "../cache/engine/config.ts";
import { clearJournals, KEEP_BUILDS, pruneJournals } from "../cache/engine/journal.ts";
import { DiskStore } from "../cache/store/disk.ts";
import { UsageError } from "../errors.ts";
import { note } from "../util/term.ts";
import { type OptionTable, parseArgs, renderHelp } from "./args.ts";
import type { Command } from "./command.ts";

const OPTIONS = {
  auto: { kind: "boolean", description: "gc: quietly, and only if no other gc runs (what builds start)" },
} as const satisfies OptionTable;

export const cacheCommand: Command = {
  name: "cache",
  summary: "Maintain the compiler cache: gc (evict to the size limit), clear, verify",
  help: () =>
    renderHelp(
      "galley cache gc|clear|verify",
      cacheCommand.summary,
      OPTIONS,
      "\n  gc      remove least recently used entries until under GALLEY_CACHE_SIZE\n  clear   remove every entry\n  verify  check every stored blob against its digest; remove damaged ones\n",
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
      default:
        throw new UsageError("usage: galley cache gc|clear|verify", 'run "galley cache --help"');
    }
  },
};
