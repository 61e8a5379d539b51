/**
 * prepare: project -> recipe. Reads only files (works on a context holding just the manifests and
 * the lockfile), masks local versions so that bumps keep the dependency layer, and makes every
 * target explicit so the skeleton needs no source tree.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { stringify } from "smol-toml";
import { dependencyEntries, overrideEntries } from "../cargo/dependencies.ts";
import { maskLockVersions, pruneLock, remoteDependents } from "../cargo/lockfile.ts";
import { isFile, joinRel, relPosix } from "../cargo/paths.ts";
import { discoverTargets, type PackageTargets, type Target } from "../cargo/targets.ts";
import { asString, asTable, isTable, type TomlTable } from "../cargo/toml.ts";
import {
  findManifest,
  findWorkspaceRoot,
  type LocalPackage,
  loadWorkspace,
  type Workspace,
} from "../cargo/workspace.ts";
import { InputError } from "../errors.ts";
import { artifactBinRequests, describeGuesses, type GuessReason, guessTargets } from "./guess-targets.ts";
import { realSources } from "./real-sources.ts";
import { type DummySource, RECIPE_SCHEMA, type Recipe, type RecipeFile } from "./recipe.ts";

/** The version every local package gets in the recipe. */
export const MASKED_VERSION = "0.0.1";

export interface PrepareOptions {
  /** A directory or Cargo.toml inside the project; defaults to the working directory. */
  start: string;
  /** Keep only the packages needed to build these bins (package or bin target names). */
  bins: string[];
}

export interface PrepareResult {
  recipe: Recipe;
  notes: string[];
}

export function prepare(opts: PrepareOptions): PrepareResult {
  const rootManifestPath = findWorkspaceRoot(findManifest(opts.start));
  const ws = loadWorkspace(rootManifestPath);
  const notes: string[] = [];
  for (const nested of ws.skippedNested)
    notes.push(`left out nested workspace ${joinRel(nested, "Cargo.toml")}`);

  const targets = new Map<string, PackageTargets>();
  const dependedOn = new Set([...ws.overrideDirs, ...ws.packages.flatMap((p) => pathDependencyDirs(ws, p))]);
  const artifactBins = new Map<string, string[]>();
  for (const pkg of ws.packages) {
    const requests = artifactBinRequests(
      pkg.manifest,
      (path) => relPosix(ws.root, resolve(ws.root, pkg.dir, path)),
      (dir) => ws.packages.find((p) => p.dir === dir)?.name,
    );
    for (const [dir, bin] of requests) artifactBins.set(dir, [...(artifactBins.get(dir) ?? []), bin]);
  }
  const guesses = new Map<string, GuessReason[]>();
  for (const pkg of ws.packages) {
    const t = discoverTargets(
      join(ws.root, pkg.dir),
      pkg.manifest,
      pkg.name,
      editionOf(pkg, ws),
      joinRel(pkg.dir, "Cargo.toml"),
    );
    const reasons = guessTargets(t, pkg.manifest, pkg.name, {
      dependedOn: dependedOn.has(pkg.dir),
      artifactBins: artifactBins.get(pkg.dir) ?? [],
    });
    if (reasons.length > 0) guesses.set(pkg.dir, reasons);
    targets.set(pkg.dir, t);
  }
  const guessed = describeGuesses(guesses);
  if (guessed) notes.push(guessed);

  const kept =
    opts.bins.length > 0 ? closureForBins(ws, targets, opts.bins) : new Set(ws.packages.map((p) => p.dir));
  const packages = ws.packages.filter((p) => kept.has(p.dir));

  // Packages that [patch]/[replace] point at keep their versions: cargo matches them by version.
  const maskable = new Set(packages.filter((p) => !ws.overrideDirs.has(p.dir)).map((p) => p.dir));
  // Cargo.lock entries are masked by name, whatever version they show: a manifest bumped before
  // the lockfile is updated gives the same recipe. A name a kept-version package shares stays.
  const pinnedNames = new Set(packages.filter((p) => !maskable.has(p.dir)).map((p) => p.name));
  // (A package without a version is 0.0.0 to cargo, and stays so in the manifest and the lock.)
  const wsPackage = asTable(asTable(ws.rootManifest.workspace)?.package);
  const maskedLock = new Set(
    packages
      .filter((p) => maskable.has(p.dir) && !pinnedNames.has(p.name) && versionOf(p, wsPackage) !== undefined)
      .map((p) => p.name),
  );

  const files: RecipeFile[] = [];
  const sources: DummySource[] = [];
  const rootHasPackage = packages.some((p) => p.dir === ".");
  const lockPath = join(ws.root, "Cargo.lock");
  const lockText = isFile(lockPath) ? readFileSync(lockPath, "utf8") : undefined;
  // Packages that [patch]/[replace] point at stand in for crates that third-party crates may depend
  // on: where the lockfile shows one that does, a dummy would break it, so they travel with the
  // real sources their build reads. (Without a lockfile nobody knows: they travel.)
  const real: string[] = [];
  const why: string[] = [];
  for (const pkg of packages) {
    const manifest = structuredClone(pkg.manifest);
    const t = targets.get(pkg.dir)!;
    const users =
      ws.overrideDirs.has(pkg.dir) && pkg.dir !== "."
        ? lockText === undefined
          ? ["no Cargo.lock to tell"]
          : remoteDependents(lockText, pkg.name)
        : [];
    const own = users.length > 0 ? realSources(ws.root, pkg.dir, t) : [];
    if (users.length > 0 && !own.some((f) => f.path.endsWith(".rs"))) {
      notes.push(
        `${joinRel(pkg.dir, "Cargo.toml")}: [patch]/[replace] package without its sources here; crates that use it get a dummy`,
      );
    }
    rewritePackage(manifest, pkg, t, maskable, ws);
    if (own.some((f) => f.path.endsWith(".rs"))) {
      real.push(pkg.dir);
      why.push(`${joinRel(pkg.dir, "Cargo.toml")} (${users.join(", ")})`);
      files.push(...own);
      // Its examples, tests and benches stay dummies: third-party crates use only its library.
      const carried = new Set(own.map((f) => f.path));
      const rest = dummiesFor(pkg.dir, { ...t, bins: [], lib: undefined, build: undefined });
      sources.push(...rest.filter((d) => !carried.has(d.path)));
    } else sources.push(...dummiesFor(pkg.dir, t));
    if (pkg.dir === ".") rewriteWorkspace(manifest, ws, packages, maskable, opts.bins.length > 0);
    files.push({ path: joinRel(pkg.dir, "Cargo.toml"), kind: "manifest", contents: canonicalToml(manifest) });
  }
  if (why.length > 0) {
    notes.push(
      `real sources travel for [patch]/[replace] packages that registry or git crates depend on: ${why.join("; ")}`,
    );
  }
  if (!rootHasPackage) {
    const manifest = structuredClone(ws.rootManifest);
    rewriteWorkspace(manifest, ws, packages, maskable, opts.bins.length > 0);
    files.push({ path: "Cargo.toml", kind: "manifest", contents: canonicalToml(manifest) });
  }

  if (lockText !== undefined) {
    let lock = lockText;
    if (opts.bins.length > 0) lock = pruneLock(lock, new Set(packages.map((p) => p.name)));
    files.push({
      path: "Cargo.lock",
      kind: "lockfile",
      contents: maskLockVersions(lock, maskedLock, MASKED_VERSION),
    });
  } else {
    notes.push(
      "no Cargo.lock: the dependency build will resolve versions afresh (commit Cargo.lock for repeatable builds)",
    );
  }
  for (const rel of [".cargo/config.toml", ".cargo/config"]) {
    const p = join(ws.root, rel);
    if (isFile(p)) files.push({ path: rel, kind: "config", contents: readFileSync(p, "utf8") });
  }
  for (const rel of ["rust-toolchain.toml", "rust-toolchain"]) {
    const p = join(ws.root, rel);
    if (isFile(p)) files.push({ path: rel, kind: "toolchain", contents: readFileSync(p, "utf8") });
  }
  const recipe: Recipe = { schema: RECIPE_SCHEMA, files, sources: dedupe(sources), real };
  if (opts.bins.length > 0) recipe.pruned = true;
  return { recipe, notes };
}

function editionOf(pkg: LocalPackage, ws: Workspace): string {
  const edition = asTable(pkg.manifest.package)?.edition;
  if (typeof edition === "string") return edition;
  if (isTable(edition) && edition.workspace === true) {
    const inherited = asTable(asTable(ws.rootManifest.workspace)?.package)?.edition;
    if (typeof inherited === "string") return inherited;
  }
  return "2015";
}

function versionOf(pkg: LocalPackage, wsPackage: TomlTable | undefined): string | undefined {
  const v = asTable(pkg.manifest.package)?.version;
  if (typeof v === "string") return v;
  if (isTable(v) && v.workspace === true) return asString(wsPackage?.version);
  return undefined;
}

function rewritePackage(
  manifest: TomlTable,
  pkg: LocalPackage,
  t: PackageTargets,
  maskable: ReadonlySet<string>,
  ws: Workspace,
): void {
  delete manifest.lints; // dummy sources would trip the project's lint levels
  const p = asTable(manifest.package)!;
  if (maskable.has(pkg.dir) && p.version !== undefined) p.version = MASKED_VERSION;
  for (const key of ["autobins", "autoexamples", "autotests", "autobenches"]) p[key] = false;
  p.build = t.build ?? false;
  if (t.lib) manifest.lib = t.lib.table;
  else delete manifest.lib;
  setTargets(manifest, "bin", t.bins);
  setTargets(manifest, "example", t.examples);
  setTargets(manifest, "test", t.tests);
  setTargets(manifest, "bench", t.benches);
  maskPathDependencies(manifest, pkg, maskable, ws);
}

function maskPathDependencies(
  manifest: TomlTable,
  pkg: LocalPackage,
  maskable: ReadonlySet<string>,
  ws: Workspace,
): void {
  const pkgAbs = join(ws.root, pkg.dir);
  for (const dep of dependencyEntries(manifest)) {
    const path = asString(dep.spec.path);
    if (path && dep.spec.version !== undefined && maskable.has(relPosix(ws.root, resolve(pkgAbs, path)))) {
      dep.spec.version = MASKED_VERSION;
    }
  }
}

function setTargets(manifest: TomlTable, key: string, list: Target[]): void {
  if (list.length > 0) manifest[key] = list.map((t) => t.table);
  else delete manifest[key];
}

function rewriteWorkspace(
  manifest: TomlTable,
  ws: Workspace,
  packages: LocalPackage[],
  maskable: ReadonlySet<string>,
  pruned: boolean,
): void {
  const workspace = asTable(manifest.workspace);
  if (!workspace) return;
  delete workspace.lints;
  const wsPackage = asTable(workspace.package);
  // Mask the shared version unless a package that must keep its version inherits it.
  if (wsPackage?.version !== undefined) {
    const pinned = packages.some(
      (p) => !maskable.has(p.dir) && isTable(asTable(p.manifest.package)?.version),
    );
    if (!pinned) wsPackage.version = MASKED_VERSION;
  }
  const wsDeps = asTable(workspace.dependencies);
  if (wsDeps) {
    for (const [key, value] of Object.entries(wsDeps)) {
      const spec = asTable(value);
      const path = asString(spec?.path);
      if (
        spec &&
        path &&
        spec.version !== undefined &&
        maskable.has(relPosix(ws.root, resolve(ws.root, path)))
      ) {
        spec.version = MASKED_VERSION;
      }
      if (pruned && !packages.some((p) => inheritsDependency(p.manifest, key))) delete wsDeps[key];
    }
  }
  for (const { spec } of overrideEntries(manifest)) {
    const path = asString(spec.path);
    if (path && spec.version !== undefined && maskable.has(relPosix(ws.root, resolve(ws.root, path)))) {
      spec.version = MASKED_VERSION;
    }
  }
  if (pruned) {
    const memberDirs = packages.filter((p) => p.member && p.dir !== ".").map((p) => p.dir);
    workspace.members = memberDirs;
    const defaults = workspace["default-members"];
    if (Array.isArray(defaults)) {
      const kept = new Set([...memberDirs, ...(packages.some((p) => p.dir === ".") ? ["."] : [])]);
      const keptDefaults = defaults.filter((d) => typeof d === "string" && kept.has(joinRel(".", d)));
      if (keptDefaults.length > 0) workspace["default-members"] = keptDefaults;
      else delete workspace["default-members"];
    }
  }
}

function inheritsDependency(manifest: TomlTable, key: string): boolean {
  for (const dep of dependencyEntries(manifest))
    if (dep.key === key && dep.spec.workspace === true) return true;
  return false;
}

/** The local packages needed to build the named bins: their packages and every path dependency. */
function closureForBins(ws: Workspace, targets: Map<string, PackageTargets>, bins: string[]): Set<string> {
  const starts: LocalPackage[] = [];
  for (const bin of bins) {
    const found = ws.packages.filter(
      (p) => p.member && (p.name === bin || targets.get(p.dir)!.bins.some((b) => b.name === bin)),
    );
    if (found.length === 0) {
      const all = ws.packages.flatMap((p) => targets.get(p.dir)!.bins.map((b) => b.name));
      throw new InputError(
        `--bin ${bin}: no workspace member has a binary or package of that name`,
        all.length > 0
          ? `binaries in this workspace: ${[...new Set(all)].sort().join(", ")}`
          : "this workspace has no binaries",
      );
    }
    starts.push(...found);
  }
  const byDir = new Map(ws.packages.map((p) => [p.dir, p]));
  const keep = new Set<string>();
  // The root package is always kept (its manifest is the workspace's root), and cargo loads its
  // path dependencies too.
  const root = byDir.get(".");
  const stack = root ? [...starts, root] : [...starts];
  while (stack.length > 0) {
    const pkg = stack.pop()!;
    if (keep.has(pkg.dir)) continue;
    keep.add(pkg.dir);
    for (const dir of pathDependencyDirs(ws, pkg)) {
      const next = byDir.get(dir);
      if (next && !keep.has(next.dir)) stack.push(next);
    }
  }
  for (const dir of ws.overrideDirs) if (byDir.has(dir)) keep.add(dir);
  return keep;
}

/** Directories (relative to the root) of a package's path dependencies, own or inherited. */
function pathDependencyDirs(ws: Workspace, pkg: LocalPackage): string[] {
  const wsDeps = asTable(asTable(ws.rootManifest.workspace)?.dependencies) ?? {};
  const dirs: string[] = [];
  for (const dep of dependencyEntries(pkg.manifest)) {
    const own = asString(dep.spec.path);
    const inherited = dep.spec.workspace === true ? asString(asTable(wsDeps[dep.key])?.path) : undefined;
    // `path = ""` is the workspace root itself (cargo's own workspace does that).
    if (own !== undefined) dirs.push(relPosix(ws.root, resolve(ws.root, pkg.dir, own)));
    else if (inherited !== undefined) dirs.push(relPosix(ws.root, resolve(ws.root, inherited)));
  }
  return dirs;
}

function dummiesFor(dir: string, t: PackageTargets): DummySource[] {
  const out: DummySource[] = [];
  const at = (p: string) => joinRel(dir, p);
  if (t.lib) out.push({ path: at(t.lib.path), kind: "lib" });
  for (const b of t.bins) out.push({ path: at(b.path), kind: "main" });
  for (const e of t.examples) out.push({ path: at(e.path), kind: isLibraryExample(e) ? "lib" : "main" });
  for (const x of [...t.tests, ...t.benches])
    out.push({ path: at(x.path), kind: x.table.harness === false ? "main" : "harness" });
  if (t.build) out.push({ path: at(t.build), kind: "build" });
  return out;
}

function isLibraryExample(t: Target): boolean {
  const types = t.table["crate-type"] ?? t.table.crate_type;
  return Array.isArray(types) && types.length > 0 && !types.includes("bin");
}

/** A file used by two targets gets one dummy; a main() wins, since a lib ignores it harmlessly. */
function dedupe(sources: DummySource[]): DummySource[] {
  const byPath = new Map<string, DummySource>();
  for (const s of sources) {
    const prev = byPath.get(s.path);
    if (!prev || (s.kind === "main" && prev.kind !== "build")) byPath.set(s.path, s);
  }
  return [...byPath.values()];
}

/** TOML with keys sorted at every level: formatting and key order do not change the recipe. */
export function canonicalToml(table: TomlTable): string {
  return stringify(sortKeys(table));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isTable(value)) return value;
  const out: TomlTable = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeys(value[key]);
  return out;
}
