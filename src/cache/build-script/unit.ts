/** A build script's run as a unit of stats and the build journal: its label and its name. */
import type { UnitInfo } from "../engine/journal.ts";

export const BUILD_SCRIPT_LABEL = "build_script:";

/** The stats label of a package's build-script run (`build_script:<package, with _>`). */
export const buildScriptLabel = (pkg: string): string => `${BUILD_SCRIPT_LABEL}${pkg.replace(/-/g, "_")}`;

/** The run as a journal unit; `version` when known (a prefilled run has only its label). */
export function buildScriptUnit(pkg: string, version?: string): UnitInfo {
  const unit: UnitInfo = { kind: "build-script", name: `${pkg} (build script run)` };
  if (version !== undefined) unit.pkg = `${pkg}@${version}`;
  return unit;
}
