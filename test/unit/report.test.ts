/** The report's model of a build (lanes, critical path, totals), its text forms, and CI cache keys. */
import { describe, expect, test } from "bun:test";
import type { Journal, JournalEntry } from "../../src/cache/engine/journal.ts";
import { ciKey, githubOutput } from "../../src/ci/cache-key.ts";
import { buildView, missReason } from "../../src/report/build-view.ts";
import { renderReport } from "../../src/report/html.ts";
import { oneLine, summaryMarkdown, textTimeline } from "../../src/report/summary.ts";

const T = 1_000_000;
function unit(name: string, start: number, end: number, more: Partial<JournalEntry> = {}): JournalEntry {
  return { kind: "rustc", name, id: `${name}-h`, start: T + start, end: T + end, outcome: "hit", ...more };
}

/** a and b in parallel; c links both; d is unrelated and ends before c; e links c. */
const journal: Journal = {
  id: "b1",
  mtimeMs: T,
  header: { type: "build", id: "b1", started: T, argv: ["/usr/bin/cargo", "build", "--release"] },
  entries: [
    unit("a", 0, 100, { compileMs: 900, restoreMs: 10 }),
    unit("b", 10, 300, { outcome: "miss", why: ["a source file or env var changed", "~ file:b.rs: 1 -> 2"] }),
    unit("d", 120, 250),
    unit("c", 310, 400, { deps: ["a-h", "b-h"], outcome: "passthrough", reason: "incremental" }),
    unit("e", 410, 900, {
      deps: ["c-h"],
      outcome: "miss",
      why: ["no entry for these arguments and inputs", "~ args: 1 -> 2", "+ extern:x (new: 3)"],
    }),
  ],
};

describe("buildView", () => {
  const v = buildView(journal);
  test("lanes: units that overlap in time never share one", () => {
    for (const x of v.units)
      for (const y of v.units)
        if (x !== y && x.lane === y.lane) expect(x.end <= y.start || y.end <= x.start).toBe(true);
    expect(v.lanes).toBe(2);
  });
  test("the critical path walks back through the dependency that ended last", () => {
    expect(v.criticalPath.map((u) => u.name)).toEqual(["b", "c", "e"]);
    expect(
      v.units
        .filter((u) => u.critical)
        .map((u) => u.name)
        .sort(),
    ).toEqual(["b", "c", "e"]);
  });
  test("totals and misses, most expensive first", () => {
    expect(v.totals).toMatchObject({
      units: 5,
      hits: 2,
      misses: 2,
      passthroughs: 1,
      errors: 0,
      savedMs: 890,
    });
    expect(v.misses.map((u) => u.name)).toEqual(["e", "b"]);
    expect(v.end - v.start).toBe(900);
  });
  test("a miss's reason is the first key part that changed", () => {
    expect(missReason(v.misses[0]!)).toBe("~ args: 1 -> 2 (+1 more)");
    expect(missReason(v.misses[1]!)).toBe("~ file:b.rs: 1 -> 2");
    expect(missReason({ ...v.misses[1]!, why: ["x", "nothing of this crate was stored before"] })).toBe(
      "nothing of this crate was stored before",
    );
  });
});

describe("texts", () => {
  const v = buildView(journal);
  test("one line for a build log", () => {
    expect(oneLine(v)).toBe(
      "galley: 5 units, 2 hits, 2 misses, 1 passed through; 890 ms saved; top miss: e 490 ms: ~ args: 1 -> 2 (+1 more)",
    );
  });
  test("a text timeline draws each unit at its time, in its outcome's character", () => {
    const lines = textTimeline(v);
    expect(lines[0]).toStartWith("cargo build --release: 900 ms, 5 units");
    const row = (name: string) => lines.find((l) => l.startsWith(`${name} `))!.split("|")[1]!;
    expect(row("a")).toMatch(/^=+ +$/);
    expect(row("e")).toMatch(/^ +#+$/);
    expect(row("c")).toMatch(/^ +-+ +$/);
    expect(row("e").indexOf("#")).toBeGreaterThan(row("c").indexOf("-"));
  });
  test("the Markdown summary escapes table cells", () => {
    const piped = buildView({
      ...journal,
      entries: [unit("p|q", 0, 10, { outcome: "error", reason: "EACCES | denied" })],
    });
    expect(summaryMarkdown([piped])).toContain("| p\\|q | 10 ms | error: EACCES \\| denied |");
    expect(summaryMarkdown([])).toContain("No build was journaled");
  });
  test("the page escapes what the journal says", () => {
    const html = renderReport(buildView({ ...journal, entries: [unit('<img src=x onerror="y">', 0, 10)] }));
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;img src=x");
  });
});

describe("ci key", () => {
  const base = {
    prefix: "galley-v1",
    rustcVersion: "rustc 1.95.0\nhost: x86_64-unknown-linux-gnu\n",
    targets: [],
    lockfile: "lock",
    recipe: "recipe",
    job: "build",
  };
  const k = ciKey(base);
  test("the key ends with the inputs; restore keys drop the inputs, then the job", () => {
    expect(k.key).toMatch(/^galley-v1-[0-9a-f]{16}-build-[0-9a-f]{16}$/);
    const [byJob, byToolchain] = k.restoreKeys;
    expect(k.key.startsWith(byJob!)).toBe(true);
    expect(byJob!.startsWith(byToolchain!)).toBe(true);
    expect(byJob).toEndWith("-build-");
  });
  test("each input changes what it should", () => {
    for (const change of [{ lockfile: "lock2" }, { recipe: "recipe2" }]) {
      const other = ciKey({ ...base, ...change });
      expect(other.key).not.toBe(k.key);
      expect(other.restoreKeys).toEqual(k.restoreKeys);
    }
    const job = ciKey({ ...base, job: "test matrix (1)" });
    expect(job.restoreKeys[1]).toBe(k.restoreKeys[1]!);
    expect(job.restoreKeys[0]).toEndWith("-test_matrix_1_-");
    for (const change of [
      { rustcVersion: "rustc 1.96.0\nhost: x86_64-unknown-linux-gnu\n" },
      { targets: ["aarch64-unknown-linux-gnu"] },
    ])
      expect(ciKey({ ...base, ...change }).restoreKeys[1]).not.toBe(k.restoreKeys[1]!);
    expect(ciKey({ ...base, targets: ["x86_64-unknown-linux-gnu"] }).key).toBe(k.key);
  });
  test("printed for $GITHUB_OUTPUT", () => {
    expect(githubOutput(k)).toBe(
      `key=${k.key}\nrestore-keys<<GALLEY_RESTORE_KEYS\n${k.restoreKeys.join("\n")}\nGALLEY_RESTORE_KEYS\n`,
    );
  });
});
