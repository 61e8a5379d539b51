/**
 * Just enough of a POSIX shell lexer to find the simple commands of a RUN (`cargo build --locked`)
 * with the place of every word: quotes, escapes, `&&`/`||`/`;`/`|`, comments, redirections,
 * heredocs (skipped), `$(...)` kept inside its word, and `sh -c '...'` looked into.
 */
import type { LogicalText, Position, RunInst, Span, Word } from "../parse.ts";

export interface ShellCommand {
  /** The command and its arguments, after leading assignments and wrappers (`env`, `sudo`, ...). */
  words: Word[];
  /** `NAME=value` words before the command (and `env NAME=value`). */
  assignments: { name: string; value: string; span: Span }[];
}

const RESERVED = new Set([
  "if",
  "then",
  "else",
  "elif",
  "fi",
  "do",
  "done",
  "while",
  "until",
  "!",
  "{",
  "}",
  "time",
]);
const WRAPPERS = new Set(["env", "sudo", "exec", "nice", "nohup", "command", "time"]);
const SHELLS = /^(\/usr)?(\/bin\/)?(sh|bash|ash|dash|zsh)$/;

/** Every simple command a RUN runs (shell form, heredoc scripts, or exec form). */
export function runCommands(run: RunInst): ShellCommand[] {
  const out: ShellCommand[] = [];
  if (run.exec) out.push(...expandShellC({ words: run.exec, assignments: [] }));
  if (run.script) out.push(...lexCommands(run.script));
  for (const body of run.heredocScripts) out.push(...lexCommands(body));
  return out;
}

/** The simple commands of a shell text. */
export function lexCommands(t: LogicalText): ShellCommand[] {
  const commands: ShellCommand[] = [];
  const raw = lex(t);
  for (const words of raw) {
    const command = finish(words);
    if (command) commands.push(...expandShellC(command));
  }
  return commands;
}

/** `sh -c 'cargo build'`: the script's commands too (positions approximate inside the string). */
function expandShellC(command: ShellCommand): ShellCommand[] {
  const [program, flag, script] = command.words;
  if (!program || !SHELLS.test(program.value) || !flag || !/^-[a-z]*c[a-z]*$/.test(flag.value) || !script)
    return [command];
  const positions: Position[] = [];
  const start = script.span.start;
  const oneLine = script.span.start.line === script.span.end.line;
  for (let i = 0; i <= script.value.length; i++)
    positions.push(oneLine ? { line: start.line, column: start.column + 1 + i } : start);
  return [command, ...lexCommands({ text: script.value, positions })];
}

function finish(words: Word[]): ShellCommand | undefined {
  let i = 0;
  while (i < words.length && RESERVED.has(words[i]!.value)) i++;
  const assignments: ShellCommand["assignments"] = [];
  const takeAssignments = () => {
    while (i < words.length) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(words[i]!.value);
      if (!m) break;
      assignments.push({ name: m[1]!, value: m[2]!, span: words[i]!.span });
      i++;
    }
  };
  takeAssignments();
  while (i < words.length && WRAPPERS.has(words[i]!.value)) {
    const wrapper = words[i]!.value;
    i++;
    // Options of the wrapper: `sudo -u user`, `env -u NAME`, `nice -n 10`.
    while (i < words.length && words[i]!.value.startsWith("-")) {
      const opt = words[i]!.value;
      i++;
      if (/^-[unCcgp]$/.test(opt) && wrapper !== "time") i++;
    }
    takeAssignments();
  }
  if (i >= words.length) return assignments.length > 0 ? { words: [], assignments } : undefined;
  return { words: words.slice(i), assignments };
}

/** Splits the text into simple commands, each a list of words. */
function lex(t: LogicalText): Word[][] {
  const { text, positions } = t;
  const commands: Word[][] = [];
  let words: Word[] = [];
  let value = "";
  let begin = -1;
  let last = -1;
  let skipNext = false;
  const pendingHeredocs: { delim: string; strip: boolean }[] = [];

  const endWord = () => {
    if (begin !== -1) {
      if (skipNext) skipNext = false;
      else {
        words.push({
          value,
          span: { start: positions[begin]!, end: after(positions[last]!) },
        });
      }
    }
    value = "";
    begin = -1;
  };
  const endCommand = () => {
    endWord();
    if (words.length > 0) commands.push(words);
    words = [];
  };
  const mark = (i: number) => {
    if (begin === -1) begin = i;
    last = i;
  };

  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "\\") {
      if (text[i + 1] === "\n") {
        i += 2;
        continue;
      }
      mark(i);
      if (i + 1 < text.length) {
        value += text[i + 1];
        mark(i + 1);
      }
      i += 2;
      continue;
    }
    if (c === "'") {
      mark(i);
      const close = text.indexOf("'", i + 1);
      const end = close === -1 ? text.length : close;
      value += text.slice(i + 1, end);
      mark(Math.min(end, text.length - 1));
      i = end + 1;
      continue;
    }
    if (c === '"') {
      mark(i);
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\" && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1]!)) {
          if (text[i + 1] !== "\n") value += text[i + 1];
          i += 2;
          continue;
        }
        if (text[i] === "$" && text[i + 1] === "(") {
          const end = closeParen(text, i + 2);
          value += text.slice(i, end);
          i = end;
          continue;
        }
        value += text[i];
        i++;
      }
      mark(Math.min(i, text.length - 1));
      i++;
      continue;
    }
    if (c === "$" && (text[i + 1] === "(" || text[i + 1] === "{")) {
      mark(i);
      const end = text[i + 1] === "(" ? closeParen(text, i + 2) : closeBrace(text, i + 2);
      value += text.slice(i, end);
      mark(end - 1);
      i = end;
      continue;
    }
    if (c === "`") {
      mark(i);
      const close = text.indexOf("`", i + 1);
      const end = close === -1 ? text.length : close + 1;
      value += text.slice(i, end);
      mark(end - 1);
      i = end;
      continue;
    }
    if (c === "#" && begin === -1) {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      endWord();
      i++;
      continue;
    }
    if (c === "\n") {
      endCommand();
      i++;
      if (pendingHeredocs.length > 0) i = skipHeredocs(text, i, pendingHeredocs.splice(0));
      continue;
    }
    if (c === ";" || c === "&" || c === "|" || c === "(" || c === ")") {
      // `2>&1`, `&>`: part of a redirection, not a separator.
      if (c === "&" && (text[i - 1] === ">" || text[i + 1] === ">")) {
        i++;
        continue;
      }
      endCommand();
      i += text[i + 1] === c ? 2 : 1;
      continue;
    }
    if (c === ">" || c === "<") {
      // A redirection: the operator (with a leading fd number) and its target are not arguments.
      if (begin !== -1 && /^\d+$/.test(value)) {
        value = "";
        begin = -1;
      } else endWord();
      if (c === "<" && text[i + 1] === "<" && text[i + 2] !== "<") {
        let j = i + 2;
        const strip = text[j] === "-";
        if (strip) j++;
        while (text[j] === " " || text[j] === "\t") j++;
        const m = /^(["']?)([A-Za-z0-9_.-]+)\1/.exec(text.slice(j));
        if (m) {
          pendingHeredocs.push({ delim: m[2]!, strip });
          i = j + m[0].length;
          continue;
        }
      }
      while (text[i] === ">" || text[i] === "<" || text[i] === "&" || text[i] === "|") i++;
      skipNext = true;
      continue;
    }
    mark(i);
    value += c;
    i++;
  }
  endCommand();
  return commands;
}

function skipHeredocs(text: string, from: number, docs: { delim: string; strip: boolean }[]): number {
  let i = from;
  for (const doc of docs) {
    while (i < text.length) {
      const nl = text.indexOf("\n", i);
      const end = nl === -1 ? text.length : nl;
      const line = text.slice(i, end);
      i = end + 1;
      if ((doc.strip ? line.replace(/^\t+/, "") : line) === doc.delim) break;
    }
  }
  return Math.min(i, text.length);
}

function closeParen(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === "(") depth++;
    else if (text[i] === ")" && --depth === 0) return i + 1;
  }
  return text.length;
}

function closeBrace(text: string, from: number): number {
  const close = text.indexOf("}", from);
  return close === -1 ? text.length : close + 1;
}

const after = (p: Position): Position => ({ line: p.line, column: p.column + 1 });
