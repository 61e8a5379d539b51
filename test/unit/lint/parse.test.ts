/** The parse wrapper: stages, variables, WORKDIR, mounts, exact positions, and what BuildKit refuses. */
import { describe, expect, test } from "bun:test";
import {
  type CopyInst,
  DockerfileSyntaxError,
  expand,
  logicalText,
  parseDockerfile,
  type RunInst,
} from "../../../src/docker/parse.ts";
import { df } from "./helpers.ts";

/** A "$" to put before "{NAME}" in templates. */
const D = "$";
/** "%{" stands for a Dockerfile's "${" in plain strings. */
const v = (s: string) => s.replaceAll("%{", `${D}{`);

const runs = (text: string) =>
  parseDockerfile(text).instructions.filter((i): i is RunInst => i.keyword === "RUN");

describe("stages", () => {
  test("names, parents, global ARGs in FROM, --platform", () => {
    const file = parseDockerfile(df`
      ARG RUST=1.90
      FROM --platform=$BUILDPLATFORM rust:${D}{RUST}-slim AS Chef
      FROM chef AS builder
      FROM debian:trixie-slim
    `);
    expect(file.globalArgs).toHaveLength(1);
    expect(file.stages.map((s) => [s.name, s.base, s.parent?.name])).toEqual([
      ["chef", "rust:1.90-slim", undefined],
      ["builder", "chef", "chef"],
      [undefined, "debian:trixie-slim", undefined],
    ]);
    expect(file.stages[0]!.platform).toBe("$BUILDPLATFORM");
    expect(file.stages[0]!.baseSpan).toEqual({
      start: { line: 2, column: 32 },
      end: { line: 2, column: 49 },
    });
  });

  test("ENV and ARG values, inherited by a stage built FROM another; WORKDIR relative to the last", () => {
    const file = parseDockerfile(df`
      ARG G=global
      FROM rust:1.90 AS a
      ARG G
      ENV X=/x Y=$X/y
      ENV Z=${D}{X}/z
      WORKDIR /app
      WORKDIR sub
      RUN true
      FROM a
      USER app
      RUN true
    `);
    const [first, second] = runs(file.text);
    expect(first!.env.get("G")).toBe("global");
    expect(first!.env.get("X")).toBe("/x");
    // ENV A=1 B=$A reads A from before the instruction, as Docker does.
    expect(first!.env.get("Y")).toBe("$X/y");
    expect(first!.env.get("Z")).toBe("/x/z");
    expect(first!.env.get("CARGO_HOME")).toBe("/usr/local/cargo");
    expect(first!.workdir).toBe("/app/sub");
    expect(second!.env.get("Z")).toBe("/x/z");
    expect(second!.workdir).toBe("/app/sub");
    expect(second!.user).toBe("app");
  });
});

test("ARG with several names, ENV in its legacy form", () => {
  const [run] = runs("ARG A=1 B=2\nFROM x\nARG C D=$A\nENV E some value\nRUN true\n");
  expect([...run!.declared].sort()).toEqual(["C", "D", "E"]);
  expect(run!.env.get("D")).toBe("$A");
  expect(run!.env.get("E")).toBe("some value");
  const file = parseDockerfile("ARG A=1 B=2\nFROM x:$B\n");
  expect(file.stages[0]!.base).toBe("x:2");
});

describe("RUN", () => {
  test("mounts: options, variables expanded, relative targets made absolute", () => {
    const [run] = runs(df`
      FROM rust:1.90
      ENV SCCACHE_DIR=/sccache
      WORKDIR /app
      RUN --mount=type=cache,target=target,id=t-$TARGETPLATFORM,sharing=locked \
          --mount=type=cache,dst=$SCCACHE_DIR \
          --mount=type=secret,id=token \
          cargo build
    `);
    expect(run!.mounts.map((m) => [m.type, m.target, m.id, m.sharing])).toEqual([
      ["cache", "/app/target", "t-$TARGETPLATFORM", "locked"],
      ["cache", "/sccache", undefined, undefined],
      ["secret", undefined, "token", undefined],
    ]);
    expect(run!.mounts[1]!.span).toEqual({ start: { line: 5, column: 5 }, end: { line: 5, column: 40 } });
  });

  test("continuations and comment lines inside them: the command text keeps each character's place", () => {
    const [run] = runs("FROM rust\nRUN echo a && \\\n  # a comment\n\n  cargo build \\\n    --locked\n");
    const t = run!.script!;
    expect(t.text).toBe("echo a &&   cargo build     --locked");
    expect(t.positions[t.text.indexOf("cargo")]).toEqual({ line: 5, column: 3 });
    expect(t.positions[t.text.indexOf("--locked")]).toEqual({ line: 6, column: 5 });
  });

  test("the escape directive: a backtick continues lines", () => {
    const file = parseDockerfile("# escape=`\nFROM rust\nRUN cargo build `\n  --locked\n");
    expect(file.escape).toBe("`");
    const run = file.instructions.find((i) => i.keyword === "RUN") as RunInst;
    expect(run.script!.text).toBe("cargo build   --locked");
  });

  test("heredocs: a script body is read as shell, another program's body is not", () => {
    const [a, b] = runs(df`
      FROM rust
      RUN <<EOF
      set -e
      cargo build --locked
      EOF
      RUN python3 <<EOF
      print("cargo build")
      EOF
    `);
    expect(a!.heredocScripts.map((h) => h.text)).toEqual(["set -e\ncargo build --locked"]);
    expect(a!.heredocScripts[0]!.positions[7]).toEqual({ line: 4, column: 1 });
    expect(b!.heredocScripts).toEqual([]);
    const [c, d] = runs(
      "FROM rust\nRUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\nRUN <<EOF\n#!/bin/bash\ncargo build\nEOF\n",
    );
    expect(c!.heredocScripts).toEqual([]);
    expect(d!.heredocScripts).toHaveLength(1);
  });

  test("exec form, with each string's place", () => {
    const [run] = runs('FROM rust\nRUN ["cargo", "build", "--release lto"]\n');
    expect(run!.exec!.map((w) => [w.value, w.span.start.column])).toEqual([
      ["cargo", 6],
      ["build", 15],
      ["--release lto", 24],
    ]);
  });
});

test("COPY: --from expanded, sources and destination, heredoc COPY", () => {
  const file = parseDockerfile(df`
    ARG FROM_STAGE=build
    FROM rust AS build
    FROM debian
    ARG FROM_STAGE
    COPY --from=$FROM_STAGE --chown=1:1 /app/target/release/app /bin/app
    COPY ["a b", "/c/"]
    COPY <<EOF /etc/x
    hello
    EOF
  `);
  const copies = file.instructions.filter((i): i is CopyInst => i.keyword === "COPY");
  expect(copies[0]!.from).toBe("build");
  expect(copies[0]!.sources.map((s) => [s.value, s.span.start.column])).toEqual([
    ["/app/target/release/app", 37],
  ]);
  expect(copies[0]!.dest!.value).toBe("/bin/app");
  expect(copies[1]!.sources.map((s) => s.value)).toEqual(["a b"]);
  expect(copies[2]!.heredoc).toBe(true);
});

describe("what BuildKit refuses is a syntax error with its place", () => {
  const error = (text: string) => {
    try {
      parseDockerfile(text);
    } catch (err) {
      if (err instanceof DockerfileSyntaxError)
        return `${err.position.line}:${err.position.column} ${err.message}`;
      throw err;
    }
    return "parsed";
  };
  test("unknown instruction", () => {
    expect(error("FROM rust\n  FORM x\n")).toBe('2:3 unknown instruction "FORM" (did you mean FROM?)');
  });
  test("no FROM", () => {
    expect(error("# nothing\nRUN true\nFROM rust\n")).toBe(
      "2:1 RUN before the first FROM (only ARG may come first)",
    );
    expect(error("# nothing\nRUN true\n")).toBe("2:1 no FROM instruction: not a Dockerfile");
    expect(error("ARG X=1\n")).toBe("1:1 no FROM instruction: not a Dockerfile");
    expect(error("")).toBe("1:1 no FROM instruction: not a Dockerfile");
  });
  test("binary data", () => {
    expect(error("FROM rust\0\n")).toBe("1:1 binary data, not a Dockerfile");
  });
  test("CRLF line ends parse like LF", () => {
    expect(error("FROM rust\r\nRUN cargo build \\\r\n  --locked\r\n")).toBe("parsed");
    expect(runs("FROM rust\r\nRUN cargo build \\\r\n  --locked\r\n")[0]!.script!.text).toBe(
      "cargo build   --locked",
    );
  });
});

describe("expand", () => {
  const vars = new Map([
    ["A", "1"],
    ["E", ""],
  ]);
  test("known, unknown and modifiers", () => {
    expect(expand(v("$A-%{A}"), vars)).toEqual({ value: "1-1", unknown: [] });
    expect(expand(v("$B/%{B}"), vars)).toEqual({ value: v("$B/%{B}"), unknown: ["B", "B"] });
    expect(expand(v("%{B:-x}%{A:-y}%{E:-z}%{E-w}"), vars).value).toBe("x1z");
    expect(expand(v("%{A:+set}%{B:+set}"), vars).value).toBe("set");
    expect(expand("\\$A", vars).value).toBe("\\$A");
  });
});

test("logicalText stops at the end position", () => {
  const file = parseDockerfile("FROM rust\nRUN abc def\n");
  const t = logicalText(file, { line: 2, column: 5 }, { line: 2, column: 8 });
  expect(t.text).toBe("abc");
  expect(t.positions).toHaveLength(4);
});
