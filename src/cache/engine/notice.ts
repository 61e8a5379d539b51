/**
 * "Said once per build": a cache problem is reported on stderr by the first wrapper process of a
 * build (see build-id.ts for what one build is), not once per crate.
 */
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
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

const noticesDir = () => join(tmpdir(), `galley-notices-${process.getuid?.() ?? 0}`);
/** What a quiet process met, for the next process of the build that can speak to say. */
const deferredFile = () => join(noticesDir(), `${currentBuild().id}-deferred`);

export function noticeOnce(topic: string, message: string): void {
  if (quiet) {
    defer(topic, message);
    return;
  }
  const dir = noticesDir();
  try {
    mkdirSync(dir, { recursive: true });
    // O_EXCL: exactly one process of this build creates the marker and speaks.
    closeSync(openSync(join(dir, `${currentBuild().id}-${topic}`), "wx"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return;
  }
  writeAllSync(2, `galley: warning: ${message}\n`);
}

function defer(topic: string, message: string): void {
  try {
    mkdirSync(noticesDir(), { recursive: true });
    appendFileSync(deferredFile(), `${topic}\t${message.replace(/\n/g, " ")}\n`);
  } catch {}
}

/** Says, once each, what a quiet process of this build (the prefill probe) met. */
export function sayDeferred(): void {
  if (quiet) return;
  const file = deferredFile();
  if (!existsSync(file)) return;
  let text = "";
  try {
    text = readFileSync(file, "utf8");
    rmSync(file, { force: true });
  } catch {}
  for (const line of text.split("\n")) {
    const tab = line.indexOf("\t");
    if (tab > 0) noticeOnce(line.slice(0, tab), line.slice(tab + 1));
  }
}
