import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { GalleyError, UsageError } from "../errors.ts";
import { isCompiled } from "../util/compiled.ts";
import { note } from "../util/term.ts";
import { type OptionTable, parseArgs, renderHelp } from "./args.ts";
import type { Command } from "./command.ts";
import { PERSONA_NAMES } from "./persona.ts";

const OPTIONS = {
  scripts: { kind: "boolean", description: "Write small scripts instead of symbolic links" },
  copy: {
    kind: "boolean",
    description:
      "Copy this executable into DIR first and link to the copy (for a one-line install from a bind mount)",
  },
} as const satisfies OptionTable;

export const shimsCommand: Command = {
  name: "shims",
  summary: "Install galley under the names other tools call (cargo-galley, cargo-chef, sccache)",
  help: () =>
    renderHelp(
      "galley shims install DIR [--scripts] [--copy]",
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
    let exe = process.execPath;
    const useLinks = isCompiled() && !options.scripts;
    if (options.copy) {
      if (!isCompiled())
        throw new UsageError("--copy copies the galley executable: run the built dist/galley");
      const copy = join(dir, "galley");
      if (resolve(copy) !== resolve(exe)) {
        try {
          copyFileSync(exe, `${copy}.tmp`);
          chmodSync(`${copy}.tmp`, 0o755);
          renameSync(`${copy}.tmp`, copy);
        } catch (err) {
          throw new GalleyError(`cannot write ${copy}: ${(err as Error).message}`);
        }
      }
      exe = copy;
    }
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
