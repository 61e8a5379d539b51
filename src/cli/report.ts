import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { cacheConfig } from "../cache/engine/config.ts";
import { listJournals, readJournal } from "../cache/engine/journal.ts";
import { buildView, duration, selectJournal } from "../report/build-view.ts";
import { renderReport } from "../report/html.ts";
import { note } from "../util/term.ts";
import { type OptionTable, parseArgs, renderHelp } from "./args.ts";
import type { Command } from "./command.ts";

const OPTIONS = {
  out: {
    kind: "string",
    value: "FILE",
    description: "Where to write the page (default: galley-report.html)",
  },
  build: { kind: "string", value: "last|ID", description: "Which build (default: the last one journaled)" },
  open: { kind: "boolean", description: "Open the page in a browser" },
  list: { kind: "boolean", description: "List the journaled builds, newest first" },
} as const satisfies OptionTable;

export const reportCommand: Command = {
  name: "report",
  summary: "Write one HTML page of a build: timeline, hits and misses, and why each miss missed",
  help: () =>
    renderHelp(
      "galley report [--out FILE] [--build last|ID] [--open] [--list]",
      reportCommand.summary,
      OPTIONS,
    ),
  async run(argv) {
    const { options } = parseArgs("report", OPTIONS, argv);
    const dir = cacheConfig(process.env).dir;
    if (options.list) {
      for (const j of listJournals(dir)) {
        const journal = readJournal(dir, j.id);
        if (!journal) continue;
        const v = buildView(journal);
        const cmd = journal.header?.argv?.slice(1).join(" ") ?? "";
        process.stdout.write(
          `${j.id}  ${new Date(v.start).toISOString()}  ${duration(v.end - v.start).padStart(9)}  ${v.totals.units} units, ${v.totals.hits} hits, ${v.totals.misses} misses  ${cmd}\n`,
        );
      }
      return 0;
    }
    const view = buildView(selectJournal(dir, options.build ?? "last"));
    const out = resolve(options.out ?? "galley-report.html");
    writeFileSync(out, renderReport(view));
    const t = view.totals;
    note(`wrote ${out}: ${t.units} units, ${t.hits} hits, ${t.misses} misses, ${duration(t.savedMs)} saved`);
    if (options.open) openInBrowser(out);
    return 0;
  },
};

function openInBrowser(path: string): void {
  const opener = process.platform === "darwin" ? "open" : "xdg-open";
  try {
    Bun.spawn([opener, path], { stdio: ["ignore", "ignore", "ignore"] }).unref();
  } catch {
    note(`could not start ${opener}; open ${path} yourself`);
  }
}
