/**
 * Human-readable rule documentation, from the rules themselves: `galley lint --explain ID`,
 * `galley lint --list`, and docs/lint.md (`bun src/docker/lint/doc.ts > docs/lint.md`).
 */
import { CONFIG_NAME } from "./config.ts";
import { EXIT_CODES, LINT_OPTIONS, SUMMARY, USAGE } from "./options.ts";
import { RULES } from "./registry.ts";
import type { Rule } from "./types.ts";

/** Wraps a paragraph to `width` columns, each line indented. */
export function wrap(text: string, width = 100, indent = "  "): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines.join("\n");
}

const indentBlock = (text: string, indent = "    ") =>
  text
    .split("\n")
    .map((l) => (l ? indent + l : l))
    .join("\n");

/** What `galley lint --explain ID` prints. */
export function explainText(rule: Rule): string {
  return `${rule.id} ${rule.name} (${rule.severity})
${wrap(rule.summary)}

Why:
${wrap(rule.why)}

Fix:
${wrap(rule.fix)}

Reported:
${indentBlock(rule.example.bad)}

Fixed:
${indentBlock(rule.example.good)}

Ignore it on one instruction with a comment on the line above: # galley-ignore=${rule.id}
`;
}

/** What `galley lint --list` prints: one rule a line. */
export function listText(): string {
  const width = Math.max(...RULES.map((r) => r.name.length));
  return RULES.map((r) => `${r.id}  ${r.severity.padEnd(7)}  ${r.name.padEnd(width)}  ${r.summary}\n`).join(
    "",
  );
}

const escapeCell = (s: string) => s.replace(/\|/g, "\\|");

/** docs/lint.md. */
export function renderLintDoc(): string {
  const options = Object.entries(LINT_OPTIONS)
    .map(([name, spec]) => {
      const value = spec.kind === "boolean" ? "" : ` ${"value" in spec ? spec.value : "VALUE"}`;
      return `| \`--${name}${value}\` | ${escapeCell(spec.description)} |`;
    })
    .join("\n");
  const exits = EXIT_CODES.map(([code, meaning]) => `| ${code} | ${escapeCell(meaning)} |`).join("\n");
  const table = RULES.map(
    (r) =>
      `| [${r.id}](#${r.id.toLowerCase()}-${r.name}) | ${r.name} | ${r.severity} | ${escapeCell(r.summary)} |`,
  ).join("\n");
  const sections = RULES.map(
    (r) => `### ${r.id} ${r.name}

*${r.severity}* — ${r.summary}.

**Why.** ${r.why}

**Fix.** ${r.fix}

Reported:

\`\`\`dockerfile
${r.example.bad}
\`\`\`

Fixed:

\`\`\`dockerfile
${r.example.good}
\`\`\`
`,
  ).join("\n");
  return `<!-- Generated from src/docker/lint (the rules, options.ts, doc.ts): bun src/docker/lint/doc.ts > docs/lint.md -->
# galley lint

${SUMMARY}: missing cache mounts, a dependency layer that is not one,
a runtime that cannot run the binary, secrets in build arguments, and more. galley parses the Dockerfile as BuildKit does
(heredocs, line continuations, the \`escape\` directive, ARG and ENV values, \`--mount\` options) and
reports each problem at its exact line and column.

\`\`\`
${USAGE}
\`\`\`

Without FILE it lints \`./Dockerfile\`; a directory stands for the Dockerfile in it; \`-\` reads
standard input.

| option | meaning |
| --- | --- |
${options}

## Output

- \`text\`: one line a finding, \`file:line:col: severity ID message\` (1-based line and column).
- \`json\`: an array of \`{file, line, column, endLine, endColumn, severity, id, name, message}\`.
- \`sarif\`: a SARIF 2.1.0 log (for GitHub code scanning and other viewers); regions are 1-based,
  columns in UTF-16 code units, end column exclusive.
- \`github\`: workflow commands (\`::error file=…,line=…,col=…,title=ID::message\`), which GitHub
  Actions shows as annotations on the pull request.

A file that cannot be read or is not a Dockerfile is reported on standard error (and in SARIF's
\`invocations\`); the other files are still linted.

## Exit codes

| code | meaning |
| --- | --- |
${exits}

When a file could not be linted (3) and another has findings (1), the exit code is 3.

## Ignoring findings

On one instruction: a comment on the line (or comment lines) directly above it names the rules to
ignore there, by id or name:

\`\`\`dockerfile
# galley-ignore=GL105,GL101  our registry mirror does not serve a lock file
RUN cargo build --release
\`\`\`

For the whole file: \`${CONFIG_NAME}\` beside the Dockerfile (or \`--config PATH\`) turns rules off or
changes their severity. An unknown rule, key or severity in it is a usage error (exit 2).

\`\`\`toml
[rules]
GL115 = "off"
GL202 = "error"
cargo-locked = "warning"   # a rule's name works as well as its id
\`\`\`

## The build context

GL101 (git dependencies in Cargo.lock), GL105, GL111/GL112 (\`crt-static\` in .cargo/config.toml) and
GL114 (.dockerignore) look at the build context. It is \`--context DIR\` when given; otherwise the
directory a leading \`# Build context: DIR\` comment names (relative to the Dockerfile; \`galley
dockerfile\` writes one), else the nearest directory, from the Dockerfile's own upwards, with a
Cargo.lock (else with a Cargo.toml). When there is none, or with \`--no-context\` or standard input,
those checks are skipped rather than guessed. A \`<Dockerfile>.dockerignore\` beside the Dockerfile
takes precedence over the context's \`.dockerignore\`, as in BuildKit.

GL117 (path dependencies outside the context) also reads the Cargo project the Dockerfile builds:
\`--project DIR\` when given, else that nearest directory with a Cargo.lock (or Cargo.toml). A
project galley cannot read turns the check off with a warning (with \`--project\`, it is an error).

## Rules

GL1xx rules are about Rust builds, GL2xx about Dockerfiles in general. \`galley lint --explain ID\`
prints the same text as below.

| id | name | severity | finds |
| --- | --- | --- | --- |
${table}

${sections}`;
}

if (import.meta.main) process.stdout.write(renderLintDoc());
