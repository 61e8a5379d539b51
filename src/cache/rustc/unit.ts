/**
 * A rustc invocation as a unit of the build journal: its name, package, and the crates it links.
 * A clippy-driver run is named so: `app (clippy)`.
 */
import { basename } from "node:path";
import type { UnitInfo } from "../engine/journal.ts";
import type { RustcInvocation } from "./args.ts";

export function rustcUnit(
  inv: RustcInvocation,
  env: Record<string, string | undefined>,
  clippy = false,
): UnitInfo {
  const crate = inv.crateName ?? "?";
  const pkgName = env.CARGO_PKG_NAME;
  let name = pkgName && pkgName.replace(/-/g, "_") === crate ? pkgName : crate;
  if (crate.startsWith("build_script_")) name = `${pkgName ?? crate} (build script)`;
  else if (inv.crateTypes.includes("bin")) name = `${name} (bin)`;
  if (clippy) name = `${name} (clippy)`;
  const unit: UnitInfo = { kind: "rustc", name, id: `${crate}${inv.extraFilename}` };
  if (pkgName) unit.pkg = `${pkgName}@${env.CARGO_PKG_VERSION ?? ""}`;
  const deps = inv.externs.flatMap((e) => (e.path ? [externId(e.path)] : []));
  if (deps.length > 0) unit.deps = deps;
  return unit;
}

/** `…/deps/libserde-1a2b.rmeta` -> `serde-1a2b`: the id of the unit that wrote it. */
function externId(path: string): string {
  return basename(path)
    .replace(/^lib/, "")
    .replace(/\.(rlib|rmeta|so|dylib|dll)$/, "");
}
