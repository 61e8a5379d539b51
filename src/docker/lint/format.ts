/** The output formats of `galley lint`: text, json, sarif (2.1.0) and GitHub workflow commands. */
import { RULES } from "./registry.ts";
import type { Finding, Severity } from "./types.ts";

export const FORMATS = ["text", "json", "sarif", "github"] as const;
export type Format = (typeof FORMATS)[number];

/** A file that could not be linted (unreadable or not a Dockerfile), for formats that can carry it. */
export interface FileError {
  file: string;
  line: number;
  column: number;
  message: string;
}

export function render(
  format: Format,
  findings: Finding[],
  errors: FileError[] = [],
  tool: { version: string } = { version: "0" },
): string {
  switch (format) {
    case "text":
      return findings.map(textLine).join("");
    case "json":
      return `${JSON.stringify(findings.map(jsonFinding), null, 2)}\n`;
    case "sarif":
      return `${JSON.stringify(sarif(findings, errors, tool.version), null, 2)}\n`;
    case "github":
      return findings.map(githubLine).join("");
  }
}

/** `file:line:col: severity ID message` */
export function textLine(f: Finding): string {
  return `${f.file}:${f.span.start.line}:${f.span.start.column}: ${f.severity} ${f.id} ${f.message}\n`;
}

function jsonFinding(f: Finding) {
  return {
    file: f.file,
    line: f.span.start.line,
    column: f.span.start.column,
    endLine: f.span.end.line,
    endColumn: f.span.end.column,
    severity: f.severity,
    id: f.id,
    name: f.name,
    message: f.message,
  };
}

const SARIF_LEVEL: Record<Severity, "error" | "warning" | "note"> = {
  error: "error",
  warning: "warning",
  info: "note",
};

/** A SARIF 2.1.0 log with one run; regions are 1-based, end column exclusive, in UTF-16 code units. */
export function sarif(findings: Finding[], errors: FileError[], version: string) {
  const index = new Map(RULES.map((r, i) => [r.id, i]));
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "galley",
            version,
            rules: RULES.map((r) => ({
              id: r.id,
              name: r.name,
              shortDescription: { text: r.summary },
              fullDescription: { text: r.why },
              help: { text: r.fix, markdown: r.fix },
              defaultConfiguration: { level: SARIF_LEVEL[r.severity] },
              properties: { tags: [r.id.startsWith("GL1") ? "rust" : "dockerfile"] },
            })),
          },
        },
        columnKind: "utf16CodeUnits",
        invocations: [
          {
            executionSuccessful: errors.length === 0,
            toolExecutionNotifications: errors.map((e) => ({
              level: "error",
              message: { text: e.message },
              locations: [
                location(e.file, { line: e.line, column: e.column }, { line: e.line, column: e.column }),
              ],
            })),
          },
        ],
        results: findings.map((f) => ({
          ruleId: f.id,
          ruleIndex: index.get(f.id) ?? -1,
          level: SARIF_LEVEL[f.severity],
          message: { text: f.message },
          locations: [location(f.file, f.span.start, f.span.end)],
        })),
      },
    ],
  };
}

function location(
  file: string,
  start: { line: number; column: number },
  end: { line: number; column: number },
) {
  return {
    physicalLocation: {
      artifactLocation: { uri: artifactUri(file) },
      region: { startLine: start.line, startColumn: start.column, endLine: end.line, endColumn: end.column },
    },
  };
}

/** A relative path stays relative (resolved against the repository by code scanning); absolute becomes file://. */
function artifactUri(file: string): string {
  const posix = file.replace(/\\/g, "/");
  const encoded = posix.split("/").map(encodeURIComponent).join("/");
  return posix.startsWith("/") ? `file://${encoded}` : encoded.replace(/^\.\//, "");
}

const GITHUB_LEVEL: Record<Severity, string> = { error: "error", warning: "warning", info: "notice" };

/** `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=ID::message` */
export function githubLine(f: Finding): string {
  const props = [
    `file=${escapeProperty(f.file)}`,
    `line=${f.span.start.line}`,
    `col=${f.span.start.column}`,
    `endLine=${f.span.end.line}`,
    `endColumn=${f.span.end.column}`,
    `title=${escapeProperty(f.id)}`,
  ].join(",");
  return `::${GITHUB_LEVEL[f.severity]} ${props}::${escapeData(`${f.message} (${f.name})`)}\n`;
}

const escapeData = (s: string) => s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
