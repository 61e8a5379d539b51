/**
 * The build context of a generated Dockerfile: the project itself, or, when local packages lie
 * outside it (`path = "../../shared-lib"`), the nearest directory that holds them all, with the
 * project's layout kept below it.
 */
import { dirname, sep } from "node:path";
import { isInside, relPosix } from "../../cargo/paths.ts";
import { InputError } from "../../errors.ts";
import type { ContextLayout } from "./render.ts";

export interface ChosenContext {
  /** Absolute directory of the build context. */
  dir: string;
  layout: ContextLayout;
}

/**
 * The context for a project at `root` (where the Dockerfile goes) whose local packages outside it
 * are `outside`: `wanted` (from `--context`) when given and it holds them all, else the nearest
 * common directory.
 */
export function chooseContext(root: string, outside: string[], wanted: string | undefined): ChosenContext {
  const needed = [root, ...outside];
  let dir: string;
  if (wanted !== undefined) {
    const missing = needed.filter((d) => !isInside(d, wanted));
    if (missing.length > 0) {
      throw new InputError(
        `--context ${wanted}: does not hold ${missing.join(", ")}`,
        outside.length > 0
          ? `the build needs the project and its local packages outside it; try --context ${commonDir(needed)}`
          : "the build context must hold the project",
      );
    }
    dir = wanted;
  } else {
    dir = commonDir(needed);
  }
  if (dir === root) return { dir, layout: { dir: ".", project: ".", copies: ["."] } };
  const project = relPosix(dir, root);
  // Each directory once, none inside another; the project first.
  const all = [...new Set([project, ...outside.map((d) => relPosix(dir, d)).sort()])];
  const copies = all.filter((d) => !all.some((o) => o !== d && isUnder(d, o)));
  return { dir, layout: { dir: relPosix(root, dir), project, copies } };
}

/** The nearest directory holding every one of `dirs` (absolute). */
function commonDir(dirs: string[]): string {
  let common = dirs[0]!;
  while (!dirs.every((d) => isInside(d, common))) {
    const parent = dirname(common);
    if (parent === common) return sep;
    common = parent;
  }
  return common;
}

function isUnder(rel: string, prefix: string): boolean {
  return rel === prefix || rel.startsWith(`${prefix}/`);
}
