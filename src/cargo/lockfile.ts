/**
 * Cargo.lock edits done on the text, not through a TOML round-trip: `cargo build --locked` compares
 * the lockfile it would write with the file byte for byte, so the format must stay cargo's own.
 */
import { InputError } from "../errors.ts";

interface Block {
  /** Lines of a `[[package]]` block, or of the header / a trailing section. */
  lines: string[];
  name?: string;
  version?: string;
  source?: string;
}

interface Parts {
  head: string[];
  packages: Block[];
  tail: string[];
  /** The file's line ending: a checkout with CRLF (Windows, autocrlf) keeps it. */
  eol: string;
}

/** Splits a lockfile into the header, the `[[package]]` blocks and what follows them. */
function split(text: string, where: string): Parts {
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text.split(/\r?\n/);
  const head: string[] = [];
  const packages: Block[] = [];
  const tail: string[] = [];
  let current: Block | undefined;
  let inTail = false;
  for (const line of lines) {
    if (line === "[[package]]") {
      current = { lines: [line] };
      packages.push(current);
      continue;
    }
    if (/^\[/.test(line)) {
      current = undefined;
      inTail = true;
    }
    if (inTail) tail.push(line);
    else if (current) {
      current.lines.push(line);
      const m = /^(name|version|source) = "(.*)"$/.exec(line);
      if (m) current[m[1] as "name" | "version" | "source"] = m[2];
    } else head.push(line);
  }
  for (const b of packages) {
    if (!b.name || !b.version) throw new InputError(`${where}: a [[package]] entry has no name or version`);
  }
  return { head, packages, tail, eol };
}

function join(parts: Parts): string {
  return [...parts.head, ...parts.packages.flatMap((b) => b.lines), ...parts.tail].join(parts.eol);
}

/**
 * Replaces the version of the named local packages (entries without a source), whatever version the
 * lockfile shows for them, in their own entries and in every `dependencies` reference to them, then
 * restores cargo's ordering. A manifest bumped without a lockfile update masks the same way.
 */
export function maskLockVersions(
  text: string,
  localNames: ReadonlySet<string>,
  newVersion: string,
  where = "Cargo.lock",
): string {
  const parts = split(text, where);
  const isMasked = (b: Block) => b.source === undefined && localNames.has(b.name!);
  // References name a version only where the name is ambiguous: these are the ones to rewrite.
  const maskedIds = new Set(parts.packages.filter(isMasked).map((b) => `${b.name} ${b.version}`));
  let reorder = false;
  for (const block of parts.packages) {
    let refChanged = false;
    const own = isMasked(block);
    block.lines = block.lines.map((line) => {
      if (own && line.startsWith("version = ")) return `version = "${newVersion}"`;
      const ref = /^ "([^" ]+) ([^" ]+)",$/.exec(line);
      if (ref && maskedIds.has(`${ref[1]} ${ref[2]}`)) {
        refChanged = true;
        return ` "${ref[1]} ${newVersion}",`;
      }
      return line;
    });
    if (own) {
      block.version = newVersion;
      reorder ||= parts.packages.some((o) => o !== block && o.name === block.name);
    }
    // A versioned reference only exists where a name is ambiguous; its order may change.
    if (refChanged) sortDependencyList(block);
  }
  if (reorder) parts.packages.sort(comparePackages);
  return join(parts);
}

/** Keeps only the packages reachable from `roots` (local package names) through `dependencies`. */
export function pruneLock(text: string, roots: ReadonlySet<string>, where = "Cargo.lock"): string {
  const parts = split(text, where);
  const byName = new Map<string, Block[]>();
  for (const b of parts.packages) byName.set(b.name!, [...(byName.get(b.name!) ?? []), b]);
  const keep = new Set<Block>();
  const stack = parts.packages.filter((b) => b.source === undefined && roots.has(b.name!));
  while (stack.length > 0) {
    const b = stack.pop()!;
    if (keep.has(b)) continue;
    keep.add(b);
    for (const dep of dependencyRefs(b)) {
      const candidates = byName.get(dep.name) ?? [];
      const match = candidates.filter(
        (c) =>
          (dep.version === undefined || c.version === dep.version) &&
          (dep.source === undefined || c.source === dep.source),
      );
      stack.push(...match);
    }
  }
  parts.packages = parts.packages.filter((b) => keep.has(b));
  shortenRefs(parts.packages);
  return join(parts);
}

/**
 * Cargo writes a reference's version only when several packages share the name, and its source only
 * when several share name and version; after pruning, drop what is no longer needed, as cargo would.
 */
function shortenRefs(packages: Block[]): void {
  const names = new Map<string, number>();
  const versions = new Map<string, number>();
  for (const b of packages) {
    names.set(b.name!, (names.get(b.name!) ?? 0) + 1);
    versions.set(`${b.name} ${b.version}`, (versions.get(`${b.name} ${b.version}`) ?? 0) + 1);
  }
  for (const block of packages) {
    let changed = false;
    block.lines = block.lines.map((line) => {
      const m = /^ "([^" ]+) ([^" ]+)(?: \(([^)]+)\))?",$/.exec(line);
      if (!m) return line;
      const [, name, version, source] = m;
      const short =
        names.get(name!) === 1
          ? ` "${name}",`
          : source !== undefined && versions.get(`${name} ${version}`) === 1
            ? ` "${name} ${version}",`
            : line;
      changed ||= short !== line;
      return short;
    });
    if (changed) sortDependencyList(block);
  }
}

function dependencyRefs(b: Block): { name: string; version?: string; source?: string }[] {
  const refs: { name: string; version?: string; source?: string }[] = [];
  let inDeps = false;
  for (const line of b.lines) {
    if (line === "dependencies = [") inDeps = true;
    else if (inDeps && line === "]") inDeps = false;
    else if (inDeps) {
      const m = /^ "([^" ]+)(?: ([^" ]+))?(?: \(([^)]+)\))?",$/.exec(line);
      if (m)
        refs.push({ name: m[1]!, ...(m[2] ? { version: m[2] } : {}), ...(m[3] ? { source: m[3] } : {}) });
    }
  }
  return refs;
}

function sortDependencyList(b: Block): void {
  const start = b.lines.indexOf("dependencies = [");
  if (start === -1) return;
  const end = b.lines.indexOf("]", start);
  const entries = b.lines.slice(start + 1, end);
  entries.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  b.lines.splice(start + 1, entries.length, ...entries);
}

function comparePackages(a: Block, b: Block): number {
  if (a.name !== b.name) return a.name! < b.name! ? -1 : 1;
  const v = compareSemver(a.version!, b.version!);
  if (v !== 0) return v;
  return (a.source ?? "") < (b.source ?? "") ? -1 : (a.source ?? "") > (b.source ?? "") ? 1 : 0;
}

export function compareSemver(a: string, b: string): number {
  const pa = a.split(/[-+]/)[0]!.split(".").map(Number);
  const pb = b.split(/[-+]/)[0]!.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  const preA = a.includes("-");
  const preB = b.includes("-");
  if (preA !== preB) return preA ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Every package of a lockfile as `name version source` (source empty for local packages). */
export function lockPackages(text: string, where = "Cargo.lock"): Set<string> {
  return new Set(split(text, where).packages.map((b) => `${b.name} ${b.version} ${b.source ?? ""}`));
}

/**
 * The registry and git packages (`name version`) whose dependencies name the local package `name`
 * (an entry without a source, such as the target of a `[patch]`), sorted.
 */
export function remoteDependents(text: string, name: string, where = "Cargo.lock"): string[] {
  const { packages } = split(text, where);
  const localVersions = new Set(
    packages.filter((b) => b.source === undefined && b.name === name).map((b) => b.version),
  );
  if (localVersions.size === 0) return [];
  const out = new Set<string>();
  for (const b of packages) {
    if (b.source === undefined) continue;
    const uses = dependencyRefs(b).some(
      (r) =>
        r.name === name &&
        r.source === undefined &&
        (r.version === undefined || localVersions.has(r.version)),
    );
    if (uses) out.add(`${b.name} ${b.version}`);
  }
  return [...out].sort();
}
