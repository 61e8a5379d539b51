/**
 * What the build journal adds to a wrapper process, measured in-process: finding the build (reading
 * /proc for the parent and, for C compiles, the grandparent) happens once per process; appending the
 * unit's line once per process. Compare with bench/hit-latency.ts's whole-process numbers.
 *
 *   ./node_modules/.bin/bun bench/journal-cost.ts [--runs 2000]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { processId, processInfo } from "../src/cache/engine/build-id.ts";
import { describeUnit, journalEvent } from "../src/cache/engine/journal.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "2000" } } });
const runs = Number(values.runs);
const dir = mkdtempSync(join(tmpdir(), "galley-bench-journal-"));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = (f: () => void) => {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    f();
    xs.push(performance.now() - t);
  }
  return median(xs) * 1000;
};
try {
  const find = time(() => {
    const p = processInfo(process.ppid)!;
    processInfo(p.ppid);
    processId(p);
  });
  describeUnit({
    kind: "rustc",
    name: "serde",
    id: "serde-0123456789abcdef",
    pkg: "serde@1.0.0",
    deps: ["a-1", "b-2"],
  });
  journalEvent(dir, { outcome: "hit" }); // creates the journal and its header
  const append = time(() =>
    journalEvent(dir, { outcome: "hit", crate: "serde", compileMs: 812, restoreMs: 3, bytesRead: 401_234 }),
  );
  console.log(`finding the build (two /proc/<pid>/stat reads): median ${find.toFixed(1)} µs`);
  console.log(`appending a unit's line to the journal: median ${append.toFixed(1)} µs (${runs} runs)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
