/**
 * Writes a recipe's skeleton into a directory without losing user data: a Rust source whose
 * content differs from its dummy is never overwritten (unless forced), and every file the
 * skeleton replaces or adds is put back as it was by `restore()`.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { RefusedError } from "../errors.ts";
import { dummySource } from "./dummy.ts";
import type { Recipe } from "./recipe.ts";

export interface SkeletonOptions {
  noStd: boolean;
  force: boolean;
}

export interface WrittenSkeleton {
  /** Put back every replaced file and remove every added file and directory. */
  restore(): void;
}

const BACKUP_SUFFIX = ".galley-orig";

export function writeSkeleton(dir: string, recipe: Recipe, opts: SkeletonOptions): WrittenSkeleton {
  const writes: { path: string; contents: Buffer; source: boolean }[] = [
    ...recipe.files.map((f) => ({
      path: f.path,
      contents: Buffer.from(f.contents, f.encoding === "base64" ? "base64" : "utf8"),
      // The real sources of a patched package are protected like the places of dummies.
      source: f.kind === "source",
    })),
    ...recipe.sources.map((s) => ({
      path: s.path,
      contents: Buffer.from(dummySource(s.kind, opts.noStd)),
      source: true,
    })),
  ];

  const conflicts = writes.filter(
    (w) => w.source && existsSync(join(dir, w.path)) && !readFileSync(join(dir, w.path)).equals(w.contents),
  );
  if (conflicts.length > 0 && !opts.force) {
    throw new RefusedError(
      `cook would overwrite Rust sources that differ from its dummies:\n  ${conflicts.map((c) => c.path).join("\n  ")}`,
      "run cook where only the recipe (and manifests) are, or pass --force to overwrite them",
    );
  }

  const created: string[] = [];
  const createdDirs: string[] = [];
  const replaced: string[] = [];
  const ensureDir = (d: string) => {
    const missing: string[] = [];
    for (let cur = d; !existsSync(cur); cur = dirname(cur)) missing.push(cur);
    if (missing.length === 0) return;
    mkdirSync(d, { recursive: true });
    createdDirs.push(...missing); // deepest first
  };
  const restore = () => {
    // Emptied as it goes, so that a second call (after an interruption) does nothing.
    for (const p of created.splice(0)) rmSync(p, { force: true });
    for (const p of replaced.splice(0)) renameSync(`${p}${BACKUP_SUFFIX}`, p);
    // Deepest first: a directory created for one file can hold one created for a later file.
    for (const d of createdDirs.splice(0).sort((a, b) => b.length - a.length)) {
      try {
        rmdirSync(d);
      } catch {
        // not empty: cargo or the user put something there; leave it
      }
    }
  };
  try {
    for (const w of writes) {
      const target = join(dir, w.path);
      ensureDir(dirname(target));
      if (existsSync(target)) {
        if (readFileSync(target).equals(w.contents)) continue;
        if (lstatSync(target).isDirectory())
          throw new RefusedError(`${w.path} is a directory; the recipe has a file there`);
        if (existsSync(`${target}${BACKUP_SUFFIX}`)) {
          throw new RefusedError(
            `${w.path}${BACKUP_SUFFIX} exists: an earlier cook was interrupted`,
            `move ${w.path}${BACKUP_SUFFIX} back to ${w.path} (it is the original) and re-run`,
          );
        }
        renameSync(target, `${target}${BACKUP_SUFFIX}`);
        replaced.push(target);
      } else created.push(target);
      writeFileSync(target, w.contents);
    }
  } catch (err) {
    restore();
    throw err;
  }
  return { restore };
}
