/**
 * Target discovery as cargo does it (lib, bins, examples, tests, benches, build script), so that the
 * recipe's manifests can declare every target explicitly and the skeleton needs no auto-discovery.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.ts";
import { cleanRel, isDir, isFile } from "./paths.ts";
import { asString, asTable, type TomlTable } from "./toml.ts";

export type TargetKind = "lib" | "bin" | "example" | "test" | "bench";

export interface Target {
  kind: TargetKind;
  name: string;
  /** Relative to the package directory, forward slashes. */
  path: string;
  /** The target's manifest entry with every key it had, `name` and `path` filled in. */
  table: TomlTable;
}

export interface PackageTargets {
  lib?: Target;
  bins: Target[];
  examples: Target[];
  tests: Target[];
  benches: Target[];
  /** Build script path relative to the package, or undefined when there is none. */
  build?: string;
  /**
   * False when the package directory holds none of its sources (no `src/`, `tests/`, `examples/`,
   * `benches/`, build script or declared target file): a context of manifests only, where the
   * targets cargo would discover are unknown and must be guessed from the manifests.
   */
  hasSources: boolean;
}

interface KindLayout {
  key: "bin" | "example" | "test" | "bench";
  auto: "autobins" | "autoexamples" | "autotests" | "autobenches";
  dir: string;
}

const LAYOUTS: Record<Exclude<TargetKind, "lib">, KindLayout> = {
  bin: { key: "bin", auto: "autobins", dir: "src/bin" },
  example: { key: "example", auto: "autoexamples", dir: "examples" },
  test: { key: "test", auto: "autotests", dir: "tests" },
  bench: { key: "bench", auto: "autobenches", dir: "benches" },
};

export function discoverTargets(
  pkgDir: string,
  manifest: TomlTable,
  packageName: string,
  edition: string,
  where: string,
): PackageTargets {
  const pkg = asTable(manifest.package) ?? {};
  const lib = discoverLib(pkgDir, manifest, packageName, pkg, where);
  const kinds = {} as Record<Exclude<TargetKind, "lib">, Target[]>;
  for (const kind of Object.keys(LAYOUTS) as Exclude<TargetKind, "lib">[]) {
    kinds[kind] = discoverKind(pkgDir, manifest, packageName, edition, LAYOUTS[kind], kind, pkg, where);
  }
  const build = buildScript(pkgDir, pkg, where);
  return {
    ...(lib ? { lib } : {}),
    bins: kinds.bin,
    examples: kinds.example,
    tests: kinds.test,
    benches: kinds.bench,
    ...build,
    hasSources:
      ["src", "tests", "examples", "benches"].some((d) => holdsRust(join(pkgDir, d))) ||
      [lib, ...Object.values(kinds).flat()].some((t) => t !== undefined && isFile(join(pkgDir, t.path))) ||
      (build.build !== undefined && isFile(join(pkgDir, build.build))),
  };
}

/**
 * Whether a directory holds a Rust file at any depth (breadth first, so `src/lib.rs` is found at
 * once). A directory that holds only other packages' manifests (a manifests-only context of
 * `examples/x/Cargo.toml`) holds no sources of this package.
 */
function holdsRust(dir: string): boolean {
  const queue = [dir];
  for (let d = queue.shift(); d !== undefined; d = queue.shift()) {
    const entries = listDir(d);
    if (entries.some((e) => !e.isDirectory() && e.name.endsWith(".rs"))) return true;
    for (const e of entries)
      if (e.isDirectory() && !e.name.startsWith(".") && e.name !== "target") queue.push(join(d, e.name));
  }
  return false;
}

/** The default path of a bin target named `name`, as cargo infers it when none is declared. */
export function defaultBinPath(name: string, packageName: string): string {
  return name === packageName ? "src/main.rs" : `src/bin/${name}.rs`;
}

function discoverLib(
  pkgDir: string,
  manifest: TomlTable,
  packageName: string,
  pkg: TomlTable,
  where: string,
): Target | undefined {
  const declared = asTable(manifest.lib);
  const name = packageName.replace(/-/g, "_");
  if (declared) {
    const path = targetPath(declared.path, where, "lib") ?? "src/lib.rs";
    return { kind: "lib", name: asString(declared.name) ?? name, path, table: { ...declared, path } };
  }
  if (pkg.autolib !== false && isFile(join(pkgDir, "src/lib.rs"))) {
    return { kind: "lib", name, path: "src/lib.rs", table: { path: "src/lib.rs" } };
  }
  return undefined;
}

function discoverKind(
  pkgDir: string,
  manifest: TomlTable,
  packageName: string,
  edition: string,
  layout: KindLayout,
  kind: Exclude<TargetKind, "lib">,
  pkg: TomlTable,
  where: string,
): Target[] {
  const raw = manifest[layout.key];
  if (raw !== undefined && !Array.isArray(raw)) {
    throw new InputError(`${where}: \`${layout.key}\` must be an array of tables ([[${layout.key}]])`);
  }
  const declared = (raw ?? []).map((t, i) => {
    const table = asTable(t);
    if (!table) throw new InputError(`${where}: [[${layout.key}]] entry ${i + 1} is not a table`);
    return table;
  });
  const inferred = inferKind(pkgDir, layout, kind, packageName);
  // Edition 2015: declaring any target of a kind turns discovery of that kind off.
  const autoSetting = pkg[layout.auto];
  const auto = typeof autoSetting === "boolean" ? autoSetting : !(edition === "2015" && declared.length > 0);

  const out: Target[] = [];
  const names = new Set<string>();
  const paths = new Set<string>();
  for (const table of declared) {
    const name = asString(table.name);
    if (!name) throw new InputError(`${where}: a [[${layout.key}]] target has no \`name\``);
    const path =
      targetPath(table.path, where, `${layout.key} "${name}"`) ??
      inferred.find((t) => t.name === name)?.path ??
      defaultPath(pkgDir, layout, kind, name, packageName);
    out.push({ kind, name, path, table: { ...table, path } });
    names.add(name);
    paths.add(path);
  }
  if (auto) {
    for (const t of inferred) if (!names.has(t.name) && !paths.has(t.path)) out.push(t);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function inferKind(
  pkgDir: string,
  layout: KindLayout,
  kind: Exclude<TargetKind, "lib">,
  packageName: string,
): Target[] {
  const found: Target[] = [];
  const add = (name: string, path: string) => found.push({ kind, name, path, table: { name, path } });
  if (kind === "bin" && isFile(join(pkgDir, "src/main.rs"))) add(packageName, "src/main.rs");
  for (const entry of listDir(join(pkgDir, layout.dir))) {
    // Like cargo: dotfiles (editor lock files, macOS ._ files) are skipped; a symlink is a file.
    if (entry.name.startsWith(".")) continue;
    if (!entry.isDirectory() && entry.name.endsWith(".rs"))
      add(entry.name.slice(0, -3), `${layout.dir}/${entry.name}`);
    else if (entry.isDirectory() && isFile(join(pkgDir, layout.dir, entry.name, "main.rs"))) {
      add(entry.name, `${layout.dir}/${entry.name}/main.rs`);
    }
  }
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function defaultPath(
  pkgDir: string,
  layout: KindLayout,
  kind: Exclude<TargetKind, "lib">,
  name: string,
  packageName: string,
): string {
  if (kind === "bin" && name === packageName && isFile(join(pkgDir, "src/main.rs"))) return "src/main.rs";
  if (isDir(join(pkgDir, layout.dir, name)) && isFile(join(pkgDir, layout.dir, name, "main.rs"))) {
    return `${layout.dir}/${name}/main.rs`;
  }
  if (kind === "bin" && name === packageName && !isFile(join(pkgDir, layout.dir, `${name}.rs`))) {
    return "src/main.rs";
  }
  return `${layout.dir}/${name}.rs`;
}

function buildScript(pkgDir: string, pkg: TomlTable, where: string): { build?: string } {
  const b = pkg.build;
  if (b === false) return {};
  if (typeof b === "string") return { build: checkRelative(b, where, "build script") };
  if (b === true || isFile(join(pkgDir, "build.rs"))) return { build: "build.rs" };
  return {};
}

function targetPath(value: unknown, where: string, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new InputError(`${where}: the path of ${what} must be a string`);
  return checkRelative(value, where, what);
}

function checkRelative(p: string, where: string, what: string): string {
  if (p.startsWith("/") || /^[A-Za-z]:[\\/]/.test(p)) {
    throw new InputError(
      `${where}: ${what} has an absolute path (${p}), which a recipe cannot carry into another machine`,
      "use a path relative to the package",
    );
  }
  return cleanRel(p);
}

function listDir(dir: string) {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  } catch {
    return [];
  }
}
