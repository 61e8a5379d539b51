/**
 * "Said once per build": a cache problem is reported on stderr by the first wrapper process of a
 * build (processes of one build share cargo as their parent), not once per crate.
 */
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeAllSync } from "../../util/write-sync.ts";

export function noticeOnce(topic: string, message: string): void {
  const dir = join(tmpdir(), `galley-notices-${process.getuid?.() ?? 0}`);
  try {
    mkdirSync(dir, { recursive: true });
    // O_EXCL: exactly one process of this build creates the marker and speaks.
    closeSync(openSync(join(dir, `${buildId()}-${topic}`), "wx"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return;
  }
  writeAllSync(2, `galley: warning: ${message}\n`);
}

/** The parent (cargo) process's pid and start time: pids are reused, start times make them unique. */
function buildId(): string {
  try {
    const stat = readFileSync(`/proc/${process.ppid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return `${process.ppid}-${fields[19] ?? ""}`;
  } catch {
    return String(process.ppid);
  }
}
