/**
 * The build journal, `galley report` and the CI summaries, from real cargo builds of the cache-ws
 * fixture through galley.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Journal, KEEP_BUILDS, listJournals, readJournal } from "../../src/cache/engine/journal.ts";
import { GALLEY, galley, ok, removeDir, run } from "../helpers.ts";
import { type CacheProject, cacheProject, edit } from "./cache-harness.ts";

const UNIT_NAMES = [
  "app (bin)",
  "app (build script run)",
  "app (build script)",
  "cfg-if",
  "corelib",
  "hello-derive",
  "itoa",
];
/** Built from source: the workspace's build script runs (not cached by default: a passthrough). */
const COMPILED = UNIT_NAMES.filter((n) => n !== "app (build script run)");
const cleanup: string[] = [];
afterAll(() => {
  for (const d of cleanup) removeDir(d);
});

function project(cacheDir?: string): CacheProject {
  const p = cacheProject(cacheDir);
  cleanup.push(join(p.dir, ".."), join(p.cacheDir, ".."));
  return p;
}

function cargoEnv(p: CacheProject): Record<string, string> {
  return { RUSTC_WRAPPER: GALLEY, GALLEY_DIR: p.cacheDir, CARGO_INCREMENTAL: "0" };
}

function build(p: CacheProject): void {
  removeDir(join(p.dir, "target"));
  ok(run(["cargo", "build"], { cwd: p.dir, env: cargoEnv(p) }), "cargo build through galley");
}

function newest(p: CacheProject): Journal {
  const j = readJournal(p.cacheDir, listJournals(p.cacheDir)[0]!.id);
  if (!j) throw new Error("no journal");
  return j;
}

const names = (j: Journal, outcome?: string) =>
  j.entries
    .filter((e) => !outcome || e.outcome === outcome)
    .map((e) => e.name)
    .sort();

describe("the build journal", () => {
  test("one journal per build, one entry per unit with its times, outcome, and why it missed", () => {
    const p = project();
    build(p);
    expect(listJournals(p.cacheDir)).toHaveLength(1);
    const cold = newest(p);
    expect(names(cold)).toEqual(UNIT_NAMES);
    expect(names(cold, "miss")).toEqual(COMPILED);
    expect(names(cold, "passthrough")).toEqual(["app (build script run)"]);
    expect(cold.header?.argv?.slice(-1)).toEqual(["build"]);
    expect(cold.header?.cwd).toBe(p.dir);
    for (const e of cold.entries) expect(e.end).toBeGreaterThanOrEqual(e.start);

    const undo = edit(join(p.dir, "corelib/src/lib.rs"), '"hello from corelib"', '"hello again"');
    try {
      build(p);
    } finally {
      undo();
    }
    expect(listJournals(p.cacheDir)).toHaveLength(2);
    const warm = newest(p);
    expect(names(warm, "miss")).toEqual(["app (bin)", "corelib"]);
    const corelib = warm.entries.find((e) => e.name === "corelib")!;
    expect(corelib.why?.slice(1)).toEqual([
      expect.stringMatching(/^~ file:corelib\/src\/lib.rs: \w+ -> \w+$/),
    ]);
    expect(corelib.why?.[0]).toBe("a source file or env var changed");
    // app links corelib: its arguments were the same, its dependency's content was not.
    const app = warm.entries.find((e) => e.name === "app (bin)")!;
    expect(app.why?.[0]).toBe("no entry for these arguments and inputs");
    expect(app.why?.slice(1).every((l) => l.includes("extern:corelib"))).toBe(true);
    expect(app.deps).toContain(corelib.id!);
    for (const hit of warm.entries.filter((e) => e.outcome === "hit")) {
      // The registry crates were put back before cargo looked (prefill); the rest hit in a wrapper.
      expect(hit.tier).toBe(["itoa", "cfg_if"].includes(hit.name) ? "prefilled" : "local");
      expect(hit.compileMs).toBeGreaterThan(0);
    }
  });

  test("two builds at once on one cache dir keep separate journals", async () => {
    const a = project();
    const b = project(a.cacheDir);
    const procs = [a, b].map((p) =>
      Bun.spawn(["cargo", "build"], {
        cwd: p.dir,
        env: { ...process.env, ...cargoEnv(p) } as Record<string, string>,
        stdout: "ignore",
        stderr: "pipe",
      }),
    );
    expect(await Promise.all(procs.map((x) => x.exited))).toEqual([0, 0]);
    const journals = listJournals(a.cacheDir).map((j) => readJournal(a.cacheDir, j.id)!);
    expect(journals).toHaveLength(2);
    expect(journals.map((j) => j.header?.cwd).sort()).toEqual([a.dir, b.dir].sort());
    for (const j of journals) expect(names(j)).toEqual(UNIT_NAMES);
  });

  test("old journals are pruned when a build starts one, and cache clear removes them", () => {
    const p = project();
    const dir = join(p.cacheDir, "v1", "journal");
    mkdirSync(dir, { recursive: true });
    const old = Date.now() / 1000 - 3600;
    for (let i = 0; i < KEEP_BUILDS + 6; i++) {
      const f = join(dir, `old-${i}.jsonl`);
      writeFileSync(f, '{"type":"build","id":"old"}\n');
      utimesSync(f, old + i, old + i);
    }
    build(p);
    const left = readdirSync(dir);
    expect(left).toHaveLength(KEEP_BUILDS);
    expect(left).not.toContain("old-0.jsonl");
    expect(names(newest(p))).toEqual(UNIT_NAMES);
    ok(galley(["cache", "clear"], { cwd: p.dir, env: { GALLEY_DIR: p.cacheDir } }));
    expect(existsSync(dir)).toBe(false);
  });
});

describe("galley report, stats --summary, --format markdown, --oneline", () => {
  const p = project();
  const env = () => ({ GALLEY_DIR: p.cacheDir });
  let firstId = "";

  test("report writes one self-contained page of the last build", () => {
    build(p);
    firstId = listJournals(p.cacheDir)[0]!.id;
    ok(galley(["stats", "--zero"], { cwd: p.dir, env: env() }));
    const undo = edit(join(p.dir, "corelib/src/lib.rs"), '"hello from corelib"', '"hello again"');
    try {
      build(p);
    } finally {
      undo();
    }
    const out = join(p.dir, "report.html");
    const r = ok(galley(["report", "--out", out], { cwd: p.dir, env: env() }));
    expect(r.stderr).toContain("7 units, 4 hits, 2 misses");
    const html = readFileSync(out, "utf8");
    expect(html.match(/<a class="bar /g)).toHaveLength(7);
    expect(html).toContain("<style>");
    // Nothing is fetched: no external scripts, styles, images or fonts.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/@import|url\(/);
  });

  test("--build picks a build by id or prefix, --list lists them, an unknown one is a clear error", () => {
    const out = join(p.dir, "first.html");
    ok(galley(["report", "--build", firstId.slice(0, 8), "--out", out], { cwd: p.dir, env: env() }));
    expect(readFileSync(out, "utf8").match(/<a class="bar miss/g)).toHaveLength(6);
    const list = ok(galley(["report", "--list"], { cwd: p.dir, env: env() }))
      .stdout.trim()
      .split("\n");
    expect(list).toHaveLength(2);
    expect(list[1]).toStartWith(firstId);
    expect(list[0]).toContain("7 units, 4 hits, 2 misses");
    const bad = galley(["report", "--build", "nope"], { cwd: p.dir, env: env() });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('no build "nope"');
    const empty = galley(["report"], { cwd: p.dir, env: { GALLEY_DIR: join(p.cacheDir, "none") } });
    expect(empty.code).toBe(3);
    expect(empty.stderr).toContain("no build is recorded");
  });

  test("stats --summary appends the builds since --zero to $GITHUB_STEP_SUMMARY", () => {
    const summary = join(p.dir, "step-summary.md");
    writeFileSync(summary, "# earlier step\n");
    ok(galley(["stats", "--summary"], { cwd: p.dir, env: { ...env(), GITHUB_STEP_SUMMARY: summary } }));
    const md = readFileSync(summary, "utf8");
    expect(md).toStartWith("# earlier step\n### galley: compiler cache");
    expect(md).toContain("**4 hits**, **2 misses**");
    expect(md).toContain("of 1 build ");
    expect(md).toMatch(/\| corelib \| [\d.]+ m?s \| ~ file:corelib\/src\/lib.rs: \w+ -> \w+ \|/);
    expect(md).toMatch(/\| app \(bin\) \| [\d.]+ m?s \| ~ extern:corelib/);
    // The text timeline: misses drawn with #, hits with =.
    expect(md).toMatch(/```text\ncargo build: /);
    expect(md).toMatch(/^corelib +\|[ #]*#+ *\| miss/m);
    expect(md).toMatch(/^itoa +\|[ =]*=+ *\| hit/m);
    const bad = galley(["stats", "--summary"], {
      cwd: p.dir,
      env: { ...env(), GITHUB_STEP_SUMMARY: join(p.dir, "no-such-dir", "summary.md") },
    });
    expect([bad.code, bad.stderr.trim().split("\n")[0]]).toEqual([
      3,
      `error: cannot append to $GITHUB_STEP_SUMMARY (${join(p.dir, "no-such-dir", "summary.md")}): ENOENT`,
    ]);
    // Without the variable it prints the summary instead.
    const printed = ok(
      galley(["stats", "--summary"], { cwd: p.dir, env: { ...env(), GITHUB_STEP_SUMMARY: "" } }),
    );
    expect(printed.stdout).toStartWith("### galley: compiler cache");
  });

  test("stats --format markdown prints the counters as a table", () => {
    const md = ok(galley(["stats", "--format", "markdown"], { cwd: p.dir, env: env() })).stdout;
    expect(md).toStartWith("| galley cache | |\n| --- | ---: |\n");
    expect(md).toContain("| Hits | 4 |");
    expect(md).toContain("| Misses | 2 |");
    const bad = galley(["stats", "--format", "yaml"], { cwd: p.dir, env: env() });
    expect(bad.code).toBe(2);
  });

  test("stats --oneline speaks of the build its own shell ran, even when another build ended later", async () => {
    const other = project(p.cacheDir);
    const marker = join(p.dir, "built");
    const go = join(p.dir, "go");
    // Build, wait until the other build is done, then summarise (also from a subshell): the other
    // build is the last one, and the test process that started it is the subshell's grandparent.
    const script = `cargo build && touch ${marker} && while [ ! -f ${go} ]; do sleep 0.1; done && ${GALLEY} stats --oneline && (${GALLEY} stats --oneline || true)`;
    removeDir(join(p.dir, "target"));
    const undo = edit(join(p.dir, "corelib/src/lib.rs"), '"hello from corelib"', '"hello once more"');
    try {
      const shell = Bun.spawn(["sh", "-c", script], {
        cwd: p.dir,
        env: { ...process.env, ...cargoEnv(p) } as Record<string, string>,
        stdout: "pipe",
        stderr: "pipe",
      });
      while (!existsSync(marker)) await Bun.sleep(100);
      build(other);
      writeFileSync(go, "");
      expect(await shell.exited).toBe(0);
      const [line, fromSubshell] = (await new Response(shell.stdout).text()).trim().split("\n");
      expect(fromSubshell).toBe(line!);
      expect(line).toMatch(
        /^galley: 7 units, 4 hits, 2 misses, 1 passed through; [\d.]+ m?s saved; top miss: /,
      );
      expect(line).toMatch(/corelib|app \(bin\)/);
      // From another process, --oneline is about the last build: the other project (its registry crates hit).
      const last = ok(galley(["stats", "--oneline"], { cwd: p.dir, env: env() })).stdout;
      expect(last).toMatch(/^galley: 7 units, 2 hits, 4 misses, 1 passed through;/);
    } finally {
      undo();
    }
  });
});
