/**
 * cargo runs build scripts itself, never through RUSTC_WRAPPER; but galley compiles them. So the
 * binary galley leaves where cargo expects the build script is a small launcher: the real binary
 * sits beside it (`<name>.real`), and the launcher runs it through galley (which looks the run up,
 * and lets cc-rs send its C compiles to galley), or directly when galley is gone.
 */
import { chmodSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { RustcInvocation } from "../rustc/args.ts";

export const REAL_SUFFIX = ".real";
/** The first argument galley gets from a launcher. */
export const LAUNCH_FLAG = "--galley-build-script";

/** A build script's compile: crate `build_script_<file stem>`, written into `build/<pkg>-<hash>/`. */
export function isBuildScriptCompile(inv: RustcInvocation): boolean {
  return (
    inv.crateName?.startsWith("build_script_") === true &&
    inv.outDir !== undefined &&
    basename(dirname(resolve(inv.outDir))) === "build" &&
    inv.crateTypes.length === 1 &&
    inv.crateTypes[0] === "bin" &&
    inv.emit.includes("link")
  );
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Moves the compiled build script aside and writes the launcher in its place. False (and the
 * binary left where it was) when that cannot be done.
 */
export function installLauncher(outDir: string, binName: string, galley: string): boolean {
  const bin = join(outDir, binName);
  const real = `${bin}${REAL_SUFFIX}`;
  try {
    rmSync(real, { force: true });
    renameSync(bin, real);
  } catch {
    return false;
  }
  const script = [
    "#!/bin/sh",
    "# Written by galley (RUSTC_WRAPPER): runs the build script beside this file through galley's cache.",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
    'case "$0" in */*) d="${0%/*}" ;; *) d=. ;; esac',
    `real="$d/${binName}${REAL_SUFFIX}"`,
    `if [ -x ${quote(galley)} ]; then exec ${quote(galley)} ${LAUNCH_FLAG} "$real" "$@"; fi`,
    'exec "$real" "$@"',
    "",
  ].join("\n");
  try {
    writeFileSync(bin, script, { mode: 0o755 });
    chmodSync(bin, 0o755);
    return true;
  } catch {
    rmSync(bin, { force: true });
    renameSync(real, bin);
    return false;
  }
}
