/**
 * A small, strict command-line parser: a typed option table per command, `--flag value`,
 * `--flag=value`, `-jN`, repeatable options, `--` passthrough, and unknown flags rejected with the
 * nearest known one as a hint.
 */
import { UsageError } from "../errors.ts";
import { editDistance } from "../util/edit-distance.ts";

export type OptionKind = "boolean" | "count" | "string" | "list";

export interface OptionSpec {
  kind: OptionKind;
  short?: string;
  /** Placeholder for the value in help, e.g. "PATH". */
  value?: string;
  description: string;
}

export type OptionTable = Record<string, OptionSpec>;

type ValueOf<S extends OptionSpec> = S["kind"] extends "boolean"
  ? boolean
  : S["kind"] extends "count"
    ? number
    : S["kind"] extends "list"
      ? string[]
      : string | undefined;

export type Parsed<T extends OptionTable> = {
  options: { [K in keyof T]: ValueOf<T[K]> };
  /** Positional arguments before `--`. */
  positionals: string[];
  /** Everything after `--`, untouched. */
  rest: string[];
};

export function parseArgs<T extends OptionTable>(
  command: string,
  table: T,
  argv: readonly string[],
  opts: { maxPositionals?: number } = {},
): Parsed<T> {
  const options: Record<string, boolean | number | string | string[] | undefined> = {};
  for (const [name, spec] of Object.entries(table)) {
    options[name] =
      spec.kind === "boolean" ? false : spec.kind === "count" ? 0 : spec.kind === "list" ? [] : undefined;
  }
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(table)) if (spec.short) byShort.set(spec.short, name);

  const positionals: string[] = [];
  let rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      rest = argv.slice(i + 1);
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
      if (!(name in table)) throw unknownFlag(command, `--${name}`, table);
    } else if (arg.startsWith("-") && arg.length > 1) {
      const long = byShort.get(arg[1]!);
      if (!long) throw unknownFlag(command, arg.slice(0, 2), table);
      name = long;
      if (arg.length > 2) inline = arg[2] === "=" ? arg.slice(3) : arg.slice(2);
    } else {
      positionals.push(arg);
      continue;
    }
    const spec = table[name]!;
    if (spec.kind === "count") {
      // -v, -vv, --verbose --verbose
      const extra =
        inline === undefined
          ? 0
          : spec.short && inline === spec.short.repeat(inline.length)
            ? inline.length
            : -1;
      if (extra < 0) throw new UsageError(`--${name} takes no value (got "${inline}")`);
      options[name] = (options[name] as number) + 1 + extra;
      continue;
    }
    if (spec.kind === "boolean") {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value (got "${inline}")`);
      options[name] = true;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-")) {
        throw new UsageError(
          `--${name} needs a value`,
          `usage: galley ${command} --${name} ${spec.value ?? "VALUE"}`,
        );
      }
      value = next;
      i++;
    }
    if (spec.kind === "list") (options[name] as string[]).push(value);
    else options[name] = value;
  }
  const max = opts.maxPositionals ?? 0;
  if (positionals.length > max) {
    throw new UsageError(
      `unexpected argument "${positionals[max]}" for galley ${command}`,
      `run "galley ${command} --help" for usage`,
    );
  }
  return { options: options as Parsed<T>["options"], positionals, rest };
}

function unknownFlag(command: string, flag: string, table: OptionTable): UsageError {
  const names = Object.keys(table).map((n) => `--${n}`);
  const near = nearest(flag, names);
  return new UsageError(
    `unknown flag ${flag} for galley ${command}`,
    near ? `did you mean ${near}? (run "galley ${command} --help")` : `run "galley ${command} --help"`,
  );
}

function nearest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(3, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** Help text for a command, generated from its option table so it never drifts. */
export function renderHelp(usage: string, summary: string, table: OptionTable, extra = ""): string {
  const rows = Object.entries(table).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : "    ";
    const value = spec.kind === "boolean" || spec.kind === "count" ? "" : ` <${spec.value ?? "VALUE"}>`;
    const repeat = spec.kind === "list" ? " (repeatable)" : "";
    return [`  ${short}--${name}${value}`, `${spec.description}${repeat}`] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length), 0) + 2;
  const lines = rows.map(([l, d]) => `${l.padEnd(width)}${d}`);
  return `${summary}\n\nUsage: ${usage}\n\nOptions:\n${lines.join("\n")}\n  -h, --help${" ".repeat(Math.max(2, width - 12))}Show this help\n${extra}`;
}
