/**
 * The clippy configuration file a clippy-driver run reads, found as clippy finds it: from
 * CLIPPY_CONF_DIR, else CARGO_MANIFEST_DIR, else the working directory, made canonical, then up
 * through its parents; in each directory `.clippy.toml` comes before `clippy.toml`, the first
 * directory holding either ends the walk (with both, clippy reads the first and warns of the other).
 * clippy reports the file it read in dep-info, but a file created where none was, or closer than
 * the one read, only this walk can see.
 */
import { realpathSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const NAMES = [".clippy.toml", "clippy.toml"];

/** The configuration files of the first directory that holds any, as canonical paths (none: empty). */
export function clippyConfFiles(env: Record<string, string | undefined>, cwd: string): string[] {
  let dir: string;
  try {
    dir = realpathSync(resolve(cwd, env.CLIPPY_CONF_DIR ?? env.CARGO_MANIFEST_DIR ?? "."));
  } catch {
    // clippy then fails to start its lints with an error; such a run is never stored.
    return [];
  }
  for (;;) {
    const found = NAMES.flatMap((name) => {
      const file = canonicalFile(join(dir, name));
      return file ? [file] : [];
    });
    if (found.length > 0) return found;
    const parent = dirname(dir);
    if (parent === dir) return [];
    dir = parent;
  }
}

/** The file's canonical path when it exists and is not a directory (what clippy accepts). */
function canonicalFile(path: string): string | undefined {
  try {
    const real = realpathSync(path);
    return statSync(real).isDirectory() ? undefined : real;
  } catch {
    return undefined;
  }
}
