/** The top level: persona, command table, help, version, and the one error handler. */
import pkg from "../../package.json" with { type: "json" };
import { runRustcWrapper } from "../cache/rustc/wrapper.ts";
import { ExitCode, GalleyError, UsageError } from "../errors.ts";
import { bold, isDebug, red } from "../util/term.ts";
import { cacheCommand } from "./cache.ts";
import { ciCommand } from "./ci.ts";
import type { Command } from "./command.ts";
import { cookCommand } from "./cook.ts";
import { dockerfileCommand } from "./dockerfile.ts";
import { explainCommand } from "./explain.ts";
import { lintCommand } from "./lint.ts";
import { detectPersona, isRustcPath, normalizeArgs, type Persona } from "./persona.ts";
import { prepareCommand } from "./prepare.ts";
import { reportCommand } from "./report.ts";
import { runSccacheCompat } from "./sccache-compat.ts";
import { shimsCommand } from "./shims.ts";
import { showStats, statsCommand } from "./stats.ts";

export const VERSION: string = pkg.version;

const COMMANDS: Command[] = [
  prepareCommand,
  cookCommand,
  statsCommand,
  explainCommand,
  reportCommand,
  cacheCommand,
  ciCommand,
  dockerfileCommand,
  shimsCommand,
  lintCommand,
];
const CHEF_COMMANDS = new Set(["prepare", "cook"]);

function topHelp(persona: Persona): string {
  const list = COMMANDS.filter((c) => persona !== "cargo-chef" || CHEF_COMMANDS.has(c.name));
  const width = Math.max(...list.map((c) => c.name.length)) + 2;
  const invoke = persona === "galley" ? "galley" : persona === "cargo-chef" ? "cargo chef" : "cargo galley";
  return `galley ${VERSION}: fast Rust builds in Docker and CI

Usage: ${invoke} <command> [options]

Commands:
${list.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join("\n")}

Options:
  -h, --help     Show help (also: ${invoke} <command> --help)
  -V, --version  Show the version

Environment: NO_COLOR disables colour; GALLEY_LOG=debug shows details and stack traces.
`;
}

export async function runCli(argv0: string, rawArgs: string[]): Promise<number> {
  const persona = detectPersona(process.env, argv0);
  const args = normalizeArgs(persona, rawArgs);
  // (main.ts sends wrapper invocations straight to the cache; this covers other entry points.)
  if (isRustcPath(args[0])) return await runRustcWrapper(args[0]!, args.slice(1));
  try {
    if (persona === "sccache") return await runSccacheCompat(args, showStats);
    const [name, ...rest] = args;
    if (name === undefined || name === "-h" || name === "--help" || name === "help") {
      if (name === "help" && rest[0]) return printCommandHelp(rest[0], persona);
      process.stdout.write(topHelp(persona));
      return name === undefined ? ExitCode.usage : ExitCode.ok;
    }
    if (name === "-V" || name === "--version" || name === "version") {
      process.stdout.write(`galley ${VERSION}\n`);
      return ExitCode.ok;
    }
    const command = findCommand(name, persona);
    if (rest.includes("--help") || rest.includes("-h")) {
      const dash = rest.indexOf("--");
      const helpAt = Math.max(rest.indexOf("--help"), rest.indexOf("-h"));
      if (dash === -1 || helpAt < dash) {
        process.stdout.write(command.help());
        return ExitCode.ok;
      }
    }
    return await command.run(rest);
  } catch (err) {
    return report(err);
  }
}

function printCommandHelp(name: string, persona: Persona): number {
  try {
    process.stdout.write(findCommand(name, persona).help());
    return ExitCode.ok;
  } catch (err) {
    return report(err);
  }
}

function findCommand(name: string, persona: Persona): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (!command || (persona === "cargo-chef" && !CHEF_COMMANDS.has(name))) {
    const known = COMMANDS.filter((c) => persona !== "cargo-chef" || CHEF_COMMANDS.has(c.name)).map(
      (c) => c.name,
    );
    throw new UsageError(
      name.startsWith("-") ? `unknown flag ${name}` : `unknown command "${name}"`,
      `commands: ${known.join(", ")} (run with --help)`,
    );
  }
  return command;
}

/** One clear line (and a hint) for a user's error; a bug gets its stack only under GALLEY_LOG=debug. */
export function report(err: unknown): number {
  if (err instanceof GalleyError) {
    if (err.name !== "ChildFailed" || isDebug())
      process.stderr.write(`${red(bold("error:"))} ${err.message}\n`);
    if (err.hint) process.stderr.write(`  ${err.hint}\n`);
    if (isDebug() && err.stack) process.stderr.write(`${err.stack}\n`);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${red(bold("error:"))} internal error: ${message}\n`);
  if (isDebug() && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  else
    process.stderr.write(
      "  this is a bug in galley; re-run with GALLEY_LOG=debug for details and report it\n",
    );
  return ExitCode.internal;
}
