/**
 * `.galley-lint.toml`: turn rules off or change their severity.
 *
 *   [rules]
 *   GL115 = "off"
 *   GL202 = "error"
 *   cargo-locked = "warning"   # names work as well as ids
 *
 * A mistake in it (bad TOML, an unknown key, rule or severity) is a usage error, not silently ignored.
 */
import { readFileSync } from "node:fs";
import { parse, TomlError } from "smol-toml";
import { ExitCode, GalleyError } from "../../errors.ts";
import { findRule } from "./registry.ts";
import { SEVERITIES, type Severity } from "./types.ts";

export const CONFIG_NAME = ".galley-lint.toml";

export interface LintConfig {
  /** The file it came from; undefined for the defaults. */
  path: string | undefined;
  /** By rule id: "off" or the severity to report it with. */
  rules: ReadonlyMap<string, Severity | "off">;
}

export const DEFAULT_CONFIG: LintConfig = { path: undefined, rules: new Map() };

export class LintConfigError extends GalleyError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.usage, hint);
    this.name = "LintConfigError";
  }
}

/** Reads a config file; `required` makes a missing file an error (for --config). */
export function loadConfig(path: string, required: boolean): LintConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!required && code === "ENOENT") return DEFAULT_CONFIG;
    throw new LintConfigError(`${path}: cannot read the lint config (${code ?? String(err)})`);
  }
  return parseConfig(text, path);
}

export function parseConfig(text: string, path: string): LintConfig {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      throw new LintConfigError(
        `${path}:${err.line}:${err.column}: invalid TOML: ${err.message.split("\n")[0]}`,
      );
    }
    throw err;
  }
  const lineOf = (key: string) => {
    const i = text
      .split(/\r?\n/)
      .findIndex((l) => new RegExp(`^\\s*["']?${escapeRe(key)}["']?\\s*=`).test(l));
    return i === -1 ? "" : `:${i + 1}`;
  };
  for (const key of Object.keys(doc)) {
    if (key !== "rules")
      throw new LintConfigError(
        `${path}${lineOf(key)}: unknown key "${key}"`,
        'the config has one table, [rules] (ID = "off" | "error" | "warning" | "info")',
      );
  }
  const table = doc.rules ?? {};
  if (typeof table !== "object" || table === null || Array.isArray(table))
    throw new LintConfigError(`${path}: "rules" must be a table: [rules]`);
  const rules = new Map<string, Severity | "off">();
  for (const [key, value] of Object.entries(table as Record<string, unknown>)) {
    const rule = findRule(key);
    if (!rule) {
      throw new LintConfigError(
        `${path}${lineOf(key)}: unknown rule "${key}" in [rules]`,
        'run "galley lint --list" for the rule ids',
      );
    }
    if (typeof value !== "string" || (value !== "off" && !SEVERITIES.includes(value as Severity))) {
      throw new LintConfigError(
        `${path}${lineOf(key)}: ${key} = ${JSON.stringify(value)}: expected "off", "error", "warning" or "info"`,
      );
    }
    rules.set(rule.id, value as Severity | "off");
  }
  return { path, rules };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
