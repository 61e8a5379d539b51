/**
 * A Dockerfile as galley reads it: dockerfile-ast does the parsing (heredocs, continuations, the
 * `escape` directive, flags and `--mount` options, exact positions); this wrapper adds what the
 * linter and the generator need on top: stages and their ancestry, the ARG/ENV values, WORKDIR and
 * USER in effect at each instruction, RUN mounts, COPY sources, and positions that are 1-based.
 */
import {
  Arg as ArgInstruction,
  type Argument,
  Copy,
  DockerfileParser,
  Env as EnvInstruction,
  type Flag,
  From as FromInstruction,
  type Heredoc,
  type Instruction,
  type Run as RunInstruction,
} from "dockerfile-ast";
import { editDistance } from "../util/edit-distance.ts";

/** 1-based line, 1-based column counted in UTF-16 code units (as editors and SARIF's default do). */
export interface Position {
  line: number;
  column: number;
}

/** A region of the file; `end` is exclusive. */
export interface Span {
  start: Position;
  end: Position;
}

/** A word of the file with its place: a shell word, a COPY source, a JSON string. */
export interface Word {
  /** The value after quotes and escapes are removed (variables are not expanded). */
  value: string;
  span: Span;
}

export interface MountSpec {
  /** bind (BuildKit's default), cache, tmpfs, secret, ssh. */
  type: string;
  /** The target as written (`target`, `dst` or `destination`). */
  rawTarget: string | undefined;
  /** The target with variables expanded and made absolute against WORKDIR. */
  target: string | undefined;
  /** The cache id as written; BuildKit defaults it to the target. */
  rawId: string | undefined;
  id: string | undefined;
  /** shared (BuildKit's default), private or locked; undefined when not given. */
  sharing: string | undefined;
  from: string | undefined;
  source: string | undefined;
  options: ReadonlyMap<string, string>;
  span: Span;
}

export interface StageInfo {
  index: number;
  /** The `AS name`, lower-cased as BuildKit compares them. */
  name: string | undefined;
  from: Inst;
  /** The base as written, and with the global ARGs expanded. */
  rawBase: string;
  base: string;
  baseSpan: Span;
  /** The `--platform` value as written. */
  platform: string | undefined;
  /** The earlier stage this one is built FROM, if any. */
  parent: StageInfo | undefined;
  /** This stage's instructions after its FROM. */
  instructions: Inst[];
  /** Variables, WORKDIR and USER at the end of the stage (what a stage built FROM it starts with). */
  final: StageState;
}

export interface StageState {
  env: ReadonlyMap<string, string>;
  declared: ReadonlySet<string>;
  workdir: string;
  user: string | undefined;
}

export interface Inst {
  keyword: string;
  node: Instruction;
  span: Span;
  keywordSpan: Span;
  /** The stage this instruction belongs to; undefined for the ARGs before the first FROM. */
  stage: StageInfo | undefined;
  /** Variables in effect for this instruction (ARG and ENV, inherited ones too). Unknown values are absent. */
  env: ReadonlyMap<string, string>;
  /** Names declared with ARG or ENV so far in this stage (or its parents), with or without a value. */
  declared: ReadonlySet<string>;
  /** The working directory in effect (absolute). */
  workdir: string;
  /** The USER in effect (expanded), undefined when no USER was set in this stage or its parents. */
  user: string | undefined;
  flags: FlagSpec[];
}

export interface FlagSpec {
  name: string;
  value: string | undefined;
  span: Span;
  options: { name: string; value: string | undefined }[];
}

export interface RunInst extends Inst {
  keyword: "RUN";
  mounts: MountSpec[];
  /** Exec form (`RUN ["cargo", "build"]`): the strings; undefined for shell form. */
  exec: Word[] | undefined;
  /** Shell form: the command text (continuations joined, comment lines dropped) with positions. */
  script: LogicalText | undefined;
  /** Heredoc bodies that the shell runs (`RUN <<EOF` or `RUN bash <<EOF`). */
  heredocScripts: LogicalText[];
}

export interface CopyInst extends Inst {
  keyword: "COPY" | "ADD";
  /** The `--from` value, expanded. */
  from: string | undefined;
  sources: Word[];
  dest: Word | undefined;
  /** A COPY whose content is a heredoc (`COPY <<EOF /file`). */
  heredoc: boolean;
}

/** Text with a position for each character, for lexing a command and still pointing into the file. */
export interface LogicalText {
  text: string;
  /** positions[i] is where text[i] is in the file; positions[text.length] is just past the end. */
  positions: Position[];
}

export interface ParsedDockerfile {
  text: string;
  lines: string[];
  escape: string;
  /** ARGs before the first FROM. */
  globalArgs: Inst[];
  stages: StageInfo[];
  instructions: Inst[];
}

/** A Dockerfile that BuildKit itself would refuse to build. */
export class DockerfileSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: Position,
  ) {
    super(message);
    this.name = "DockerfileSyntaxError";
  }
}

const KEYWORDS = [
  "ADD",
  "ARG",
  "CMD",
  "COPY",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "FROM",
  "HEALTHCHECK",
  "LABEL",
  "MAINTAINER",
  "ONBUILD",
  "RUN",
  "SHELL",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
];

interface LspRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

export const toSpan = (r: LspRange): Span => ({
  start: { line: r.start.line + 1, column: r.start.character + 1 },
  end: { line: r.end.line + 1, column: r.end.character + 1 },
});

/** Parses a Dockerfile; throws DockerfileSyntaxError where BuildKit would refuse it. */
export function parseDockerfile(text: string): ParsedDockerfile {
  if (text.includes("\0"))
    throw new DockerfileSyntaxError("binary data, not a Dockerfile", { line: 1, column: 1 });
  const ast = DockerfileParser.parse(text);
  const lines = text.split(/\r?\n|\r/);
  const escapeChar = ast.getEscapeCharacter();
  const file: ParsedDockerfile = {
    text,
    lines,
    escape: escapeChar,
    globalArgs: [],
    stages: [],
    instructions: [],
  };

  const nodes = ast.getInstructions();
  for (const node of nodes) {
    const keyword = node.getKeyword();
    if (!KEYWORDS.includes(keyword)) {
      const near = KEYWORDS.find((k) => editDistance(k, keyword) <= 2);
      throw new DockerfileSyntaxError(
        `unknown instruction "${node.getInstruction()}"${near ? ` (did you mean ${near}?)` : ""}`,
        toSpan(node.getInstructionRange()).start,
      );
    }
  }
  const firstFrom = nodes.findIndex((n) => n.getKeyword() === "FROM");
  if (firstFrom === -1) {
    throw new DockerfileSyntaxError("no FROM instruction: not a Dockerfile", {
      line: nodes[0] ? toSpan(nodes[0].getRange()).start.line : 1,
      column: 1,
    });
  }
  for (const node of nodes.slice(0, firstFrom)) {
    if (node.getKeyword() !== "ARG") {
      throw new DockerfileSyntaxError(
        `${node.getKeyword()} before the first FROM (only ARG may come first)`,
        toSpan(node.getInstructionRange()).start,
      );
    }
  }

  // Global scope: the ARGs before the first FROM, usable in FROM lines.
  const globals = new Map<string, string>();
  const globalDeclared = new Set<string>();
  let stage: StageInfo | undefined;
  let env = new Map<string, string>();
  let declared = new Set<string>();
  let workdir = "/";
  let user: string | undefined;
  const close = () => {
    if (stage) stage.final = { env, declared, workdir, user };
  };

  for (const node of nodes) {
    const keyword = node.getKeyword();
    const flags = "getFlags" in node ? flagSpecs((node as unknown as { getFlags(): Flag[] }).getFlags()) : [];
    if (keyword === "FROM" && node instanceof FromInstruction) {
      close();
      const args = node.getArguments();
      const baseArg = args[0];
      const rawBase = baseArg?.getValue() ?? "";
      const base = expand(rawBase, globals).value;
      const asIndex = args.findIndex((a) => a.getValue().toLowerCase() === "as");
      const name = asIndex >= 0 ? args[asIndex + 1]?.getValue().toLowerCase() : undefined;
      const parent = file.stages.find((s) => s.name !== undefined && s.name === base.toLowerCase());
      const inst: Inst = {
        keyword,
        node,
        span: toSpan(node.getRange()),
        keywordSpan: toSpan(node.getInstructionRange()),
        stage: undefined,
        env: globals,
        declared: globalDeclared,
        workdir: "/",
        user: undefined,
        flags,
      };
      stage = {
        index: file.stages.length,
        name,
        from: inst,
        rawBase,
        base,
        baseSpan: baseArg ? toSpan(baseArg.getRange()) : inst.keywordSpan,
        platform: flags.find((f) => f.name === "platform")?.value,
        parent,
        instructions: [],
        final: { env: new Map(), declared: new Set(), workdir: "/", user: undefined },
      };
      inst.stage = stage;
      file.stages.push(stage);
      file.instructions.push(inst);
      const inherited = parent?.final;
      env = new Map(inherited?.env ?? imageEnv(base));
      declared = new Set(inherited?.declared ?? env.keys());
      workdir = inherited?.workdir ?? "/";
      user = inherited?.user;
      continue;
    }

    const inst: Inst = {
      keyword,
      node,
      span: toSpan(node.getRange()),
      keywordSpan: toSpan(node.getInstructionRange()),
      stage,
      env: new Map(stage ? env : globals),
      declared: new Set(stage ? declared : globalDeclared),
      workdir,
      user,
      flags,
    };
    file.instructions.push(inst);
    if (!stage) {
      file.globalArgs.push(inst);
      for (const d of declarations(node)) {
        globalDeclared.add(d.name);
        if (d.value !== undefined) globals.set(d.name, expand(d.value, globals).value);
      }
      continue;
    }
    stage.instructions.push(inst);

    if (keyword === "ARG") {
      for (const d of declarations(node)) {
        declared.add(d.name);
        if (d.value !== undefined) env.set(d.name, expand(d.value, env).value);
        else if (globals.has(d.name)) env.set(d.name, globals.get(d.name)!);
      }
    } else if (keyword === "ENV") {
      const before = new Map(env);
      for (const d of declarations(node)) {
        declared.add(d.name);
        env.set(d.name, expand(d.value ?? "", before).value);
      }
    } else if (keyword === "WORKDIR") {
      const dir = expand(node.getArgumentsContent() ?? "", env).value.trim();
      if (dir) workdir = resolvePath(workdir, dir);
    } else if (keyword === "USER") {
      const u = (node.getArgumentsContent() ?? "").trim();
      if (u) user = expand(u, env).value;
    }

    if (keyword === "RUN") Object.assign(inst, runDetails(file, inst));
    else if (keyword === "COPY" || keyword === "ADD") Object.assign(inst, copyDetails(file, inst));
  }
  close();
  return file;
}

export interface Declaration {
  name: string;
  /** The value as written (quotes removed, variables not expanded); undefined for `ARG NAME`. */
  value: string | undefined;
  nameSpan: Span;
}

/** The variables an ARG or ENV instruction declares (`ARG A B=1`, `ENV A=1 B="x y"`, `ENV A value`). */
export function declarations(node: Instruction): Declaration[] {
  if (!(node instanceof ArgInstruction || node instanceof EnvInstruction)) return [];
  const props = node.getProperties();
  if (node instanceof EnvInstruction || props.every((p) => p.getAssignmentOperator() === "=")) {
    return props.map((p) => ({
      name: p.getName(),
      value: p.getValue() ?? undefined,
      nameSpan: toSpan(p.getNameRange()),
    }));
  }
  // `ARG A B=1`: dockerfile-ast reads it as ENV's legacy `NAME value` form; BuildKit declares both.
  return node.getArguments().map((a) => {
    const word = a.getValue();
    const eq = word.indexOf("=");
    const name = eq === -1 ? word : word.slice(0, eq);
    const start = toSpan(a.getRange()).start;
    return {
      name,
      value: eq === -1 ? undefined : unquote(word.slice(eq + 1)),
      nameSpan: { start, end: { line: start.line, column: start.column + name.length } },
    };
  });
}

/** Variables some well-known base images set, so `$CARGO_HOME` means what it means in the build. */
function imageEnv(base: string): Map<string, string> {
  const name = base.replace(/^(docker\.io\/)?(library\/)?/, "").split(/[:@]/)[0] ?? "";
  const env = new Map<string, string>();
  if (/^(rust|rustlang\/rust|ghcr\.io\/rust-lang\/rust|lukemathwalker\/cargo-chef)$/.test(name)) {
    env.set("CARGO_HOME", "/usr/local/cargo");
    env.set("RUSTUP_HOME", "/usr/local/rustup");
  }
  return env;
}

function flagSpecs(flags: Flag[]): FlagSpec[] {
  return flags.map((f) => ({
    name: f.getName(),
    value: f.getValue() ?? undefined,
    span: toSpan(f.getRange()),
    options: f.getOptions().map((o) => ({ name: o.getName(), value: o.getValue() ?? undefined })),
  }));
}

function runDetails(file: ParsedDockerfile, inst: Inst): Omit<RunInst, keyof Inst> {
  const node = inst.node as RunInstruction;
  const mounts = inst.flags.filter((f) => f.name === "mount").map((f) => mountSpec(f, inst));
  const args = node.getArguments();
  const first = args[0];
  if (!first) return { mounts, exec: undefined, script: undefined, heredocScripts: [] };
  const start = toSpan(first.getRange()).start;
  const exec = execForm(file, start, inst.span.end);
  if (exec) return { mounts, exec, script: undefined, heredocScripts: [] };
  const heredocs: Heredoc[] = node.getHeredocs();
  if (heredocs.length === 0) {
    return { mounts, exec: undefined, script: logicalText(file, start, inst.span.end), heredocScripts: [] };
  }
  // The command line is the first line (and its continuations); the bodies follow it.
  const operator = toSpan(heredocs[0]!.getStartRange()).start;
  const lineEnd: Position = { line: operator.line, column: (file.lines[operator.line - 1]?.length ?? 0) + 1 };
  const script = logicalText(file, start, lineEnd);
  const words = script.text
    .replace(/<<-?\s*["']?[A-Za-z0-9_]+["']?/g, " ")
    .trim()
    .split(/\s+/)
    .filter((w) => w !== "");
  // `RUN <<EOF` and `RUN bash -e <<EOF` run the body as a script; `RUN python3 <<EOF` does not.
  const shellRuns =
    words.length === 0 || /^(\/bin\/|\/usr\/bin\/)?(sh|bash|ash|dash|zsh)$/.test(words[0] ?? "");
  const heredocScripts = shellRuns
    ? heredocs.flatMap((h) => {
        const r = h.getContentRange();
        if (!r) return [];
        const s = toSpan(r);
        const body = rawText(file, s.start, s.end);
        // A shebang picks the interpreter: `#!/usr/bin/env python3` is not shell.
        const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(body.text);
        const interpreter = shebang ? (shebang[1]!.endsWith("/env") ? shebang[2] : shebang[1]) : undefined;
        if (interpreter && !/(^|\/)(sh|bash|ash|dash|zsh)$/.test(interpreter)) return [];
        return [body];
      })
    : [];
  return { mounts, exec: undefined, script, heredocScripts };
}

function mountSpec(flag: FlagSpec, inst: Inst): MountSpec {
  const options = new Map<string, string>();
  for (const o of flag.options) options.set(o.name.toLowerCase(), unquote(o.value ?? ""));
  const rawTarget = options.get("target") ?? options.get("dst") ?? options.get("destination");
  const rawId = options.get("id");
  const expandIn = (s: string | undefined) => (s === undefined ? undefined : expand(s, inst.env).value);
  const t = expandIn(rawTarget);
  return {
    type: (options.get("type") ?? "bind").toLowerCase(),
    rawTarget,
    target: t === undefined ? undefined : resolvePath(inst.workdir, t),
    rawId,
    id: expandIn(rawId),
    sharing: options.get("sharing")?.toLowerCase(),
    from: expandIn(options.get("from")),
    source: expandIn(options.get("source") ?? options.get("src")),
    options,
    span: flag.span,
  };
}

function copyDetails(file: ParsedDockerfile, inst: Inst): Omit<CopyInst, keyof Inst> {
  const node = inst.node as Copy;
  const fromFlag = inst.flags.find((f) => f.name === "from")?.value;
  const from = fromFlag === undefined ? undefined : expand(fromFlag, inst.env).value;
  const heredoc = node instanceof Copy && node.getHeredocs().length > 0;
  const args = node.getArguments();
  if (heredoc || args.length === 0) return { from, sources: [], dest: undefined, heredoc };
  const start = toSpan(args[0]!.getRange()).start;
  const exec = execForm(file, start, inst.span.end);
  const words: Word[] =
    exec ?? args.map((a: Argument) => ({ value: a.getValue(), span: toSpan(a.getRange()) }));
  return { from, sources: words.slice(0, -1), dest: words[words.length - 1], heredoc };
}

/** The JSON array of an exec-form instruction with each string's place; undefined if not exec form. */
export function execForm(file: ParsedDockerfile, start: Position, end: Position): Word[] | undefined {
  const t = logicalText(file, start, end);
  const text = t.text.trim();
  if (!text.startsWith("[") || !text.endsWith("]")) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === "string")) return undefined;
  // Find each string literal's place by scanning the text.
  const words: Word[] = [];
  let i = t.text.indexOf("[") + 1;
  for (const value of parsed as string[]) {
    while (i < t.text.length && t.text[i] !== '"') i++;
    const begin = i;
    i++;
    while (i < t.text.length && t.text[i] !== '"') i += t.text[i] === "\\" ? 2 : 1;
    i++;
    words.push({
      value,
      span: { start: t.positions[begin]!, end: t.positions[Math.min(i, t.text.length)]! },
    });
  }
  return words;
}

/**
 * The text from `start` to `end` as the Dockerfile means it: a line ending in the escape character
 * continues on the next line, and comment or empty lines inside such a continuation are dropped.
 */
export function logicalText(file: ParsedDockerfile, start: Position, end: Position): LogicalText {
  let text = "";
  const positions: Position[] = [];
  let line = start.line;
  let col = start.column;
  let continuing = false;
  while (line <= end.line) {
    const content = file.lines[line - 1] ?? "";
    const stop = line === end.line ? Math.min(end.column - 1, content.length) : content.length;
    if (continuing && (content.trim() === "" || content.trimStart().startsWith("#"))) {
      line++;
      col = 1;
      continue;
    }
    let segment = content.slice(col - 1, stop);
    const trimmed = segment.replace(/[ \t]+$/, "");
    const continues = line < end.line && trimmed.endsWith(file.escape) && stop === content.length;
    if (continues) segment = trimmed.slice(0, -1);
    for (let i = 0; i < segment.length; i++) {
      text += segment[i];
      positions.push({ line, column: col + i });
    }
    if (!continues) {
      if (line < end.line && line !== end.line) {
        // A newline inside the instruction (heredoc lines): keep it.
        text += "\n";
        positions.push({ line, column: col + segment.length });
      } else {
        positions.push({ line, column: col + segment.length });
        return { text, positions };
      }
    }
    continuing = continues;
    line++;
    col = 1;
  }
  positions.push(end);
  return { text, positions };
}

/** The text from `start` to `end` exactly as written (heredoc bodies). */
function rawText(file: ParsedDockerfile, start: Position, end: Position): LogicalText {
  let text = "";
  const positions: Position[] = [];
  for (let line = start.line; line <= end.line; line++) {
    const content = file.lines[line - 1] ?? "";
    const from = line === start.line ? start.column - 1 : 0;
    const to = line === end.line ? Math.min(end.column - 1, content.length) : content.length;
    for (let i = from; i < to; i++) {
      text += content[i];
      positions.push({ line, column: i + 1 });
    }
    if (line < end.line) {
      text += "\n";
      positions.push({ line, column: to + 1 });
    }
  }
  positions.push(end);
  return { text, positions };
}

export interface Expanded {
  value: string;
  /** Names referenced that have no known value; they are left as written. */
  unknown: string[];
}

/**
 * Expands `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME:+word}` (and `-`/`+` without the colon) the way
 * BuildKit does, with `vars`; a variable with no known value is left as written and reported.
 */
export function expand(s: string, vars: ReadonlyMap<string, string>, escapeChar = "\\"): Expanded {
  const unknown: string[] = [];
  let out = "";
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === escapeChar && s[i + 1] === "$") {
      out += "\\$";
      i += 2;
      continue;
    }
    if (c !== "$") {
      out += c;
      i++;
      continue;
    }
    if (s[i + 1] === "{") {
      const close = findClose(s, i + 2);
      if (close === -1) {
        out += s.slice(i);
        break;
      }
      const body = s.slice(i + 2, close);
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])(.*))?$/s.exec(body);
      if (!m) {
        out += s.slice(i, close + 1);
      } else {
        const [, name, op, word] = m;
        const known = vars.has(name!);
        const value = vars.get(name!) ?? "";
        if (op === undefined) {
          if (known) out += value;
          else {
            unknown.push(name!);
            out += s.slice(i, close + 1);
          }
        } else {
          const set = op.startsWith(":") ? known && value !== "" : known;
          const inner = expand(word ?? "", vars, escapeChar);
          if (!known && !vars.has(name!)) unknown.push(name!);
          if (op.endsWith("-")) out += set ? value : inner.value;
          else out += set ? inner.value : "";
          unknown.push(...inner.unknown);
        }
      }
      i = close + 1;
      continue;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i + 1));
    if (!m) {
      out += c;
      i++;
      continue;
    }
    const name = m[0];
    if (vars.has(name)) out += vars.get(name);
    else {
      unknown.push(name);
      out += `$${name}`;
    }
    i += 1 + name.length;
  }
  return { value: out, unknown };
}

function findClose(s: string, from: number): number {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    if (s[i] === "{") depth++;
    else if (s[i] === "}" && --depth === 0) return i;
  }
  return -1;
}

/** `dir` resolved against `base` (POSIX, no file system access). */
export function resolvePath(base: string, dir: string): string {
  const parts = (dir.startsWith("/") ? dir : `${base}/${dir}`).split("/");
  const out: string[] = [];
  for (const p of parts) {
    if (p === "" || p === ".") continue;
    if (p === "..") out.pop();
    else out.push(p);
  }
  return `/${out.join("/")}`;
}

/** Whether `path` is `dir` or inside it (both absolute and normalised). */
export function isWithin(path: string, dir: string): boolean {
  return path === dir || dir === "/" || path.startsWith(`${dir}/`);
}

export function unquote(s: string): string {
  if (s.length >= 2 && ((s.startsWith('"') && s.endsWith('"')) || (s.startsWith("'") && s.endsWith("'"))))
    return s.slice(1, -1);
  return s;
}

/** The stages a stage is built on, nearest first, ending with the stage itself last. */
export function stageChain(stage: StageInfo): StageInfo[] {
  const chain: StageInfo[] = [];
  for (let s: StageInfo | undefined = stage; s; s = s.parent) chain.unshift(s);
  return chain;
}

/** The image a stage finally stands on (following FROM <stage>). */
export function rootBase(stage: StageInfo): { base: string; stage: StageInfo } {
  let s = stage;
  while (s.parent) s = s.parent;
  return { base: s.base, stage: s };
}

/** A stage named or numbered by a `--from` value, if it is one of this file's (and earlier than `before`). */
export function findStage(file: ParsedDockerfile, ref: string, before?: StageInfo): StageInfo | undefined {
  const limit = before ? before.index : file.stages.length;
  const candidates = file.stages.slice(0, limit);
  if (/^\d+$/.test(ref)) return candidates[Number(ref)];
  return candidates.find((s) => s.name === ref.toLowerCase());
}
