/**
 * The workspace as cargo sees it, computed from the files alone (no `cargo metadata`): the root,
 * its members (globs, `exclude`, path dependencies inside the root), and the local packages outside
 * it that path dependencies, `[patch]` and `[replace]` reach.
 */
import { dirname, join, resolve } from "node:path";
import { InputError } from "../errors.ts";
import { dependencyEntries, overrideEntries } from "./dependencies.ts";
import { expandDirGlob, hasGlobMeta } from "./glob.ts";
import { cleanRel, isDir, isFile, isInside, joinRel, relPosix } from "./paths.ts";
import { asString, asTable, readToml, type TomlTable } from "./toml.ts";

export interface LocalPackage {
  /** Directory relative to the workspace root ("." for the root package, "../x" outside it). */
  dir: string;
  manifest: TomlTable;
  name: string;
  /** True for workspace members; false for path packages outside the workspace or excluded. */
  member: boolean;
}

export interface Workspace {
  /** Absolute directory of the root manifest. */
  root: string;
  rootManifest: TomlTable;
  /** All local packages (members first, then the others), each sorted by directory. */
  packages: LocalPackage[];
  /** Directories (relative to root) that `[patch]`/`[replace]` point at. */
  overrideDirs: Set<string>;
  /** Nested workspaces matched by `members` and left out. */
  skippedNested: string[];
}

/** The nearest Cargo.toml at or above `start` (a directory or a manifest path). */
export function findManifest(start: string): string {
  let dir = resolve(start);
  if (dir.endsWith("Cargo.toml") && isFile(dir)) return dir;
  if (isFile(dir)) dir = dirname(dir);
  for (;;) {
    const candidate = join(dir, "Cargo.toml");
    if (isFile(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new InputError(
        `could not find Cargo.toml in ${resolve(start)} or any parent directory`,
        "run galley inside a Rust project or pass --manifest-path",
      );
    }
    dir = parent;
  }
}

/** The root manifest of the workspace that `manifestPath` belongs to (itself when standalone). */
export function findWorkspaceRoot(manifestPath: string): string {
  const manifest = readToml(manifestPath);
  if (asTable(manifest.workspace)) return manifestPath;
  const pkg = asTable(manifest.package);
  const explicit = asString(pkg?.workspace);
  if (explicit) return join(resolve(dirname(manifestPath), explicit), "Cargo.toml");
  const pkgDir = dirname(manifestPath);
  let dir = dirname(pkgDir);
  for (;;) {
    const candidate = join(dir, "Cargo.toml");
    if (isFile(candidate)) {
      const root = readToml(candidate);
      const ws = asTable(root.workspace);
      if (ws) {
        const rel = relPosix(dir, pkgDir);
        const excluded = stringList(ws.exclude).some((e) => isUnder(rel, cleanRel(e)));
        return excluded ? manifestPath : candidate;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return manifestPath;
    dir = parent;
  }
}

export function loadWorkspace(rootManifestPath: string): Workspace {
  const root = dirname(resolve(rootManifestPath));
  const rootManifest = readToml(rootManifestPath, "Cargo.toml");
  const ws = asTable(rootManifest.workspace);
  const exclude = stringList(ws?.exclude).map(cleanRel);
  const isExcluded = (rel: string) => exclude.some((e) => isUnder(rel, e));
  const wsDeps = asTable(ws?.dependencies) ?? {};

  const packages = new Map<string, LocalPackage>();
  const missing: string[] = [];
  const skippedNested: string[] = [];
  const queue: string[] = [];

  const load = (rel: string, member: boolean, via: string): void => {
    const existing = packages.get(rel);
    if (existing) {
      if (member && !existing.member) existing.member = true;
      return;
    }
    const manifestPath = rel === "." ? rootManifestPath : join(root, rel, "Cargo.toml");
    if (!isFile(manifestPath)) {
      missing.push(`${rel}/Cargo.toml (${via})`);
      return;
    }
    const manifest = rel === "." ? rootManifest : readToml(manifestPath, `${rel}/Cargo.toml`);
    const name = asString(asTable(manifest.package)?.name);
    if (!name) {
      if (rel === ".") return; // a virtual root manifest
      throw new InputError(`${rel}/Cargo.toml: no [package] name (${via})`);
    }
    packages.set(rel, { dir: rel, manifest, name, member });
    queue.push(rel);
  };

  if (asTable(rootManifest.package)) load(".", true, "the root package");
  if (ws) {
    for (const pattern of stringList(ws.members)) {
      const dirs = hasGlobMeta(pattern) ? expandDirGlob(root, pattern) : [cleanRel(pattern)];
      for (const rel of dirs) {
        if (isExcluded(rel) || rel === ".") continue;
        const manifestPath = join(root, rel, "Cargo.toml");
        if (isFile(manifestPath) && asTable(readToml(manifestPath, `${rel}/Cargo.toml`).workspace)) {
          skippedNested.push(rel);
          continue;
        }
        if (hasGlobMeta(pattern) && !isDir(join(root, rel))) continue;
        load(rel, true, `workspace member matched by "${pattern}"`);
      }
    }
  }

  const overrideDirs = new Set<string>();
  for (const { key, spec } of overrideEntries(rootManifest)) {
    const path = asString(spec.path);
    if (!path) continue;
    const rel = relPosix(root, resolve(root, path));
    overrideDirs.add(rel);
    const inside = isInside(join(root, rel), root) && !isExcluded(rel);
    load(rel, inside && isMemberCandidate(rel), `[patch]/[replace] entry "${key}" in Cargo.toml`);
  }

  // Path dependencies: inside the root they are members, outside (or excluded) they are not.
  while (queue.length > 0) {
    const rel = queue.shift()!;
    const pkg = packages.get(rel)!;
    for (const dep of dependencyEntries(pkg.manifest)) {
      let target: string | undefined;
      const path = asString(dep.spec.path);
      if (path) target = relPosix(root, resolve(root, rel, path));
      else if (dep.spec.workspace === true && pkg.member) {
        const inherited = asString(asTable(wsDeps[dep.key])?.path);
        if (inherited) target = relPosix(root, resolve(root, inherited));
      }
      if (target === undefined) continue;
      const inside = isInside(join(root, target), root) && !isExcluded(target);
      load(target, pkg.member && inside, `path dependency "${dep.key}" of ${joinRel(rel, "Cargo.toml")}`);
    }
  }

  if (missing.length > 0) {
    throw new InputError(
      `these local packages are not in the build context:\n  ${missing.join("\n  ")}`,
      "copy them into the context (keeping their relative place) before running galley prepare",
    );
  }

  const sorted = [...packages.values()].sort((a, b) =>
    a.member !== b.member ? (a.member ? -1 : 1) : a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0,
  );
  return { root, rootManifest, packages: sorted, overrideDirs, skippedNested };

  function isMemberCandidate(rel: string): boolean {
    return stringList(ws?.members).some((m) =>
      hasGlobMeta(m) ? expandDirGlob(root, m).includes(rel) : cleanRel(m) === rel,
    );
  }
}

function isUnder(rel: string, prefix: string): boolean {
  return rel === prefix || rel.startsWith(`${prefix}/`);
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}
