import { cacheConfig } from "../cache/engine/config.ts";
import { readExplain, whyMissed } from "../cache/engine/explain-log.ts";
import { InputError, UsageError } from "../errors.ts";
import { type OptionTable, parseArgs, renderHelp } from "./args.ts";
import type { Command } from "./command.ts";

const OPTIONS = {} as const satisfies OptionTable;

export const explainCommand: Command = {
  name: "explain",
  summary: "Say why a crate's last cache lookup missed: which part of its key changed",
  help: () =>
    renderHelp(
      "galley explain <crate> | build_script:<package> | cc:<source file>",
      explainCommand.summary,
      OPTIONS,
    ),
  async run(argv) {
    const { positionals } = parseArgs("explain", OPTIONS, argv, { maxPositionals: 1 });
    const crate = positionals[0];
    if (!crate) throw new UsageError("usage: galley explain <crate>");
    const name = crate.replace(/-/g, "_");
    const dir = cacheConfig(process.env).dir;
    const record = readExplain(dir, name);
    if (!record?.lookup) {
      throw new InputError(
        `no cache lookup of crate "${name}" is recorded in ${dir}`,
        "build it with galley as RUSTC_WRAPPER first",
      );
    }
    const out: string[] = [`${name}: last lookup at ${record.lookup.at}: ${record.lookup.outcome}`];
    if (record.lookup.outcome !== "hit") {
      const against = record.lookup.against;
      if (against) out.push(`compared with the entry stored at ${against.at}:`);
      out.push(...whyMissed(record.lookup).map((l) => (against ? `  ${l}` : l)));
    }
    process.stdout.write(`${out.join("\n")}\n`);
    return 0;
  },
};
