/**
 * The report in a real browser: headless Chromium (Debian's package, installed when missing) opens
 * the page of a real build of the cache-ws fixture from file:// and the test reads the rendered
 * page. The screenshot is kept in test-results/report.png.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { listJournals, readJournal } from "../../src/cache/engine/journal.ts";
import { buildView, missReason } from "../../src/report/build-view.ts";
import { Browser } from "../browser.ts";
import { GALLEY, galley, ok, REPO, removeDir, run } from "../helpers.ts";
import { type CacheProject, cacheProject, edit } from "./cache-harness.ts";

let p: CacheProject;
let browser: Browser;
let page: string;

beforeAll(async () => {
  p = cacheProject();
  const env = { RUSTC_WRAPPER: GALLEY, GALLEY_DIR: p.cacheDir, CARGO_INCREMENTAL: "0" };
  ok(run(["cargo", "build"], { cwd: p.dir, env }), "cold build");
  const undo = edit(join(p.dir, "corelib/src/lib.rs"), '"hello from corelib"', '"hello again"');
  try {
    removeDir(join(p.dir, "target"));
    ok(run(["cargo", "build"], { cwd: p.dir, env }), "build after an edit");
  } finally {
    undo();
  }
  page = join(p.dir, "report.html");
  ok(galley(["report", "--out", page], { cwd: p.dir, env: { GALLEY_DIR: p.cacheDir } }));
  browser = await Browser.launch(1280, 1000);
  await browser.open(`file://${page}`);
});

afterAll(async () => {
  await browser?.close();
  removeDir(join(p.dir, ".."));
  removeDir(join(p.cacheDir, ".."));
});

test("one bar per unit, classed by outcome, the critical path marked", async () => {
  const journal = readJournal(p.cacheDir, listJournals(p.cacheDir)[0]!.id)!;
  const bars = await browser.evaluate<{ name: string; cls: string; width: number }[]>(
    `[...document.querySelectorAll(".chart .bar")].map((b) => ({ name: b.textContent.slice(1), cls: b.className, width: b.getBoundingClientRect().width }))`,
  );
  expect(bars.map((b) => b.name).sort()).toEqual(journal.entries.map((e) => e.name).sort());
  const outcomeOf = (name: string) => bars.find((b) => b.name === name)!.cls.split(" ")[1];
  for (const e of journal.entries) expect(outcomeOf(e.name)).toBe(e.outcome);
  expect(
    bars
      .filter((b) => b.cls.includes("miss"))
      .map((b) => b.name)
      .sort(),
  ).toEqual(["app (bin)", "corelib"]);
  // Every bar is drawn (has a width), and the unit that ended last is on the critical path.
  for (const b of bars) expect(b.width).toBeGreaterThanOrEqual(2);
  const last = journal.entries.reduce((a, b) => (b.end > a.end ? b : a));
  expect(bars.find((b) => b.name === last.name)!.cls).toContain("crit");
});

test("the most expensive miss comes first, with its reason", async () => {
  const view = buildView(readJournal(p.cacheDir, listJournals(p.cacheDir)[0]!.id)!);
  const items = await browser.evaluate<{ unit: string; reason: string; text: string }[]>(
    `[...document.querySelectorAll("#misses .miss-item")].map((li) => ({ unit: li.querySelector(".unit").textContent, reason: li.querySelector(".reason").textContent, text: li.innerText }))`,
  );
  expect(items.map((i) => i.unit)).toEqual(view.misses.map((u) => u.name));
  expect(items[0]!.reason).toBe(missReason(view.misses[0]!));
  const corelib = items.find((i) => i.unit === "corelib")!;
  expect(corelib.reason).toMatch(/^~ file:corelib\/src\/lib.rs: \w+ -> \w+$/);
  expect(corelib.text).toContain("a source file or env var changed");
  const app = items.find((i) => i.unit === "app (bin)")!;
  expect(app.reason).toMatch(/^~ extern:corelib/);
  const totals = await browser.evaluate<string>(`document.querySelector("#totals").innerText`);
  expect(totals).toMatch(/4 \(57%\)\s*Hits/);
  expect(totals).toMatch(/2\s*Misses/);
});

test("the filter by crate name hides the other units", async () => {
  const shown = await browser.evaluate<{ bars: number; rows: number; said: string }>(`(() => {
    const input = document.getElementById("filter");
    input.value = "CORELIB";
    input.dispatchEvent(new Event("input"));
    const visible = (sel) => [...document.querySelectorAll(sel)].filter((e) => !e.classList.contains("filtered")).length;
    return { bars: visible(".chart .bar"), rows: visible("#units tbody tr"), said: document.getElementById("shown").textContent };
  })()`);
  expect(shown).toEqual({ bars: 1, rows: 1, said: "1 of 7 units" });
  const rowsVisible = await browser.evaluate<number>(
    `[...document.querySelectorAll("#units tbody tr")].filter((r) => r.offsetParent !== null).length`,
  );
  expect(rowsVisible).toBe(1);
  await browser.evaluate(
    `(() => { const i = document.getElementById("filter"); i.value = ""; i.dispatchEvent(new Event("input")); })()`,
  );
  expect(await browser.evaluate<string>(`document.getElementById("shown").textContent`)).toBe("7 units");
});

test("in print: no filter box, every row shown, colours kept; it prints to PDF", async () => {
  await browser.send("Emulation.setEmulatedMedia", { media: "print" });
  try {
    const printed = await browser.evaluate<{ filter: string; rows: number; adjust: string }>(`(() => {
      const input = document.getElementById("filter");
      input.value = "corelib";
      input.dispatchEvent(new Event("input"));
      const rows = [...document.querySelectorAll("#units tbody tr")].filter((r) => getComputedStyle(r).display !== "none").length;
      const out = { filter: getComputedStyle(document.querySelector(".filter")).display, rows, adjust: getComputedStyle(document.querySelector(".bar")).printColorAdjust };
      input.value = "";
      input.dispatchEvent(new Event("input"));
      return out;
    })()`);
    expect(printed).toEqual({ filter: "none", rows: 7, adjust: "exact" });
  } finally {
    await browser.send("Emulation.setEmulatedMedia", { media: "" });
  }
  const pdf = (await browser.send("Page.printToPDF", {})) as { data: string };
  expect(Buffer.from(pdf.data, "base64").subarray(0, 5).toString()).toBe("%PDF-");
});

test("a screenshot of the page is kept", async () => {
  const dir = join(REPO, "test-results");
  mkdirSync(dir, { recursive: true });
  await browser.screenshot(join(dir, "report.png"));
  const png = await Bun.file(join(dir, "report.png")).bytes();
  expect([...png.slice(1, 4)]).toEqual([0x50, 0x4e, 0x47]);
  expect(png.length).toBeGreaterThan(20_000);
});
