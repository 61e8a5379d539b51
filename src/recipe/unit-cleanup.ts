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

export class LocalUnitCollector {
  private readonly paths = new Set<string>();

  /** Feed every JSON message cargo printed. */
  add(msg: CargoMessage): void {
    if (msg.reason === "compiler-artifact") this.artifact(msg as ArtifactMessage);
    else if (msg.reason === "build-script-executed") {
      const m = msg as BuildScriptMessage;
      if (isLocalPackageId(m.package_id)) this.unitDir(dirname(m.out_dir));
    }
  }

  /** Files and directories to remove. */
  get removals(): string[] {
    return [...this.paths].sort();
  }

  removeAll(): number {
    for (const p of this.paths) rmSync(p, { recursive: true, force: true });
    return this.paths.size;
  }

  private artifact(m: ArtifactMessage): void {
    if (!isLocalPackageId(m.package_id)) return;
    if (m.target.kind.includes("custom-build")) {
      // <profile>/build/<pkg>-<hash>/build-script-build
      for (const f of m.filenames) this.unitDir(dirname(f));
      return;
    }
    for (const file of m.filenames) {
      const hashed = /^(?:lib)?(.+)-([0-9a-f]{16})(\.[A-Za-z0-9.]+)?$/.exec(basename(file));
      if (hashed && basename(dirname(file)) === "deps") {
        this.hashedOutput(dirname(dirname(file)), hashed[1]!, hashed[2]!);
        this.paths.add(file);
      } else {
        // An uplifted binary or example (<profile>/app, <profile>/examples/app): find its hashed
        // original in deps/ by identity, so that nothing else of the same name is touched.
        this.uplifted(file, m.target.name);
      }
    }
  }

  private uplifted(file: string, targetName: string): void {
    this.paths.add(file);
    const dotD = file.replace(/(\.exe)?$/, ".d");
    this.paths.add(dotD);
    const parent = dirname(file);
    const profile = basename(parent) === "examples" ? dirname(parent) : parent;
    const depsDir = basename(parent) === "examples" ? parent : join(profile, "deps");
    const stem = targetName.replace(/-/g, "_");
    const linked = findSameFile(file, depsDir, [stem, targetName]);
    if (linked) {
      this.paths.add(join(depsDir, linked.name));
      this.hashedOutput(profile, linked.stem, linked.hash);
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
    const m = /^(.+)-([0-9a-f]{16})(\.exe)?$/.exec(name);
    if (!m || !stems.includes(m[1]!)) continue;
    try {
      const s = statSync(join(dir, name));
      if (s.ino === target.ino && s.dev === target.dev) return { name, stem: m[1]!, hash: m[2]! };
    } catch {}
  }
  // No hardlink (a filesystem without them): compare contents.
  const bytes = readFileSync(file);
  for (const name of safeList(dir)) {
    const m = /^(.+)-([0-9a-f]{16})(\.exe)?$/.exec(name);
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
