/**
 * What a build script told cargo (`cargo:KEY=VALUE` and `cargo::KEY=VALUE` lines on stdout): the
 * inputs it declared, and whether its result may be restored elsewhere. A script whose directives
 * name paths outside its OUT_DIR and its package found something on this system (pkg-config,
 * a system library): its run is never restored.
 */
import { isAbsolute, resolve } from "node:path";
import { isWithin } from "../engine/path-tokens.ts";

export interface Directives {
  rerunIfChanged: string[];
  rerunIfEnvChanged: string[];
  /** Why the run must not be restored, if it must not. */
  unrestorable?: string;
}

/**
 * Variables of system probes: the pkg-config and vcpkg crates declare them when they probe. (A
 * switch such as LIBSQLITE3_SYS_USE_PKG_CONFIG is an ordinary declared variable, keyed by value:
 * when it turns probing on, the probe declares these.)
 */
const PROBE_VARS = /^(PKG_CONFIG|VCPKG)/;

export function parseDirectives(stdout: string, outDir: string, manifestDir: string): Directives {
  const d: Directives = { rerunIfChanged: [], rerunIfEnvChanged: [] };
  const refuse = (why: string) => {
    d.unrestorable ??= why;
  };
  for (const line of stdout.split("\n")) {
    const m = /^cargo::?([A-Za-z0-9_.-]+)=(.*)$/.exec(line.trimEnd());
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
    if (key === "warning" || key === "error") continue;
    if (key === "rerun-if-changed") {
      d.rerunIfChanged.push(value);
      const abs = resolve(manifestDir, value);
      if (!isWithin(abs, outDir) && !isWithin(abs, manifestDir))
        refuse(`watches a file outside OUT_DIR and its package (${value})`);
    }
    if (key === "rerun-if-env-changed") {
      d.rerunIfEnvChanged.push(value);
      if (PROBE_VARS.test(value)) refuse(`probes the system (declares ${value})`);
    }
    for (const p of pathsIn(value)) {
      const abs = resolve(manifestDir, p);
      if (!isWithin(abs, outDir) && !isWithin(abs, manifestDir))
        refuse(`points outside OUT_DIR and its package (cargo:${key}=${value})`);
    }
  }
  return d;
}

/** Absolute paths in a directive's value: `native=/x`, `-L/x`, `-Wl,-rpath,/x`, `K=/x`. */
function pathsIn(value: string): string[] {
  const out: string[] = [];
  for (const piece of value.split(/[\s=,;:]+/)) {
    const p = piece.replace(/^-[LIl]/, "");
    if (isAbsolute(p)) out.push(p);
  }
  return out;
}
