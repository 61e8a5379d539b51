/** docs/lint.md and --explain come from the rules themselves; ids and names are unique. */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { explainText, renderLintDoc } from "../../../src/docker/lint/doc.ts";
import { RULES } from "../../../src/docker/lint/registry.ts";
import { REPO } from "../../helpers.ts";

const doc = readFileSync(join(REPO, "docs", "lint.md"), "utf8");

test("docs/lint.md lists and explains every rule", () => {
  for (const r of RULES) {
    expect(doc).toContain(`| [${r.id}](#${r.id.toLowerCase()}-${r.name}) | ${r.name} | ${r.severity} |`);
    expect(doc).toContain(`### ${r.id} ${r.name}\n`);
    expect(doc).toContain(r.why);
    expect(doc).toContain(r.fix);
  }
});

test("docs/lint.md is up to date (regenerate: bun src/docker/lint/doc.ts > docs/lint.md)", () => {
  expect(doc).toBe(renderLintDoc());
});

test("docs/lint.md documents the exit codes", () => {
  for (const code of [0, 1, 2, 3]) expect(doc).toMatch(new RegExp(`\\| ${code} \\| `));
});

test("rules: unique ids and names, one line summaries, every field filled", () => {
  expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
  expect(new Set(RULES.map((r) => r.name)).size).toBe(RULES.length);
  for (const r of RULES) {
    expect(r.id).toMatch(/^GL[12]\d\d$/);
    expect(r.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(r.summary).not.toContain("\n");
    expect(r.why.length).toBeGreaterThan(80);
    expect(r.fix.length).toBeGreaterThan(20);
    expect(explainText(r)).toContain(`${r.id} ${r.name} (${r.severity})`);
  }
});

test("ids are in order", () => {
  expect(RULES.map((r) => r.id)).toEqual(RULES.map((r) => r.id).sort());
});
