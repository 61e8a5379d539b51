/** The shell lexer and the recognition of cargo, cargo-chef and galley invocations. */
import { describe, expect, test } from "bun:test";
import { cargoCall, flagValues, hasFlag, positionals } from "../../../src/docker/lint/cargo.ts";
import { lexCommands } from "../../../src/docker/lint/shell.ts";
import type { LogicalText } from "../../../src/docker/parse.ts";

const text = (s: string): LogicalText => ({
  text: s,
  positions: [...s, ""].map((_, i) => ({ line: 1, column: i + 1 })),
});
const commands = (s: string) => lexCommands(text(s)).map((c) => c.words.map((w) => w.value));

describe("lexer", () => {
  test("operators split commands; quotes and escapes join words", () => {
    expect(commands(`a "b c" 'd e' f\\ g && h; i | j || k & l`)).toEqual([
      ["a", "b c", "d e", "f g"],
      ["h"],
      ["i"],
      ["j"],
      ["k"],
      ["l"],
    ]);
  });
  test("reserved words, assignments and wrappers are not the command", () => {
    const [c] = lexCommands(text("if CARGO_INCREMENTAL=1 env -u X RUSTFLAGS=-g cargo build; then true; fi"));
    expect(c!.words.map((w) => w.value)).toEqual(["cargo", "build"]);
    expect(c!.assignments.map((a) => `${a.name}=${a.value}`)).toEqual([
      "CARGO_INCREMENTAL=1",
      "RUSTFLAGS=-g",
    ]);
  });
  test("redirections, comments, $(...) and heredoc bodies", () => {
    expect(
      commands("cat <<EOF > /x && cargo build 2>&1\ncargo test\nEOF\necho $(cargo metadata) # cargo doc"),
    ).toEqual([["cat"], ["cargo", "build"], ["echo", "$(cargo metadata)"]]);
  });
  test("sh -c scripts are looked into", () => {
    expect(commands(`sh -c "cargo build --locked && echo ok"`)).toEqual([
      ["sh", "-c", "cargo build --locked && echo ok"],
      ["cargo", "build", "--locked"],
      ["echo", "ok"],
    ]);
  });
  test("words keep their place", () => {
    const [c] = lexCommands(text(`echo "x" && cargo  build`)).slice(1);
    expect(c!.words.map((w) => [w.span.start.column, w.span.end.column])).toEqual([
      [13, 18],
      [20, 25],
    ]);
  });
});

describe("cargo calls", () => {
  const call = (s: string) => {
    const [c] = lexCommands(text(s));
    return c ? cargoCall(c) : undefined;
  };
  test("actions and labels", () => {
    const cases: [string, string | undefined, string | undefined][] = [
      ["cargo build --release", "build", "cargo build"],
      ["cargo +nightly --locked b", "build", "cargo b"],
      ["/usr/local/cargo/bin/cargo install ripgrep", "install", "cargo install"],
      ["cargo chef cook --release", "cook", "cargo chef cook"],
      ["cargo chef prepare", "prepare", "cargo chef prepare"],
      ["galley cook --locked", "cook", "galley cook"],
      ["cargo galley prepare", "prepare", "cargo galley prepare"],
      ["cargo-chef chef cook", "cook", "cargo chef cook"],
      ["cargo auditable build", "build", "cargo auditable build"],
      ["cargo -Z unstable-options test", "compile", "cargo test"],
      ["cargo fetch", "fetch", "cargo fetch"],
      ["rustup target add x", undefined, undefined],
    ];
    for (const [s, action, label] of cases) {
      const c = call(s);
      expect([c?.action, c?.label]).toEqual([action, label]);
    }
  });
  test("flags and values", () => {
    const c = call("cargo --locked install a b@1 --root /x --features=f1 -Fg --target x -- --release")!;
    expect(hasFlag(c, "--locked")).toBe(true);
    expect(hasFlag(c, "--release")).toBe(false);
    expect(flagValues(c, "--features", "-F")).toEqual(["f1", "g"]);
    expect(positionals(c).map((w) => w.value)).toEqual(["a", "b@1"]);
    expect(c.span).toEqual({ start: { line: 1, column: 1 }, end: { line: 1, column: 23 } });
  });
});
