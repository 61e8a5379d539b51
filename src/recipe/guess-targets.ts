/**
 * Targets of packages whose sources are not in the context (a planner stage that copied only the
 * manifests): cargo would discover them from files that are not there, so they are guessed from
 * every hint the manifests hold, and every guess is said, grouped by its reason.
 */
import { dependencyEntries } from "../cargo/dependencies.ts";
import { joinRel } from "../cargo/paths.ts";
import { defaultBinPath, type PackageTargets, type Target } from "../cargo/targets.ts";
import { asString, asTable, isTable, type TomlTable } from "../cargo/toml.ts";

/** What other packages of the workspace say about one package. */
export interface OutsideHints {
  /** Another local package depends on it (or `[patch]`/`[replace]` points at it): it has a library. */
  dependedOn: boolean;
  /** Bin names that other packages' artifact dependencies (`artifact = "bin:NAME"`) ask for. */
  artifactBins: string[];
}

/** Every reason a guess can give, in the order the warning lists them. */
const REASONS = [
  "library: other packages depend on it",
  "library: it has `links`",
  "library: its documentation is on docs.rs",
  "library: its binaries need features",
  "library: published, with no hint of a binary",
  "binary: named by default-run",
  "binary: asked for by an artifact dependency",
  "binary at src/main.rs: category command-line-utilities",
  "binary at src/main.rs: no hint (cargo new's default)",
  "build script: it has `links`",
  "build script: it has build-dependencies",
  "no library: no hint of one",
] as const;
export type GuessReason = (typeof REASONS)[number];

/**
 * Adds the targets the hints imply to `t` (in place) and returns the reason of each guess; nothing
 * when the package has its sources (cargo's own discovery already ran) or nothing had to be guessed.
 */
export function guessTargets(
  t: PackageTargets,
  manifest: TomlTable,
  packageName: string,
  hints: OutsideHints,
): GuessReason[] {
  const pkg = asTable(manifest.package) ?? {};
  const reasons: GuessReason[] = [];
  const links = asString(pkg.links);
  if (t.hasSources) {
    // A package must have a target; one whose sources hold none fails in cargo as well.
    if (!t.lib && t.bins.length === 0 && t.examples.length + t.tests.length + t.benches.length === 0) {
      addBin(t, packageName, packageName);
      reasons.push("binary at src/main.rs: no hint (cargo new's default)");
    }
    return reasons;
  }

  const wanted: [string, GuessReason][] = [];
  const defaultRun = asString(pkg["default-run"]);
  if (defaultRun) wanted.push([defaultRun, "binary: named by default-run"]);
  for (const name of hints.artifactBins) wanted.push([name, "binary: asked for by an artifact dependency"]);
  const cli = stringList(pkg.categories).includes("command-line-utilities");
  const binHinted = t.bins.length > 0 || wanted.length > 0 || cli;

  if (!t.lib && pkg.autolib !== false) {
    const why: GuessReason | undefined = hints.dependedOn
      ? "library: other packages depend on it"
      : links !== undefined
        ? "library: it has `links`"
        : !binHinted && docsRs(pkg)
          ? "library: its documentation is on docs.rs"
          : t.bins.some((b) => Array.isArray(b.table["required-features"]))
            ? "library: its binaries need features"
            : !binHinted && pkg.publish !== false && pkg.description !== undefined
              ? "library: published, with no hint of a binary"
              : undefined;
    if (why) {
      const name = packageName.replace(/-/g, "_");
      t.lib = { kind: "lib", name, path: "src/lib.rs", table: { path: "src/lib.rs" } };
      reasons.push(why);
    }
  }

  if (!t.lib && t.bins.length === 0 && wanted.length === 0) {
    wanted.push([
      packageName,
      cli
        ? "binary at src/main.rs: category command-line-utilities"
        : "binary at src/main.rs: no hint (cargo new's default)",
    ]);
  }
  for (const [name, why] of wanted) {
    if (t.bins.some((b) => b.name === name)) continue;
    addBin(t, name, packageName);
    reasons.push(why);
  }

  if (t.build === undefined && pkg.build !== false) {
    const why: GuessReason | undefined =
      links !== undefined
        ? "build script: it has `links`"
        : hasBuildDependencies(manifest)
          ? "build script: it has build-dependencies"
          : undefined;
    if (why) {
      t.build = "build.rs";
      reasons.push(why);
    }
  }
  // Binaries were declared or guessed, and nothing says there is a library too: say so.
  if (!t.lib && pkg.autolib !== false && !reasons.some((r) => r.startsWith("binary at"))) {
    reasons.push("no library: no hint of one");
  }
  return reasons;
}

/** Bin names that artifact dependencies of `manifest` ask of the package at each directory. */
export function artifactBinRequests(
  manifest: TomlTable,
  dirOfPath: (path: string) => string,
  nameAt: (dir: string) => string | undefined,
): [dir: string, bin: string][] {
  const out: [string, string][] = [];
  for (const dep of dependencyEntries(manifest)) {
    const path = asString(dep.spec.path);
    if (!path || dep.spec.artifact === undefined) continue;
    const kinds = Array.isArray(dep.spec.artifact) ? dep.spec.artifact : [dep.spec.artifact];
    const dir = dirOfPath(path);
    for (const kind of kinds) {
      if (kind === "bin") {
        const name = nameAt(dir);
        if (name) out.push([dir, name]);
      } else if (typeof kind === "string" && kind.startsWith("bin:")) out.push([dir, kind.slice(4)]);
    }
  }
  return out;
}

/** One warning for every guess: reasons grouped, each naming its manifests (a few, then a count). */
export function describeGuesses(guesses: Map<string, GuessReason[]>): string | undefined {
  if (guesses.size === 0) return undefined;
  const byReason = new Map<GuessReason, string[]>();
  for (const [dir, reasons] of guesses) {
    for (const r of reasons) byReason.set(r, [...(byReason.get(r) ?? []), joinRel(dir, "Cargo.toml")]);
  }
  const lines = REASONS.filter((r) => byReason.has(r)).map((reason) => {
    const paths = byReason.get(reason)!;
    const more = paths.length > 4 ? `, and ${paths.length - 4} more` : "";
    return `  ${reason} (${paths.length}): ${paths.slice(0, 4).join(", ")}${more}`;
  });
  const n = guesses.size;
  return `guessed the targets of ${n} package${n === 1 ? "" : "s"} whose sources are not here (manifests only):\n${lines.join("\n")}`;
}

function addBin(t: PackageTargets, name: string, packageName: string): void {
  const path = defaultBinPath(name, packageName);
  const bin: Target = { kind: "bin", name, path, table: { name, path } };
  t.bins = [...t.bins, bin].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function docsRs(pkg: TomlTable): boolean {
  const doc = asString(pkg.documentation);
  // `[package.metadata.docs.rs]` is a dotted key: metadata.docs.rs.
  return (doc !== undefined && /\bdocs\.rs\b/.test(doc)) || isTable(asTable(asTable(pkg.metadata)?.docs)?.rs);
}

function hasBuildDependencies(manifest: TomlTable): boolean {
  for (const scope of [manifest, ...Object.values(asTable(manifest.target) ?? {})]) {
    for (const key of ["build-dependencies", "build_dependencies"]) {
      const table = asTable(asTable(scope)?.[key]);
      if (table && Object.keys(table).length > 0) return true;
    }
  }
  return false;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}
