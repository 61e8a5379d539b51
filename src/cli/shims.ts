import { chmodSync, existsSync, lstatSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { GalleyError, UsageError } from "../errors.ts";
import { note } from "../util/term.ts";
import { type OptionTable, parseArgs, renderHelp } from "./args.ts";
import type { Command } from "./command.ts";
import { isCompiled, PERSONA_NAMES } from "./persona.ts";

const OPTIONS = {
  scripts: { kind: "boolean", description: "Write small scripts instead of symbolic links" },
} as const satisfies OptionTable;

export const shimsCommand: Command = {
  name: "shims",
  summary: "Install galley under the names other tools call (cargo-galley, cargo-chef)",
  help: () =>
    renderHelp(
      "galley shims install DIR [--scripts]",
      shimsCommand.summary,
      OPTIONS,
      `\nWrites ${PERSONA_NAMES.join(", ")} into DIR: links to this executable, or scripts where a link\ncannot carry the name (galley run from source, --scripts).\n`,
    ),
  async run(argv) {
    const { options, positionals } = parseArgs("shims", OPTIONS, argv, { maxPositionals: 2 });
    if (positionals[0] !== "install" || positionals.length !== 2) {
      throw new UsageError("usage: galley shims install DIR", 'run "galley shims --help"');
    }
    const dir = resolve(positionals[1]!);
    mkdirSync(dir, { recursive: true });
    const exe = process.execPath;
    const useLinks = isCompiled() && !options.scripts;
    for (const name of PERSONA_NAMES) {
      const path = join(dir, name);
      if (resolve(path) === resolve(exe)) continue;
      if (existsSync(path) || isLink(path)) rmSync(path);
      try {
        if (useLinks) symlinkSync(exe, path);
        else {
          const entry = isCompiled() ? `"${exe}"` : `"${exe}" "${resolve(import.meta.dir, "../main.ts")}"`;
          writeFileSync(path, `#!/bin/sh\nGALLEY_PERSONA=${name} exec ${entry} "$@"\n`);
          chmodSync(path, 0o755);
        }
      } catch (err) {
        throw new GalleyError(`cannot write ${path}: ${(err as Error).message}`);
      }
    }
    note(`installed ${PERSONA_NAMES.join(", ")} in ${dir} (${useLinks ? "links" : "scripts"})`);
    return 0;
  },
};

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
