/**
 * Directory globs as cargo's `workspace.members` uses them (`*`, `?`, `[...]`, `**`), expanded
 * against the file system. Only directories are returned, sorted, relative to `base`.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";

export function hasGlobMeta(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

export function expandDirGlob(base: string, pattern: string): string[] {
  const segments = pattern.split("/").filter((s) => s !== "" && s !== ".");
  const out = new Set<string>();
  walk(base, "", segments, out);
  return [...out].sort();
}

function walk(base: string, rel: string, segments: string[], out: Set<string>): void {
  if (segments.length === 0) {
    out.add(rel === "" ? "." : rel);
    return;
  }
  const [head, ...tail] = segments as [string, ...string[]];
  if (head === "**") {
    walk(base, rel, tail, out);
    for (const d of subdirs(join(base, rel))) walk(base, rel ? `${rel}/${d}` : d, segments, out);
    return;
  }
  if (!hasGlobMeta(head)) {
    walk(base, rel ? `${rel}/${head}` : head, tail, out);
    return;
  }
  const re = segmentRegExp(head);
  for (const d of subdirs(join(base, rel))) if (re.test(d)) walk(base, rel ? `${rel}/${d}` : d, tail, out);
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() || e.isSymbolicLink())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

function segmentRegExp(segment: string): RegExp {
  let re = "^";
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const close = segment.indexOf("]", i + 2);
      if (close === -1) re += "\\[";
      else {
        let body = segment.slice(i + 1, close);
        if (body.startsWith("!")) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, "\\\\")}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  // Like the glob crate cargo uses: a leading dot is matched only by a literal dot.
  if (!segment.startsWith(".")) re = `^(?!\\.)${re.slice(1)}`;
  return new RegExp(`${re}$`);
}
