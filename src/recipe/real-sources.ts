/**
 * The real sources of a package that must build for real in the cook (a `[patch]` target that
 * registry or git crates depend on): only what its build can read — the directories of its library
 * and binaries, its build script, and the files those include (`include_str!`, `include_bytes!`,
 * `include!`, `#[path]`, a build script's literal `rerun-if-changed`) — not its docs, tests,
 * examples, benches or changelog.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { isDir, isFile, isInside, joinRel, relPosix } from "../cargo/paths.ts";
import type { PackageTargets } from "../cargo/targets.ts";
import type { RecipeFile } from "./recipe.ts";

/** Files (relative to the workspace root) the package's build reads, sorted. */
export function realSources(root: string, dir: string, t: PackageTargets): RecipeFile[] {
  const pkgAbs = join(root, dir);
  const found = new Set<string>(); // absolute paths
  const scanned = new Set<string>();
  const buildFiles = new Set<string>();
  const addTree = (abs: string, onlyTopRust: boolean) => {
    for (const entry of listDir(abs)) {
      const child = join(abs, entry.name);
      if (entry.isDirectory()) {
        if (onlyTopRust || entry.name.startsWith(".") || entry.name === "target") continue;
        if (isFile(join(child, "Cargo.toml"))) continue; // another package
        addTree(child, false);
      } else if (entry.isFile() && (!onlyTopRust || entry.name.endsWith(".rs"))) found.add(child);
    }
  };
  const addRoot = (rel: string, isBuild: boolean) => {
    const file = join(pkgAbs, rel);
    if (!isFile(file)) return;
    found.add(file);
    if (isBuild) buildFiles.add(file);
    const d = dirname(file);
    // A target file at the package's top (lib.rs, build.rs) brings its Rust siblings, not the package.
    if (d === pkgAbs) addTree(d, true);
    else addTree(d, false);
  };
  for (const target of [...(t.lib ? [t.lib] : []), ...t.bins]) addRoot(target.path, false);
  if (t.build) addRoot(t.build, true);

  // What the Rust files include, transitively (an included .rs file may include more).
  for (let pending = [...found]; pending.length > 0; ) {
    const next: string[] = [];
    for (const file of pending) {
      if (scanned.has(file) || !file.endsWith(".rs")) continue;
      scanned.add(file);
      for (const inc of includedFiles(file, pkgAbs, buildFiles.has(file))) {
        // Only files of the package or the workspace: a recipe never reaches further up.
        if (!isInside(inc, pkgAbs) && !isInside(inc, root)) continue;
        if (!found.has(inc)) {
          found.add(inc);
          next.push(inc);
        }
      }
    }
    pending = next;
  }
  found.delete(join(pkgAbs, "Cargo.toml"));
  return [...found]
    .map((abs) => relPosix(root, abs))
    .sort()
    .map((rel) => {
      const bytes = readFileSync(join(root, rel));
      const text = utf8(bytes);
      return {
        path: joinRel(".", rel),
        kind: "source" as const,
        ...(text === undefined
          ? { contents: bytes.toString("base64"), encoding: "base64" as const }
          : { contents: text }),
      };
    });
}

const INCLUDE = /\binclude(?:_str|_bytes)?!\s*\(\s*"([^"]+)"\s*\)/g;
const INCLUDE_FROM_MANIFEST_DIR = /env!\s*\(\s*"CARGO_MANIFEST_DIR"\s*\)\s*,\s*"\/?([^"]+)"/g;
const PATH_ATTR = /#\[\s*path\s*=\s*"([^"]+)"\s*\]/g;
const RERUN_IF_CHANGED = /rerun-if-changed=([^"\s{}]+)/g;

/** Existing files a Rust file names by literal path (relative to it, or to the package). */
function includedFiles(file: string, pkgAbs: string, buildScript: boolean): string[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const out: string[] = [];
  const add = (abs: string) => {
    if (isFile(abs)) out.push(abs);
    else if (isDir(abs)) {
      for (const entry of listDir(abs)) if (entry.isFile()) out.push(join(abs, entry.name));
    }
  };
  for (const m of text.matchAll(INCLUDE)) add(resolve(dirname(file), m[1]!));
  for (const m of text.matchAll(PATH_ATTR)) add(resolve(dirname(file), m[1]!));
  for (const m of text.matchAll(INCLUDE_FROM_MANIFEST_DIR)) add(resolve(pkgAbs, m[1]!));
  // A build script runs in the package directory; what it watches, it reads.
  if (buildScript) for (const m of text.matchAll(RERUN_IF_CHANGED)) add(resolve(pkgAbs, m[1]!));
  return out;
}

function listDir(dir: string) {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  } catch {
    return [];
  }
}

function utf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
