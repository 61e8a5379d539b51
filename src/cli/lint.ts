import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { isDir } from "../cargo/paths.ts";
import { CONFIG_NAME, type LintConfig, loadConfig } from "../docker/lint/config.ts";
import { explainText, listText } from "../docker/lint/doc.ts";
import { type FileError, FORMATS, type Format, render } from "../docker/lint/format.ts";
import { declaredContext, guessContext, lintText, openContext, openProject } from "../docker/lint/lint.ts";
import { EXIT_CODES, LINT_OPTIONS, SUMMARY, USAGE } from "../docker/lint/options.ts";
import { findRule, RULES } from "../docker/lint/registry.ts";
import {
  type Finding,
  type LintProject,
  SEVERITIES,
  type Severity,
  severityRank,
} from "../docker/lint/types.ts";
import { DockerfileSyntaxError } from "../docker/parse.ts";
import { ExitCode, errorMessage, InputError, UsageError } from "../errors.ts";
import { bold, red, warn } from "../util/term.ts";
import { parseArgs, renderHelp } from "./args.ts";
import type { Command } from "./command.ts";

const HELP_EXTRA = `
Formats: text (file:line:col: severity ID message), json (an array), sarif (SARIF 2.1.0),
github (::error file=...,line=...,col=...,title=ID::message workflow commands).

Ignore a rule on one instruction with a comment on the line above it: # galley-ignore=GL105,GL101
Turn rules off or change their severity in ${CONFIG_NAME}: [rules] GL115 = "off"

Exit codes:
${EXIT_CODES.map(([code, meaning]) => `  ${code}  ${meaning}`).join("\n")}

Rules: galley lint --list; docs/lint.md explains each.
`;

export const lintCommand: Command = {
  name: "lint",
  summary: SUMMARY,
  help: () => renderHelp(USAGE, SUMMARY, LINT_OPTIONS, HELP_EXTRA),
  async run(argv) {
    const { options, positionals } = parseArgs("lint", LINT_OPTIONS, argv, {
      maxPositionals: Number.POSITIVE_INFINITY,
    });
    if (options.list) {
      process.stdout.write(listText());
      return ExitCode.ok;
    }
    if (options.explain !== undefined) {
      const rule = findRule(options.explain);
      if (!rule) {
        throw new UsageError(
          `unknown rule "${options.explain}"`,
          `rules: ${RULES.map((r) => r.id).join(", ")} (galley lint --list)`,
        );
      }
      process.stdout.write(explainText(rule));
      return ExitCode.ok;
    }
    const format = (options.format ?? "text") as Format;
    if (!FORMATS.includes(format))
      throw new UsageError(`--format ${options.format}: expected one of ${FORMATS.join(", ")}`);
    const failOn = (options["fail-on"] ?? "error") as Severity;
    if (!SEVERITIES.includes(failOn))
      throw new UsageError(`--fail-on ${options["fail-on"]}: expected one of ${SEVERITIES.join(", ")}`);
    if (options.context !== undefined && options["no-context"])
      throw new UsageError("--context and --no-context contradict each other");
    if (options.context !== undefined && !isDir(options.context))
      throw new UsageError(`--context ${options.context}: not a directory`);
    if (options.project !== undefined && !isDir(options.project))
      throw new UsageError(`--project ${options.project}: not a directory`);
    const explicitProject = options.project === undefined ? undefined : loadProject(options.project, true);
    const explicitConfig = options.config === undefined ? undefined : loadConfig(options.config, true);

    // A directory stands for the Dockerfile in it.
    const files = (positionals.length > 0 ? positionals : ["Dockerfile"]).map((f) =>
      f !== "-" && isDir(f) ? join(f, "Dockerfile") : f,
    );
    if (files.filter((f) => f === "-").length > 1)
      throw new UsageError("standard input (-) can be linted only once");
    const findings: Finding[] = [];
    const errors: FileError[] = [];
    for (const file of files) {
      const stdin = file === "-";
      const name = stdin ? "<stdin>" : file;
      const config: LintConfig =
        explicitConfig ??
        loadConfig(join(stdin ? process.cwd() : dirname(resolve(file)), CONFIG_NAME), false);
      const text = await readDockerfile(file);
      if (typeof text !== "string") {
        errors.push({ file: name, line: 1, column: 1, message: text.error });
        continue;
      }
      // The project: the nearest Cargo workspace above the Dockerfile. The context: --context, else
      // the one the Dockerfile names (`# Build context: DIR`), else the project's directory.
      const guessed = options["no-context"] || stdin ? undefined : guessContext(resolve(file));
      const contextDir =
        options.context ?? (guessed === undefined ? undefined : (declaredContext(text, file) ?? guessed));
      const context =
        contextDir === undefined ? undefined : openContext(contextDir, stdin ? undefined : file);
      const project = explicitProject ?? (guessed === undefined ? undefined : loadProject(guessed, false));
      try {
        const result = lintText(text, { file: name, context, project, config });
        findings.push(...result.findings);
        for (const n of result.notes) warn(n);
      } catch (err) {
        if (!(err instanceof DockerfileSyntaxError)) throw err;
        errors.push({
          file: name,
          line: err.position.line,
          column: err.position.column,
          message: err.message,
        });
      }
    }

    for (const e of errors)
      process.stderr.write(`${red(bold("error:"))} ${e.file}:${e.line}:${e.column}: ${e.message}\n`);
    process.stdout.write(render(format, findings, errors, { version: pkg.version }));
    if (format === "text") process.stderr.write(summary(findings, files.length - errors.length));
    if (errors.length > 0) return ExitCode.input;
    return findings.some((f) => severityRank[f.severity] >= severityRank[failOn])
      ? ExitCode.failure
      : ExitCode.ok;
  },
};

/**
 * The Cargo project for the rules that need it. One named with --project must load; one assumed
 * from the build context that cannot be read only turns those rules off, with a word.
 */
function loadProject(dir: string, explicit: boolean): LintProject | undefined {
  try {
    return openProject(dir);
  } catch (err) {
    if (explicit) throw new InputError(`--project ${dir}: ${errorMessage(err)}`);
    warn(
      `the project in ${dir} could not be read, so the checks that need it are skipped: ${errorMessage(err)}`,
    );
    return undefined;
  }
}

/** The file's text, or why it cannot be linted. */
async function readDockerfile(file: string): Promise<string | { error: string }> {
  let bytes: Uint8Array;
  try {
    bytes = file === "-" ? new Uint8Array(await Bun.stdin.arrayBuffer()) : readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (code ?? errorMessage(err));
    return { error: `cannot read the Dockerfile (${why})` };
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return { error: "not UTF-8 text, so not a Dockerfile" };
  }
}

function summary(findings: Finding[], files: number): string {
  const count = (s: Severity) => findings.filter((f) => f.severity === s).length;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
  if (findings.length === 0) return `galley: no findings in ${plural(files, "file")}\n`;
  return `galley: ${plural(findings.length, "finding")} in ${plural(files, "file")} (${plural(count("error"), "error")}, ${plural(count("warning"), "warning")}, ${count("info")} info)\n`;
}
