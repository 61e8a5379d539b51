/** Walks every dependency entry of a manifest: plain, dev, build, and target-specific tables. */
import { asTable, type TomlTable } from "./toml.ts";

const DEP_TABLES = [
  "dependencies",
  "dev-dependencies",
  "dev_dependencies",
  "build-dependencies",
  "build_dependencies",
] as const;

export interface DepEntry {
  /** The key in the table (the name the code uses; `package` renames it). */
  key: string;
  /** The table holding the entry, so callers can edit it in place. */
  holder: TomlTable;
  /** The entry as a table (a bare version string is not a path dependency and is skipped). */
  spec: TomlTable;
  kind: "normal" | "dev" | "build";
}

export function* dependencyEntries(manifest: TomlTable): Generator<DepEntry> {
  yield* entriesOf(manifest);
  const target = asTable(manifest.target);
  if (target) for (const cfg of Object.values(target)) yield* entriesOf(asTable(cfg) ?? {});
}

function* entriesOf(scope: TomlTable): Generator<DepEntry> {
  for (const name of DEP_TABLES) {
    const holder = asTable(scope[name]);
    if (!holder) continue;
    const kind = name.startsWith("dev") ? "dev" : name.startsWith("build") ? "build" : "normal";
    for (const [key, value] of Object.entries(holder)) {
      const spec = asTable(value);
      if (spec) yield { key, holder, spec, kind };
    }
  }
}

/** `[patch.<source>]` and `[replace]` entries: they live in the workspace root manifest only. */
export function* overrideEntries(root: TomlTable): Generator<{ key: string; spec: TomlTable }> {
  const patch = asTable(root.patch);
  if (patch) {
    for (const source of Object.values(patch)) {
      for (const [key, value] of Object.entries(asTable(source) ?? {})) {
        const spec = asTable(value);
        if (spec) yield { key, spec };
      }
    }
  }
  for (const [key, value] of Object.entries(asTable(root.replace) ?? {})) {
    const spec = asTable(value);
    if (spec) yield { key, spec };
  }
}
