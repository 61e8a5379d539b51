/** TOML reading with errors that say which file, line and column. */
import { readFileSync } from "node:fs";
import { parse, TomlError } from "smol-toml";
import { InputError } from "../errors.ts";

export type TomlTable = Record<string, unknown>;

export function isTable(value: unknown): value is TomlTable {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

export function asTable(value: unknown): TomlTable | undefined {
  return isTable(value) ? value : undefined;
}

export function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function parseToml(text: string, where: string): TomlTable {
  try {
    return parse(text) as TomlTable;
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split("\n")[0] ?? "syntax error";
      throw new InputError(
        `${where}:${err.line}:${err.column}: invalid TOML: ${first}`,
        "fix the file and re-run",
      );
    }
    throw new InputError(`${where}: invalid TOML: ${String(err)}`);
  }
}

export function readToml(path: string, displayPath = path): TomlTable {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new InputError(
      `${displayPath}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  return parseToml(text, displayPath);
}
