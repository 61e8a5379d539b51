/**
 * The recipe: everything that determines a project's dependency build, and nothing else.
 * Serialised as canonical JSON (sorted entries, fixed key order) so that equal inputs give
 * byte-identical files and Docker can cache the layer that holds it.
 */
import { InputError } from "../errors.ts";

export const RECIPE_SCHEMA = "galley-recipe/1";

export type DummyKind = "lib" | "main" | "harness" | "build";

export interface RecipeFile {
  /** Relative to the workspace root, forward slashes; may start with `../` for outside packages. */
  path: string;
  /** `source`: a real source file of a package that [patch]/[replace] points at. */
  kind: "manifest" | "lockfile" | "config" | "toolchain" | "source";
  contents: string;
  /** Set for a file that is not UTF-8 text. */
  encoding?: "base64";
}

export interface DummySource {
  path: string;
  kind: DummyKind;
}

export interface Recipe {
  schema: typeof RECIPE_SCHEMA;
  files: RecipeFile[];
  sources: DummySource[];
  /**
   * Directories of packages shipped with their real sources: [patch]/[replace] targets that
   * registry or git crates in Cargo.lock depend on, so a dummy would not do. Their units survive
   * the cook.
   */
  real: string[];
  /**
   * Set by `prepare --bin`: members were left out, and Cargo.lock keeps what the kept ones reach.
   * Features the left-out members turned on may have reached more, which cargo then trims.
   */
  pruned?: boolean;
}

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

export function serializeRecipe(recipe: Recipe): string {
  const canonical = {
    schema: recipe.schema,
    files: [...recipe.files].sort(byPath).map((f) => ({
      path: f.path,
      kind: f.kind,
      contents: f.contents,
      ...(f.encoding ? { encoding: f.encoding } : {}),
    })),
    sources: [...recipe.sources].sort(byPath).map((s) => ({ path: s.path, kind: s.kind })),
    real: [...recipe.real].sort(),
    ...(recipe.pruned ? { pruned: true } : {}),
  };
  return `${JSON.stringify(canonical, null, 2)}\n`;
}

const FILE_KINDS = new Set(["manifest", "lockfile", "config", "toolchain", "source"]);
const DUMMY_KINDS = new Set(["lib", "main", "harness", "build"]);

export function parseRecipe(text: string, where: string): Recipe {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new InputError(
      `${where}: not a galley recipe (invalid JSON: ${(err as Error).message})`,
      "re-run galley prepare",
    );
  }
  const obj = data as Partial<Record<keyof Recipe, unknown>> | null;
  if (typeof obj !== "object" || obj === null || typeof obj.schema !== "string") {
    throw new InputError(
      `${where}: not a galley recipe (no "schema" field)`,
      "re-run galley prepare to write one",
    );
  }
  if (obj.schema !== RECIPE_SCHEMA) {
    throw new InputError(
      `${where}: recipe schema "${obj.schema}" is not one this galley reads (it reads "${RECIPE_SCHEMA}")`,
      "prepare and cook with the same galley version",
    );
  }
  const files = Array.isArray(obj.files) ? obj.files : undefined;
  const sources = Array.isArray(obj.sources) ? obj.sources : undefined;
  if (!files || !sources) throw new InputError(`${where}: recipe is missing "files" or "sources"`);
  for (const f of files) {
    if (
      typeof f?.path !== "string" ||
      typeof f.contents !== "string" ||
      !FILE_KINDS.has(f.kind) ||
      (f.encoding !== undefined && f.encoding !== "base64") ||
      !safeRelative(f.path)
    ) {
      throw new InputError(`${where}: recipe has an invalid file entry ${JSON.stringify(f?.path ?? f)}`);
    }
  }
  for (const s of sources) {
    if (typeof s?.path !== "string" || !DUMMY_KINDS.has(s.kind) || !safeRelative(s.path)) {
      throw new InputError(`${where}: recipe has an invalid source entry ${JSON.stringify(s?.path ?? s)}`);
    }
  }
  const real = obj.real === undefined ? [] : obj.real;
  if (!Array.isArray(real) || real.some((d) => typeof d !== "string" || (d !== "." && !safeRelative(d)))) {
    throw new InputError(`${where}: recipe has an invalid "real" list`);
  }
  if (obj.pruned !== undefined && typeof obj.pruned !== "boolean") {
    throw new InputError(`${where}: recipe has an invalid "pruned" flag`);
  }
  return {
    schema: RECIPE_SCHEMA,
    files: files as RecipeFile[],
    sources: sources as DummySource[],
    real: real as string[],
    ...(obj.pruned ? { pruned: true } : {}),
  };
}

/** Relative, forward slashes; `..` only as leading segments (outside packages keep their place). */
function safeRelative(p: string): boolean {
  if (p === "" || p.startsWith("/") || p.includes("\\") || p.includes("\0")) return false;
  const parts = p.split("/");
  let leading = true;
  for (const part of parts) {
    if (part === "..") {
      if (!leading) return false;
    } else {
      leading = false;
      if (part === "" || part === ".") return false;
    }
  }
  return !leading;
}
