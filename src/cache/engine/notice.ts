/**
 * "Said once per build": a cache problem is reported on stderr by the first wrapper process of a
 * build (see build-id.ts for what one build is), not once per crate.
 */
import { closeSync, mkdirSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeAllSync } from "../../util/write-sync.ts";
import { currentBuild } from "./build-id.ts";

let quiet = false;

/**
 * For a process whose stderr nobody reads (cargo keeps a `rustc -vV` probe's to itself): it says
 * nothing and claims nothing, so the next process of the build that meets the problem says it.
 */
export function beQuiet(): void {
  quiet = true;
}

export function isQuiet(): boolean {
  return quiet;
}

export function noticeOnce(topic: string, message: string): void {
  if (quiet) return;
  const dir = join(tmpdir(), `galley-notices-${process.getuid?.() ?? 0}`);
  try {
    mkdirSync(dir, { recursive: true });
    // O_EXCL: exactly one process of this build creates the marker and speaks.
    closeSync(openSync(join(dir, `${currentBuild().id}-${topic}`), "wx"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return;
  }
  writeAllSync(2, `galley: warning: ${message}\n`);
}
