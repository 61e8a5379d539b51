import { writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ExitCode, errorMessage, GalleyError } from "../errors.ts";
import { prepare } from "../recipe/prepare.ts";
import { serializeRecipe } from "../recipe/recipe.ts";
import { note, warn } from "../util/term.ts";
import { type OptionTable, parseArgs, renderHelp } from "./args.ts";
import type { Command } from "./command.ts";

const OPTIONS = {
  "recipe-path": {
    kind: "string",
    value: "PATH",
    description: "Where to write the recipe (default: recipe.json; - for stdout)",
  },
  bin: { kind: "list", value: "NAME", description: "Keep only what this binary (or package) needs" },
  "manifest-path": {
    kind: "string",
    value: "PATH",
    description: "Cargo.toml of the project (default: found from here)",
  },
  quiet: { kind: "boolean", short: "q", description: "Print nothing but errors" },
} as const satisfies OptionTable;

export const prepareCommand: Command = {
  name: "prepare",
  summary: "Write the recipe: the skeleton of the project that determines its dependency build",
  help: () =>
    renderHelp(
      "galley prepare [--recipe-path recipe.json] [--bin NAME]... [--manifest-path PATH]",
      prepareCommand.summary,
      OPTIONS,
    ),
  async run(argv) {
    const { options } = parseArgs("prepare", OPTIONS, argv);
    const { recipe, notes } = prepare({ start: resolve(options["manifest-path"] ?? "."), bins: options.bin });
    const text = serializeRecipe(recipe);
    const out = options["recipe-path"] ?? "recipe.json";
    if (out === "-") process.stdout.write(text);
    else {
      try {
        writeFileSync(out, text);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new GalleyError(
          `${out}: cannot write the recipe (${code ?? errorMessage(err)})`,
          ExitCode.failure,
          code === "ENOENT"
            ? `create ${dirname(resolve(out))} first, or pass another --recipe-path`
            : undefined,
        );
      }
    }
    if (!options.quiet) {
      for (const n of notes) warn(n);
      const manifests = recipe.files.filter((f) => f.kind === "manifest").length;
      if (out !== "-") note(`wrote ${out}: ${manifests} manifests, ${recipe.sources.length} targets`);
    }
    return 0;
  },
};
