/** `.galley-lint.toml` and `# galley-ignore=` comments. */
import { describe, expect, test } from "bun:test";
import { LintConfigError, parseConfig } from "../../../src/docker/lint/config.ts";
import { lintText } from "../../../src/docker/lint/lint.ts";
import { df, lint, positionsOf } from "./helpers.ts";

const TEXT = df`
  FROM rust:1.90
  # galley-ignore=GL105
  RUN cargo build --release
  # some words about the next step
  # galley-ignore=cargo-locked, GL101 because the mirror has no lock
  RUN cargo install --path .
  RUN cargo build
`;

describe("ignore comments", () => {
  test("suppress the named rules (ids or names) on the instruction below, not elsewhere", () => {
    const findings = lint(TEXT);
    expect(positionsOf(findings, "GL105")).toEqual([[7, 5]]);
    expect(positionsOf(findings, "GL101")).toEqual([[3, 5]]);
  });
  test("an unknown id is a note, not an error", () => {
    const result = lintText("FROM rust:1.90\n# galley-ignore=GL999\nUSER 1\n", {
      file: "Dockerfile",
      context: undefined,
      config: { path: undefined, rules: new Map() },
    });
    expect(result.notes).toEqual([
      'Dockerfile:2: galley-ignore names an unknown rule "GL999" (run "galley lint --list")',
    ]);
  });
  test("a blank line breaks the link to the instruction", () => {
    expect(positionsOf(lint("FROM rust:1.90\n# galley-ignore=GL105\n\nRUN cargo build\n"), "GL105")).toEqual([
      [4, 5],
    ]);
  });
});

describe("config", () => {
  test("turns rules off and changes severities", () => {
    const config = parseConfig('[rules]\nGL105 = "error"\ncargo-cache-mounts = "off"\n', ".galley-lint.toml");
    const findings = lint("FROM rust:1.90\nRUN cargo build\n", { config });
    expect(findings.map((f) => `${f.id} ${f.severity}`)).toEqual([
      "GL110 warning",
      "GL201 warning",
      "GL105 error",
    ]);
  });
  const error = (text: string) => {
    try {
      parseConfig(text, "x.toml");
    } catch (err) {
      expect(err).toBeInstanceOf(LintConfigError);
      expect((err as LintConfigError).exitCode).toBe(2);
      return (err as Error).message;
    }
    return "ok";
  };
  test("mistakes are errors, with their line", () => {
    expect(error('[rules]\nGL105 = "off"\nGL999 = "off"\n')).toBe(
      'x.toml:3: unknown rule "GL999" in [rules]',
    );
    expect(error('[rules]\nGL105 = "loud"\n')).toBe(
      'x.toml:2: GL105 = "loud": expected "off", "error", "warning" or "info"',
    );
    expect(error('fail-on = "warning"\n')).toBe('x.toml:1: unknown key "fail-on"');
    expect(error("[rules\n")).toMatch(/^x\.toml:1:\d+: invalid TOML/);
    expect(error("")).toBe("ok");
  });
});
