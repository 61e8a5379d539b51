/** Path helpers: recipes store forward-slash paths relative to the workspace root. */
import { existsSync, statSync } from "node:fs";
import { isAbsolute, join, normalize, relative, sep } from "node:path";

export function toPosix(p: string): string {
  return sep === "/" ? p : p.split(sep).join("/");
}

/** `a/./b/../c` -> `a/c`, `` -> `.`; forward slashes. */
export function cleanRel(p: string): string {
  const n = toPosix(normalize(p.replace(/\\/g, "/")));
  const trimmed = n.replace(/\/+$/, "");
  return trimmed === "" ? "." : trimmed;
}

export function relPosix(from: string, to: string): string {
  return cleanRel(relative(from, to) || ".");
}

/** Join a relative directory and a path inside it, as a clean relative path. */
export function joinRel(dir: string, p: string): string {
  return cleanRel(dir === "." ? p : `${dir}/${p}`);
}

export function isInside(child: string, parent: string): boolean {
  const r = relative(parent, child);
  return r === "" || (!r.startsWith("..") && !isAbsolute(r));
}

export function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export { existsSync, join };
