/** The command line of `galley lint`: its option table and exit codes, shared by --help and docs/lint.md. */
import type { OptionTable } from "../../cli/args.ts";

export const USAGE =
  "galley lint [FILE...] [--format text|json|sarif|github] [--fail-on error|warning|info] [--config PATH] [--context DIR | --no-context] [--project DIR]\n       galley lint --explain ID | --list";

export const SUMMARY = "Find the mistakes that make Rust Docker builds slow, fragile or unsafe";

export const LINT_OPTIONS = {
  format: { kind: "string", value: "FORMAT", description: "Output: text (default), json, sarif, github" },
  "fail-on": {
    kind: "string",
    value: "SEVERITY",
    description: "Exit 1 when a finding is at least this severe: error (default), warning, info",
  },
  config: {
    kind: "string",
    value: "PATH",
    description: "Lint config (default: .galley-lint.toml beside each Dockerfile, if there)",
  },
  context: {
    kind: "string",
    value: "DIR",
    description:
      "Build context, for the .dockerignore and Cargo.lock checks (default: the Dockerfile's `# Build context:` line, else guessed)",
  },
  "no-context": { kind: "boolean", description: "Skip the checks that need the build context" },
  project: {
    kind: "string",
    value: "DIR",
    description: "The Cargo project the Dockerfile builds (default: the nearest one above the Dockerfile)",
  },
  explain: { kind: "string", value: "ID", description: "Explain a rule: what, why, how to fix, an example" },
  list: { kind: "boolean", description: "List the rules" },
} as const satisfies OptionTable;

export const EXIT_CODES: readonly [number, string][] = [
  [0, "no finding at or above --fail-on (default: error)"],
  [1, "at least one finding at or above --fail-on"],
  [2, "usage error: unknown flag or rule id, bad value, invalid .galley-lint.toml"],
  [3, "a Dockerfile could not be read or is not a Dockerfile (unknown instruction, no FROM)"],
];
