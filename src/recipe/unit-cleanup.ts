/**
 * After the cook, remove exactly the outputs and fingerprints of the workspace's own (dummy) units,
 * as cargo reported them in its JSON messages. Otherwise a real source copied in with an older
 * mtime than the dummy's outputs (Docker keeps mtimes) looks fresh and the dummy is shipped.
 */
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";

interface ArtifactMessage {
  reason: "compiler-artifact";
  package_id: string;
  target: { kind: string[]; name: string };
  profile?: { test?: boolean };
  filenames: string[];
  executable?: string | null;
}

interface BuildScriptMessage {
  reason: "build-script-executed";
  package_id: string;
  out_dir: string;
}

export type CargoMessage = ArtifactMessage | BuildScriptMessage | { reason: string };

/** Path packages: cargo's package id is `path+file://…` (or `name ver (path+file://…)` before 1.77). */
export function isLocalPackageId(id: string): boolean {
  return id.startsWith("path+file://") || id.includes("(path+file://");
}

/** The package name in a package id: `…/dir#name@1.0.0`, `…/name#1.0.0` or `name 1.0.0 (…)`. */
export function packageNameOf(id: string): string | undefined {
  const old = /^(\S+) \S+ \(/.exec(id);
  if (old) return old[1];
  const hash = id.lastIndexOf("#");
  if (hash === -1) return undefined;
  const fragment = id.slice(hash + 1);
  const at = fragment.indexOf("@");
  if (at !== -1) return fragment.slice(0, at);
  const url = id.slice(0, hash);
  return decodeURIComponent(url.slice(url.lastIndexOf("/") + 1));
}

const HASH_SUFFIX = /-([0-9a-f]{16})$/;

/** The directory of a path package from its id (`path+file:///dir#name@1.0`, or `name 1.0 (path+file:///dir)`). */
export function packageDirOf(id: string): string | undefined {
  const m = /path\+file:\/\/([^#)]+)/.exec(id);
  return m ? decodeURIComponent(m[1]!) : undefined;
}

export class LocalUnitCollector {
  /** @param keepDirs directories of local packages built from real sources: their units stay. */
  constructor(private readonly keepDirs: ReadonlySet<string> = new Set()) {}

  /** A local package whose units are dummies (and must go). */
  private isDummy(id: string): boolean {
    if (!isLocalPackageId(id)) return false;
    const dir = packageDirOf(id);
    return dir === undefined || !this.keepDirs.has(dir.replace(/\/+$/, ""));
  }

  private readonly paths = new Set<string>();
  /** Local units whose outputs carry no hash (cdylib, dylib): their fingerprints are found at the end. */
  private readonly unhashed: { profile: string; pkg: string; file: string }[] = [];
  /** Hashes of the other packages' units, which an unhashed local unit's lookup must not touch. */
  private readonly otherHashes = new Set<string>();

  /** Feed every JSON message cargo printed. */
  add(msg: CargoMessage): void {
    if (msg.reason === "compiler-artifact") this.artifact(msg as ArtifactMessage);
    else if (msg.reason === "build-script-executed") {
      const m = msg as BuildScriptMessage;
      if (this.isDummy(m.package_id)) this.unitDir(dirname(m.out_dir));
      else this.otherHash(dirname(m.out_dir));
    }
  }

  /** Files and directories to remove. */
  get removals(): string[] {
    this.resolveUnhashed();
    return [...this.paths].sort();
  }

  removeAll(): number {
    this.resolveUnhashed();
    for (const p of this.paths) rmSync(p, { recursive: true, force: true });
    return this.paths.size;
  }

  private otherHash(file: string): void {
    const m = /-([0-9a-f]{16})(?:\.[A-Za-z0-9.]+)?$/.exec(basename(file));
    if (m) this.otherHashes.add(m[1]!);
  }

  private artifact(m: ArtifactMessage): void {
    if (!this.isDummy(m.package_id)) {
      for (const f of m.filenames) this.otherHash(m.target.kind.includes("custom-build") ? dirname(f) : f);
      return;
    }
    if (m.target.kind.includes("custom-build")) {
      // <profile>/build/<pkg>-<hash>/build-script-build
      for (const f of m.filenames) this.unitDir(dirname(f));
      return;
    }
    let found = false;
    for (const file of m.filenames) {
      const hashed = /^(?:lib)?(.+)-([0-9a-f]{16})(\.[A-Za-z0-9.]+)?$/.exec(basename(file));
      if (hashed && basename(dirname(file)) === "deps") {
        this.hashedOutput(dirname(dirname(file)), hashed[1]!, hashed[2]!);
        this.paths.add(file);
        found = true;
      } else {
        // An uplifted binary or example (<profile>/app, <profile>/examples/app): find its hashed
        // original in deps/ by identity, so that nothing else of the same name is touched.
        found = this.uplifted(file, m.target.name) || found;
      }
    }
    const pkg = packageNameOf(m.package_id);
    const first = m.filenames[0];
    if (!found && pkg && first) {
      // cargo gives local cdylib/dylib outputs no hash: find the unit's fingerprint by its file name.
      const parent = dirname(first);
      const profile = ["examples", "deps"].includes(basename(parent)) ? dirname(parent) : parent;
      this.unhashed.push({ profile, pkg, file: fingerprintFile(m) });
    }
  }

  /** Returns whether the unit's hash was found. */
  private uplifted(file: string, targetName: string): boolean {
    this.paths.add(file);
    // <profile>/app.d, <profile>/libfoo.d (for libfoo.rlib / libfoo.so)
    const dotD = file.replace(/(\.(exe|rlib|so|dylib|dll|a|lib|wasm|js))?$/, ".d");
    this.paths.add(dotD);
    const parent = dirname(file);
    const profile = basename(parent) === "examples" ? dirname(parent) : parent;
    const depsDir = basename(parent) === "examples" ? parent : join(profile, "deps");
    const stem = targetName.replace(/-/g, "_");
    const linked = findSameFile(file, depsDir, [stem, targetName]);
    if (linked) {
      this.paths.add(join(depsDir, linked.name));
      this.hashedOutput(profile, linked.stem, linked.hash);
      return true;
    }
    // Unhashed in deps/ too (cdylib, dylib): the same name, and <crate>.d beside it.
    const copy = join(depsDir, basename(file));
    if (copy !== file && sameFile(copy, file)) {
      this.paths.add(copy);
      this.paths.add(join(depsDir, `${stem}.d`));
    }
    return false;
  }

  private resolveUnhashed(): void {
    for (const u of this.unhashed.splice(0)) {
      for (const entry of safeList(join(u.profile, ".fingerprint"))) {
        const m = HASH_SUFFIX.exec(entry);
        if (!m || entry !== `${u.pkg}-${m[1]}` || this.otherHashes.has(m[1]!)) continue;
        const dir = join(u.profile, ".fingerprint", entry);
        if (safeList(dir).includes(u.file)) this.paths.add(dir);
      }
    }
  }

  /** deps/<stem>-<hash>.* files and .fingerprint/<name>-<hash>, matched by the unique hash. */
  private hashedOutput(profile: string, stem: string, hash: string): void {
    for (const dir of ["deps", "examples"]) {
      for (const entry of safeList(join(profile, dir))) {
        if (entry.includes(`-${hash}`) && (entry.startsWith(`${stem}-`) || entry.startsWith(`lib${stem}-`))) {
          this.paths.add(join(profile, dir, entry));
        }
      }
    }
    for (const entry of safeList(join(profile, ".fingerprint"))) {
      if (entry.endsWith(`-${hash}`)) this.paths.add(join(profile, ".fingerprint", entry));
    }
  }

  /** <profile>/build/<pkg>-<hash> and its fingerprint. */
  private unitDir(dir: string): void {
    this.paths.add(dir);
    const m = /-([0-9a-f]{16})$/.exec(basename(dir));
    if (!m) return;
    const profile = dirname(dirname(dir));
    for (const entry of safeList(join(profile, ".fingerprint"))) {
      if (entry.endsWith(`-${m[1]}`)) this.paths.add(join(profile, ".fingerprint", entry));
    }
  }
}

/** The name of a unit's fingerprint file, as cargo names it: `lib-foo`, `bin-app`, `test-lib-foo`. */
function fingerprintFile(m: ArtifactMessage): string {
  const k = m.target.kind;
  const kind = k.includes("bin")
    ? "bin"
    : k.includes("example")
      ? "example"
      : k.includes("test")
        ? "integration-test"
        : k.includes("bench")
          ? "bench"
          : "lib";
  return `${m.profile?.test ? "test-" : ""}${kind}-${m.target.name}`;
}

function sameFile(a: string, b: string): boolean {
  try {
    const sa = statSync(a);
    const sb = statSync(b);
    return (
      (sa.ino === sb.ino && sa.dev === sb.dev) ||
      (sa.size === sb.size && readFileSync(a).equals(readFileSync(b)))
    );
  } catch {
    return false;
  }
}

function findSameFile(
  file: string,
  dir: string,
  stems: string[],
): { name: string; stem: string; hash: string } | undefined {
  let target: ReturnType<typeof statSync>;
  try {
    target = statSync(file);
  } catch {
    return undefined;
  }
  for (const name of safeList(dir)) {
    const m = /^(?:lib)?(.+)-([0-9a-f]{16})(\.[A-Za-z0-9.]+)?$/.exec(name);
    if (!m || !stems.includes(m[1]!)) continue;
    try {
      const s = statSync(join(dir, name));
      if (s.ino === target.ino && s.dev === target.dev) return { name, stem: m[1]!, hash: m[2]! };
    } catch {}
  }
  // No hardlink (a filesystem without them): compare contents.
  const bytes = readFileSync(file);
  for (const name of safeList(dir)) {
    const m = /^(?:lib)?(.+)-([0-9a-f]{16})(\.[A-Za-z0-9.]+)?$/.exec(name);
    if (!m || !stems.includes(m[1]!)) continue;
    const candidate = join(dir, name);
    if (statSync(candidate).size === target.size && readFileSync(candidate).equals(bytes)) {
      return { name, stem: m[1]!, hash: m[2]! };
    }
  }
  return undefined;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
