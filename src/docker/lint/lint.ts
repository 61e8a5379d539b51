/** Runs the rules over one Dockerfile: parse, check, apply `# galley-ignore=` comments and the config. */
import { readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { isDir } from "../../cargo/paths.ts";
import { findManifest, findWorkspaceRoot, loadWorkspace } from "../../cargo/workspace.ts";
import { outsidePackages } from "../generate/project.ts";
import { type Inst, parseDockerfile } from "../parse.ts";
import type { LintConfig } from "./config.ts";
import { Facts } from "./facts.ts";
import { findRule, RULES } from "./registry.ts";
import type { BuildContext, Finding, LintContext, LintProject } from "./types.ts";

export interface LintOptions {
  /** The name findings carry (the path as given, or "<stdin>"). */
  file: string;
  context: BuildContext | undefined;
  /** The Cargo project the Dockerfile builds, for the rules that need it. */
  project?: LintProject;
  config: LintConfig;
}

export interface LintResult {
  findings: Finding[];
  /** Problems with the file's own ignore comments (unknown ids), worth telling but not failing on. */
  notes: string[];
}

/** Lints a Dockerfile's text. Throws DockerfileSyntaxError where BuildKit would refuse the file. */
export function lintText(text: string, options: LintOptions): LintResult {
  const file = parseDockerfile(text);
  const ctx: LintContext = {
    file,
    facts: new Facts(file),
    context: options.context,
    project: options.project,
  };
  const notes: string[] = [];
  const ignores = ignoreComments(file.lines, file.instructions, options.file, notes);
  const findings: Finding[] = [];
  for (const rule of RULES) {
    const setting = options.config.rules.get(rule.id);
    if (setting === "off") continue;
    for (const hit of rule.check(ctx)) {
      if (ignores.get(hit.inst)?.has(rule.id)) continue;
      findings.push({
        file: options.file,
        id: rule.id,
        name: rule.name,
        severity: setting ?? rule.severity,
        message: hit.message,
        span: hit.span,
      });
    }
  }
  findings.sort(
    (a, b) =>
      a.span.start.line - b.span.start.line ||
      a.span.start.column - b.span.start.column ||
      a.id.localeCompare(b.id),
  );
  return { findings: dedupe(findings), notes };
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.id}:${f.span.start.line}:${f.span.start.column}:${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const IGNORE = /^#\s*galley-ignore\s*=\s*([A-Za-z0-9-]+(?:\s*,\s*[A-Za-z0-9-]+)*)/;

/** The rule ids each instruction's `# galley-ignore=ID[,ID]` comments (directly above it) name. */
function ignoreComments(
  lines: string[],
  instructions: Inst[],
  file: string,
  notes: string[],
): Map<Inst, Set<string>> {
  const out = new Map<Inst, Set<string>>();
  for (const inst of instructions) {
    for (let l = inst.span.start.line - 1; l >= 1; l--) {
      const line = (lines[l - 1] ?? "").trim();
      if (!line.startsWith("#")) break;
      const m = IGNORE.exec(line);
      if (!m) continue;
      for (const id of m[1]!.split(",").map((s) => s.trim())) {
        const rule = findRule(id);
        if (!rule) {
          notes.push(`${file}:${l}: galley-ignore names an unknown rule "${id}" (run "galley lint --list")`);
          continue;
        }
        const set = out.get(inst) ?? new Set<string>();
        set.add(rule.id);
        out.set(inst, set);
      }
    }
  }
  return out;
}

/** A build context on disk, with the ignore file that applies to `dockerfile` (if given). */
export function openContext(dir: string, dockerfile?: string): BuildContext {
  const read = (rel: string): string | undefined => {
    try {
      return readFileSync(join(dir, rel), "utf8");
    } catch {
      return undefined;
    }
  };
  let dockerignore: BuildContext["dockerignore"];
  if (dockerfile) {
    const own = join(dirname(dockerfile), `${basename(dockerfile)}.dockerignore`);
    try {
      dockerignore = { path: own, text: readFileSync(own, "utf8") };
    } catch {}
  }
  if (!dockerignore) {
    const text = read(".dockerignore");
    if (text !== undefined) dockerignore = { path: join(dir, ".dockerignore"), text };
  }
  return { dir, read, dockerignore };
}

/**
 * The Cargo project at `dir` (a directory inside it or a Cargo.toml): its root and the local packages
 * outside it. A project galley cannot read is an error the caller reports.
 */
export function openProject(dir: string): LintProject {
  const ws = loadWorkspace(findWorkspaceRoot(findManifest(dir)));
  return { root: ws.root, outside: outsidePackages(ws) };
}

/**
 * The build context a Dockerfile names in a leading comment, `# Build context: DIR` (relative to the
 * Dockerfile's directory; `galley dockerfile` writes one), when that directory exists.
 */
export function declaredContext(text: string, dockerfile: string): string | undefined {
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith("#")) break;
    const m = /^#\s*Build context:\s*(\S.*?)\s*$/.exec(line);
    if (!m) continue;
    const dir = resolve(dirname(dockerfile), m[1]!);
    return isDir(dir) ? dir : undefined;
  }
  return undefined;
}

/**
 * The build context to assume for a Dockerfile when none is given: the nearest directory, from the
 * Dockerfile's own upwards, that holds a Cargo.lock (a workspace's root), else the nearest with a
 * Cargo.toml; undefined when there is none (then the context rules stay quiet rather than guess).
 */
export function guessContext(dockerfile: string): string | undefined {
  const isFile = (p: string) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  let manifest: string | undefined;
  for (let dir = dirname(dockerfile); ; dir = dirname(dir)) {
    if (isFile(join(dir, "Cargo.lock"))) return dir;
    if (!manifest && isFile(join(dir, "Cargo.toml"))) manifest = dir;
    if (dirname(dir) === dir) return manifest;
  }
}
