/**
 * The identity of a build script's package sources. A registry package cannot change under its
 * checksum (the `.crate` file cargo downloaded, whose SHA-256 is the checksum in Cargo.lock), nor a
 * vendored one (cargo verifies it against `.cargo-checksum.json`). Workspace packages change all the
 * time: their runs are cached only when the user opts in, keyed on every file of the package.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { sha256Hex } from "../engine/digest.ts";
import type { FileDigests } from "../engine/file-digest.ts";

export type PackageSource =
  | { kind: "registry" | "vendored" | "workspace"; identity: string }
  | { kind: "refused"; reason: string };

export const WORKSPACE_OPT_IN = "GALLEY_CACHE_WORKSPACE_BUILD_SCRIPTS";

/** A registry package's source dir (`<cargo home>/registry/src/<index>/<name>-<version>`), taken apart. */
export function registryPackageOf(
  manifestDir: string,
): { home: string; index: string; pkg: string } | undefined {
  const m = /^(.*)\/registry\/src\/([^/]+)\/([^/]+)$/.exec(manifestDir);
  return m ? { home: m[1]!, index: m[2]!, pkg: m[3]! } : undefined;
}

export function packageSourceOf(
  manifestDir: string,
  env: Record<string, string | undefined>,
  digests: FileDigests,
): PackageSource {
  const registry = registryPackageOf(manifestDir);
  if (registry) {
    const { home, index, pkg } = registry;
    const crate = digests.digest(join(home, "registry", "cache", index, `${pkg}.crate`));
    if (!crate) return { kind: "refused", reason: "registry package without its .crate file" };
    return { kind: "registry", identity: `crate:${crate}` };
  }
  if (/\/git\/checkouts\//.test(manifestDir)) return { kind: "refused", reason: "git package" };
  const vendored = vendoredChecksum(manifestDir, digests);
  if (vendored) return { kind: "vendored", identity: vendored };
  if (env[WORKSPACE_OPT_IN] !== "1")
    return { kind: "refused", reason: `workspace package (${WORKSPACE_OPT_IN}=1 caches it)` };
  return { kind: "workspace", identity: `tree:${treeDigest(manifestDir, digests)}` };
}

function vendoredChecksum(manifestDir: string, digests: FileDigests): string | undefined {
  const file = join(manifestDir, ".cargo-checksum.json");
  if (!existsSync(file)) return undefined;
  try {
    const json = JSON.parse(readFileSync(file, "utf8")) as { package?: unknown };
    if (typeof json.package !== "string") return undefined;
    return `vendored:${json.package}:${digests.digest(file)}`;
  } catch {
    return undefined;
  }
}

/** Every file of the package (not `target/`, hidden directories or nested packages), by relative path. */
function treeDigest(root: string, digests: FileDigests): string {
  const lines: string[] = [];
  const walk = (dir: string) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name.startsWith(".") || (dir === root && e.name === "target")) continue;
        if (existsSync(join(path, "Cargo.toml"))) continue;
        walk(path);
      } else if (e.isFile() || e.isSymbolicLink())
        lines.push(`${relative(root, path)}\0${digests.digest(path) ?? "not a file"}`);
    }
  };
  walk(root);
  return sha256Hex(lines.join("\n"));
}
