import { resolve } from "node:path";
import { ciKey, ciKeyInput, githubOutput } from "../ci/cache-key.ts";
import { UsageError } from "../errors.ts";
import { type OptionTable, parseArgs, renderHelp } from "./args.ts";
import type { Command } from "./command.ts";

const OPTIONS = {
  prefix: { kind: "string", value: "P", description: "The key's first part (default galley-v1)" },
  target: { kind: "list", value: "TRIPLE", description: "A target built (repeatable; default the host)" },
  job: { kind: "string", value: "NAME", description: "The job's name (default $GITHUB_JOB)" },
  "manifest-path": {
    kind: "string",
    value: "PATH",
    description: "The project (default: the working directory)",
  },
} as const satisfies OptionTable;

export const ciCommand: Command = {
  name: "ci",
  summary: "CI helpers: `ci key` prints a cache key and restore keys for $GITHUB_OUTPUT",
  help: () =>
    renderHelp(
      "galley ci key [--prefix P] [--target TRIPLE]... [--job NAME] [--manifest-path PATH]",
      ciCommand.summary,
      OPTIONS,
      "\n  key     a key for caching the galley directory whole: a hash of the toolchain, target,\n          Cargo.lock, the recipe and the job name; restore keys drop the inputs, then the job\n",
    ),
  async run(argv) {
    const { positionals, options } = parseArgs("ci", OPTIONS, argv, { maxPositionals: 1 });
    if (positionals[0] !== "key")
      throw new UsageError("usage: galley ci key [--prefix P]", 'run "galley ci --help"');
    const input = ciKeyInput(resolve(options["manifest-path"] ?? "."), process.env, {
      prefix: options.prefix ?? "galley-v1",
      targets: options.target,
      ...(options.job !== undefined ? { job: options.job } : {}),
    });
    process.stdout.write(githubOutput(ciKey(input)));
    return 0;
  },
};
