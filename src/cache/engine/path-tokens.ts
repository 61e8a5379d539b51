/**
 * Paths that vary between builds (the target directory, and in portable mode the checkout and the
 * cargo home) written as tokens where they must not reach a key, and expanded back where a real
 * path is needed. A token replaces a whole path only: `/w/target` does not match `/w/target2`.
 */
import { basename, dirname } from "node:path";

export interface PathToken {
  token: string;
  path: string;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Every occurrence of a token's path (longest path first) replaced by its token. */
export function tokenize(value: string, tokens: PathToken[]): string {
  let out = value;
  for (const t of [...tokens].sort((a, b) => b.path.length - a.path.length)) {
    if (t.path === "" || t.path === "/") continue;
    out = out.replace(new RegExp(`${escapeRe(t.path)}(?=/|$|[^A-Za-z0-9._+-])`, "g"), t.token);
  }
  return out;
}

export function expand(value: string, tokens: PathToken[]): string {
  let out = value;
  for (const t of tokens) out = out.split(t.token).join(t.path);
  return out;
}

/** True when `path` is `dir` or inside it. */
export function isWithin(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
}

/**
 * The profile directory (`target/release`, `target/<triple>/debug`) of a directory cargo writes
 * into: `deps/`, `examples/`, or `build/<pkg>-<hash>[/out]`. Undefined for anything else.
 */
export function profileDirOf(dir: string): string | undefined {
  const name = basename(dir);
  if (name === "deps" || name === "examples") return dirname(dir);
  if (name === "out" && basename(dirname(dirname(dir))) === "build") return dirname(dirname(dirname(dir)));
  if (basename(dirname(dir)) === "build") return dirname(dirname(dir));
  return undefined;
}
