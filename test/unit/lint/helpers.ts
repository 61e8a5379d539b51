/** Linting snippets in memory, for the rule tests. */
import { DEFAULT_CONFIG, type LintConfig } from "../../../src/docker/lint/config.ts";
import { lintText } from "../../../src/docker/lint/lint.ts";
import type { BuildContext, Finding, LintProject } from "../../../src/docker/lint/types.ts";

/** A build context held in memory: { "Cargo.lock": "...", ".dockerignore": "target/" }. */
export function memoryContext(files: Record<string, string>, dir = "/ctx"): BuildContext {
  const ignore = files[".dockerignore"];
  return {
    dir,
    read: (rel) => files[rel],
    dockerignore: ignore === undefined ? undefined : { path: `${dir}/.dockerignore`, text: ignore },
  };
}

export interface LintOpts {
  context?: Record<string, string>;
  /** The Cargo project (absolute paths; the memory context's directory is /ctx). */
  project?: LintProject;
  config?: LintConfig;
}

export function lint(text: string, opts: LintOpts = {}): Finding[] {
  return lintText(text, {
    file: "Dockerfile",
    context: opts.context ? memoryContext(opts.context) : undefined,
    project: opts.project,
    config: opts.config ?? DEFAULT_CONFIG,
  }).findings;
}

/** Where a rule reported, as [line, column] pairs (1-based). */
export function positionsOf(findings: Finding[], id: string): [number, number][] {
  return findings.filter((f) => f.id === id).map((f) => [f.span.start.line, f.span.start.column]);
}

/** Dedent a raw template literal (backslashes kept as written), dropping the first newline. */
export function df(strings: TemplateStringsArray, ...values: unknown[]): string {
  const raw = strings.raw.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ""), "");
  const lines = raw.replace(/^\n/, "").split("\n");
  const indent = Math.min(...lines.filter((l) => l.trim() !== "").map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(indent)).join("\n");
}
