/** The shapes shared by the linter, its rules and its output formats. */
import type { Inst, ParsedDockerfile, Span } from "../parse.ts";
import type { Facts } from "./facts.ts";

export type Severity = "error" | "warning" | "info";

export const SEVERITIES: readonly Severity[] = ["error", "warning", "info"];

export const severityRank: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

export interface Rule {
  /** Stable id, used in output, ignore comments and config: GL1xx for Rust builds, GL2xx general. */
  id: string;
  /** A readable name for the same rule (also accepted wherever an id is). */
  name: string;
  severity: Severity;
  /** One line: what the rule finds. */
  summary: string;
  /** Why it matters (a paragraph). */
  why: string;
  /** What to do instead (a paragraph). */
  fix: string;
  /** A Dockerfile fragment it reports, and the same fragment fixed. */
  example: { bad: string; good: string };
  check(ctx: LintContext): RuleHit[];
}

/** What a rule reports: where, and the instruction it belongs to (for `# galley-ignore=`). */
export interface RuleHit {
  inst: Inst;
  span: Span;
  message: string;
}

export interface Finding {
  file: string;
  id: string;
  name: string;
  severity: Severity;
  message: string;
  span: Span;
}

/** The build context beside the Dockerfile, when one is known. */
export interface BuildContext {
  dir: string;
  /** A file of the context (relative path), or undefined when it is not there. */
  read(rel: string): string | undefined;
  /** The ignore file that applies: `<Dockerfile>.dockerignore` beside the Dockerfile, else `.dockerignore`. */
  dockerignore: { path: string; text: string } | undefined;
}

/** The Cargo project the Dockerfile builds, when lint knows it. */
export interface LintProject {
  /** Absolute directory of the workspace root. */
  root: string;
  /** Absolute directories of its local packages outside the root (path dependencies, patches). */
  outside: string[];
}

export interface LintContext {
  file: ParsedDockerfile;
  facts: Facts;
  context: BuildContext | undefined;
  project: LintProject | undefined;
}
