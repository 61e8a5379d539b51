/** Recognising cargo, cargo-chef and galley invocations inside RUN commands. */
import { expand, type Span, type Word } from "../parse.ts";
import type { ShellCommand } from "./shell.ts";

/**
 * build: compiles the project (`cargo build`, `rustc`, `zigbuild`, `auditable build`);
 * compile: compiles without producing the shipped binary (`test`, `check`, `clippy`, ...);
 * install: `cargo install`; cook/prepare: the dependency layer; fetch: downloads only.
 */
export type CargoAction = "build" | "compile" | "install" | "cook" | "prepare" | "fetch" | "other";

export interface CargoCall {
  command: ShellCommand;
  action: CargoAction;
  /** How it reads in a message: "cargo build", "cargo chef cook", "galley prepare". */
  label: string;
  /** From the program word to the subcommand word. */
  span: Span;
  /** Arguments after the subcommand. */
  args: Word[];
  /** cargo's own options before the subcommand (`cargo --locked build`). */
  globals: Word[];
}

const CARGO_VALUE_GLOBALS = new Set(["--config", "-Z", "-C", "--color"]);
const BUILD = new Set(["build", "b", "rustc", "zigbuild"]);
const COMPILE = new Set(["test", "t", "check", "c", "clippy", "doc", "d", "bench", "run", "r", "nextest"]);
/** Options of cargo build/install/cook that take a value (so their value is not a crate name). */
const VALUE_OPTIONS = new Set([
  "--profile",
  "--target",
  "--target-dir",
  "--features",
  "-F",
  "--package",
  "-p",
  "--exclude",
  "--bin",
  "--example",
  "--test",
  "--bench",
  "--manifest-path",
  "--jobs",
  "-j",
  "--color",
  "--config",
  "-Z",
  "--message-format",
  "--recipe-path",
  "--version",
  "--vers",
  "--git",
  "--branch",
  "--tag",
  "--rev",
  "--path",
  "--root",
  "--index",
  "--registry",
  "--timings",
]);

const base = (w: string) => w.slice(w.lastIndexOf("/") + 1);

/** The cargo / cargo-chef / galley invocation a simple command is, if it is one. */
export function cargoCall(command: ShellCommand): CargoCall | undefined {
  const words = command.words;
  const program = words[0];
  if (!program) return undefined;
  const name = base(program.value);
  let i = 1;
  const globals: Word[] = [];
  let prefix: string;
  if (name === "cargo") {
    if (words[i]?.value.startsWith("+")) i++;
    while (i < words.length && words[i]!.value.startsWith("-")) {
      const w = words[i]!.value;
      globals.push(words[i]!);
      i++;
      if (CARGO_VALUE_GLOBALS.has(w)) {
        globals.push(words[i]!);
        i++;
      }
    }
    prefix = "cargo";
  } else if (name === "galley" || name === "cargo-galley" || name === "cargo-chef") {
    prefix = name === "cargo-chef" ? "cargo chef" : "galley";
    if (words[i]?.value === (name === "cargo-chef" ? "chef" : "galley")) i++;
    return tool(command, prefix, words, i, program);
  } else return undefined;
  const sub = words[i];
  if (!sub) return undefined;
  if (sub.value === "chef" || sub.value === "galley")
    return tool(command, `cargo ${sub.value}`, words, i + 1, program, globals);
  if (sub.value === "auditable" && words[i + 1]?.value === "build")
    return make(
      command,
      "build",
      "cargo auditable build",
      program,
      words[i + 1]!,
      words.slice(i + 2),
      globals,
    );
  const action: CargoAction = BUILD.has(sub.value)
    ? "build"
    : COMPILE.has(sub.value)
      ? "compile"
      : sub.value === "install"
        ? "install"
        : sub.value === "fetch" || sub.value === "vendor"
          ? "fetch"
          : "other";
  return make(command, action, `${prefix} ${sub.value}`, program, sub, words.slice(i + 1), globals);
}

function tool(
  command: ShellCommand,
  prefix: string,
  words: Word[],
  i: number,
  program: Word,
  globals: Word[] = [],
): CargoCall | undefined {
  const sub = words[i];
  if (!sub) return undefined;
  const action: CargoAction = sub.value === "cook" ? "cook" : sub.value === "prepare" ? "prepare" : "other";
  return make(command, action, `${prefix} ${sub.value}`, program, sub, words.slice(i + 1), globals);
}

function make(
  command: ShellCommand,
  action: CargoAction,
  label: string,
  program: Word,
  sub: Word,
  args: Word[],
  globals: Word[],
): CargoCall {
  return { command, action, label, span: { start: program.span.start, end: sub.span.end }, args, globals };
}

/** Whether the call passes `--name` (also `--name=value`), among its arguments or cargo's globals. */
export function hasFlag(call: CargoCall, ...names: string[]): boolean {
  return [...call.globals, ...argsBeforeDashDash(call)].some((w) =>
    names.some((n) => w.value === n || w.value.startsWith(`${n}=`)),
  );
}

/** Every value given to an option (`--target x`, `--target=x`). */
export function flagValues(call: CargoCall, ...names: string[]): string[] {
  const out: string[] = [];
  const args = argsBeforeDashDash(call);
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!.value;
    for (const n of names) {
      if (w === n && args[i + 1]) out.push(args[i + 1]!.value);
      else if (w.startsWith(`${n}=`)) out.push(w.slice(n.length + 1));
      else if (n.length === 2 && w.startsWith(n) && w.length > 2 && !w.startsWith("--")) out.push(w.slice(2));
    }
  }
  return out;
}

/** The positional arguments (crate names for `cargo install`). */
export function positionals(call: CargoCall): Word[] {
  const out: Word[] = [];
  const args = argsBeforeDashDash(call);
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!.value;
    if (w.startsWith("-")) {
      if (VALUE_OPTIONS.has(w)) i++;
      continue;
    }
    out.push(args[i]!);
  }
  return out;
}

function argsBeforeDashDash(call: CargoCall): Word[] {
  const dash = call.args.findIndex((w) => w.value === "--");
  return dash === -1 ? call.args : call.args.slice(0, dash);
}

/** Whether the call compiles Rust code (so it reads the registry and writes a target directory). */
export const compiles = (call: CargoCall): boolean =>
  call.action === "build" || call.action === "compile" || call.action === "install" || call.action === "cook";

/** `cargo install --path .` builds the project; `cargo install ripgrep` installs a tool. */
export const installsProject = (call: CargoCall): boolean =>
  call.action === "install" && hasFlag(call, "--path");

/** Builds of the project itself: build, install --path, cook (what a Dockerfile's build is made of). */
export const buildsProject = (call: CargoCall): boolean =>
  call.action === "build" || call.action === "cook" || installsProject(call);

/**
 * The call with `$VARS` in its arguments expanded (ARG/ENV values and the command's own assignments),
 * split as the shell splits an unquoted expansion; undefined when a variable's value is not known
 * (then a rule cannot tell which flags are passed, and says nothing).
 */
export function resolveCall(call: CargoCall, env: ReadonlyMap<string, string>): CargoCall | undefined {
  const vars = new Map(env);
  for (const a of call.command.assignments) vars.set(a.name, a.value);
  const resolve = (words: Word[]): Word[] | undefined => {
    const out: Word[] = [];
    for (const w of words) {
      if (!w.value.includes("$")) {
        out.push(w);
        continue;
      }
      const e = expand(w.value, vars);
      if (e.unknown.length > 0) return undefined;
      for (const part of e.value.split(/\s+/)) if (part !== "") out.push({ value: part, span: w.span });
    }
    return out;
  };
  const args = resolve(call.args);
  const globals = resolve(call.globals);
  if (!args || !globals) return undefined;
  return { ...call, args, globals };
}
