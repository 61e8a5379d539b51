/**
 * What `galley dockerfile` needs to know about a project, from the same model as `prepare`:
 * its binaries, the Rust version it wants, and whether TLS is in its dependency graph.
 */
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parse } from "smol-toml";
import { isFile } from "../../cargo/paths.ts";
import { discoverTargets } from "../../cargo/targets.ts";
import { asString, asTable, isTable } from "../../cargo/toml.ts";
import { findManifest, findWorkspaceRoot, loadWorkspace, type Workspace } from "../../cargo/workspace.ts";

export interface ProjectFacts {
  root: string;
  /** Binaries of workspace members: target name and package. */
  bins: { name: string; pkg: string }[];
  rust: { version: string; from: string };
  /** Packages in Cargo.lock that talk TLS and read the system's CA certificates. */
  tlsCrates: string[];
  hasLockfile: boolean;
  /** Absolute directories of the local packages outside the project (path dependencies, patches). */
  outside: string[];
}

/** Crates whose TLS reads the system trust store (webpki-roots bundles its own roots). */
const SYSTEM_TRUST_CRATES = [
  "rustls-native-certs",
  "rustls-platform-verifier",
  "openssl",
  "openssl-sys",
  "native-tls",
  "hyper-tls",
];

export function projectFacts(start: string, localRustc: () => string | undefined): ProjectFacts {
  const root = dirname(findWorkspaceRoot(findManifest(start)));
  const ws = loadWorkspace(join(root, "Cargo.toml"));
  const bins: ProjectFacts["bins"] = [];
  for (const pkg of ws.packages.filter((p) => p.member)) {
    const edition = asString(asTable(pkg.manifest.package)?.edition) ?? "2015";
    const t = discoverTargets(
      join(root, pkg.dir),
      pkg.manifest,
      pkg.name,
      edition,
      relative(root, join(root, pkg.dir, "Cargo.toml")),
    );
    for (const b of t.bins) bins.push({ name: b.name, pkg: pkg.name });
  }
  const lockPath = join(root, "Cargo.lock");
  const lock = isFile(lockPath) ? readFileSync(lockPath, "utf8") : "";
  const names = new Set([...lock.matchAll(/^name = "([^"]+)"$/gm)].map((m) => m[1]!));
  return {
    root,
    bins: bins.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    rust: rustVersion(
      root,
      ws.packages.map((p) => p.manifest),
      ws.rootManifest,
      localRustc,
    ),
    tlsCrates: SYSTEM_TRUST_CRATES.filter((c) => names.has(c)),
    hasLockfile: lock !== "",
    outside: outsidePackages(ws),
  };
}

/** Absolute directories of a workspace's local packages that lie outside its root. */
export function outsidePackages(ws: Workspace): string[] {
  return ws.packages.filter((p) => p.dir.startsWith("../")).map((p) => resolve(ws.root, p.dir));
}

/** rust-toolchain(.toml), else the highest `rust-version`, else the local toolchain. */
function rustVersion(
  root: string,
  manifests: Record<string, unknown>[],
  rootManifest: Record<string, unknown>,
  localRustc: () => string | undefined,
): ProjectFacts["rust"] {
  for (const file of ["rust-toolchain.toml", "rust-toolchain"]) {
    const p = join(root, file);
    if (!isFile(p)) continue;
    const text = readFileSync(p, "utf8");
    let channel: string | undefined;
    try {
      channel = asString(asTable((parse(text) as Record<string, unknown>).toolchain)?.channel);
    } catch {
      channel = text.trim().split("\n")[0]?.trim();
    }
    const v = channel && imageVersion(channel);
    if (v) return { version: v, from: file };
  }
  const wsVersion = asString(asTable(asTable(rootManifest.workspace)?.package)?.["rust-version"]);
  let best: string | undefined;
  for (const m of manifests) {
    const raw = asTable(m.package)?.["rust-version"];
    const v = typeof raw === "string" ? raw : isTable(raw) && raw.workspace === true ? wsVersion : undefined;
    if (v && (!best || compareVersions(v, best) > 0)) best = v;
  }
  if (best) return { version: imageVersion(best) ?? best, from: "rust-version in Cargo.toml" };
  const local = localRustc();
  if (local) return { version: local, from: "the local toolchain" };
  return { version: "1", from: "the latest stable image (no toolchain found)" };
}

/** `1.90.0` -> `1.90.0`, `1.90` -> `1.90`, `stable` -> `1`; nightly and others are not an image tag. */
function imageVersion(channel: string): string | undefined {
  if (/^\d+\.\d+(\.\d+)?$/.test(channel)) return channel;
  if (channel === "stable") return "1";
  return undefined;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}
