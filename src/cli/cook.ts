import { cook } from "../recipe/cook.ts";
import { COOK_OPTIONS } from "../recipe/cook-args.ts";
import { note } from "../util/term.ts";
import { parseArgs, renderHelp } from "./args.ts";
import type { Command } from "./command.ts";

export const cookCommand: Command = {
  name: "cook",
  summary: "Write the recipe's skeleton and compile only the dependencies",
  help: () =>
    renderHelp(
      "galley cook [flags] [--recipe-path recipe.json] [-- extra cargo args]",
      cookCommand.summary,
      COOK_OPTIONS,
      "\nAnything after -- goes to cargo as is. The skeleton's files are removed (and any manifest or\nCargo.lock it replaced is put back) when cargo is done, unless --no-build.\n",
    ),
  async run(argv) {
    const { options, rest } = parseArgs("cook", COOK_OPTIONS, argv);
    const result = await cook(options, rest, process.cwd());
    if (!options["no-build"] && options.verbose > 0 && result.exitCode === 0) {
      note(`dependencies cooked; removed ${result.removedUnits} outputs of the workspace's dummy units`);
    }
    return result.exitCode;
  },
};
