/** The output formats. */
import { describe, expect, test } from "bun:test";
import { render } from "../../../src/docker/lint/format.ts";
import { RULES } from "../../../src/docker/lint/registry.ts";
import type { Finding } from "../../../src/docker/lint/types.ts";

const findings: Finding[] = [
  {
    file: "docker/Dockerfile",
    id: "GL105",
    name: "cargo-locked",
    severity: "warning",
    message: "cargo build without --locked: 100%, a,b",
    span: { start: { line: 17, column: 1 }, end: { line: 17, column: 12 } },
  },
  {
    file: "docker/Dockerfile",
    id: "GL204",
    name: "secret-in-arg-env",
    severity: "error",
    message: "ARG TOKEN looks like a secret",
    span: { start: { line: 2, column: 5 }, end: { line: 2, column: 10 } },
  },
  {
    file: "/abs/my Dockerfile",
    id: "GL115",
    name: "cargo-install-unpinned",
    severity: "info",
    message: "m",
    span: { start: { line: 3, column: 5 }, end: { line: 3, column: 18 } },
  },
];

test("text: file:line:col: severity ID message", () => {
  expect(render("text", findings).split("\n")[0]).toBe(
    "docker/Dockerfile:17:1: warning GL105 cargo build without --locked: 100%, a,b",
  );
});

test("json: an array with 1-based positions", () => {
  const out = JSON.parse(render("json", findings));
  expect(out[0]).toEqual({
    file: "docker/Dockerfile",
    line: 17,
    column: 1,
    endLine: 17,
    endColumn: 12,
    severity: "warning",
    id: "GL105",
    name: "cargo-locked",
    message: "cargo build without --locked: 100%, a,b",
  });
  expect(render("json", [])).toBe("[]\n");
});

describe("sarif", () => {
  const log = JSON.parse(
    render("sarif", findings, [{ file: "bad", line: 2, column: 3, message: "unknown instruction" }], {
      version: "1.2.3",
    }),
  );
  const run = log.runs[0];
  test("a 2.1.0 log with the tool, every rule, and a result per finding", () => {
    expect(log.version).toBe("2.1.0");
    expect(log.$schema).toContain("sarif-2.1.0");
    expect(run.tool.driver.name).toBe("galley");
    expect(run.tool.driver.version).toBe("1.2.3");
    expect(run.tool.driver.rules.map((r: { id: string }) => r.id)).toEqual(RULES.map((r) => r.id));
    for (const r of run.tool.driver.rules) {
      expect(typeof r.shortDescription.text).toBe("string");
      expect(["error", "warning", "note"]).toContain(r.defaultConfiguration.level);
    }
    expect(run.columnKind).toBe("utf16CodeUnits");
  });
  test("results: level, rule index, region", () => {
    expect(run.results.map((r: { level: string }) => r.level)).toEqual(["warning", "error", "note"]);
    for (const r of run.results) expect(run.tool.driver.rules[r.ruleIndex].id).toBe(r.ruleId);
    expect(run.results[0].locations[0].physicalLocation).toEqual({
      artifactLocation: { uri: "docker/Dockerfile" },
      region: { startLine: 17, startColumn: 1, endLine: 17, endColumn: 12 },
    });
    expect(run.results[2].locations[0].physicalLocation.artifactLocation.uri).toBe(
      "file:///abs/my%20Dockerfile",
    );
  });
  test("files that could not be linted are tool notifications", () => {
    expect(run.invocations[0].executionSuccessful).toBe(false);
    expect(run.invocations[0].toolExecutionNotifications[0].message.text).toBe("unknown instruction");
  });
});

test("github: workflow commands with escaped properties and data", () => {
  const lines = render("github", findings).trimEnd().split("\n");
  expect(lines[0]).toBe(
    "::warning file=docker/Dockerfile,line=17,col=1,endLine=17,endColumn=12,title=GL105::cargo build without --locked: 100%25, a,b (cargo-locked)",
  );
  expect(lines[1]).toStartWith("::error file=docker/Dockerfile,line=2,col=5,");
  expect(lines[2]).toStartWith("::notice file=/abs/my Dockerfile,");
});
