import { expect, test } from "bun:test";
import { expectedOutputs, isLinked, parseRustcArgs } from "../../src/cache/rustc/args.ts";
import { parseDepInfo } from "../../src/cache/rustc/dep-info.ts";

const LIB = [
  "--crate-name",
  "itoa",
  "--edition=2021",
  "/reg/itoa-1.0.0/src/lib.rs",
  "--error-format=json",
  "--json=diagnostic-rendered-ansi,artifacts,future-incompat",
  "--crate-type",
  "lib",
  "--emit=dep-info,metadata,link",
  "-C",
  "embed-bitcode=no",
  "--cfg",
  'feature="b"',
  "--cfg",
  'feature="a"',
  "-C",
  "metadata=abc",
  "-C",
  "extra-filename=-0123456789abcdef",
  "--out-dir",
  "/t/debug/deps",
  "-L",
  "dependency=/t/debug/deps",
  "--extern",
  "dep=/t/debug/deps/libdep-1.rlib",
  "--cap-lints",
  "allow",
];

test("a cargo lib compile: outputs, externs, and a key without the output paths", () => {
  const inv = parseRustcArgs(LIB);
  expect(inv.uncacheable).toBeUndefined();
  expect(expectedOutputs(inv)).toEqual([
    "itoa-0123456789abcdef.d",
    "libitoa-0123456789abcdef.rlib",
    "libitoa-0123456789abcdef.rmeta",
  ]);
  expect(inv.externs).toEqual([{ name: "dep", path: "/t/debug/deps/libdep-1.rlib" }]);
  expect(inv.keyArgs.join(" ")).not.toContain("/t/debug");
  expect(isLinked(inv)).toBe(false);
});

test("--cfg order does not change the key; --color and --diagnostic-width are left out", () => {
  const swapped = LIB.map((a) =>
    a === 'feature="b"' ? 'feature="a"' : a === 'feature="a"' ? 'feature="b"' : a,
  );
  expect(parseRustcArgs(swapped).keyArgs).toEqual(parseRustcArgs(LIB).keyArgs);
  expect(parseRustcArgs([...LIB, "--color=always", "--diagnostic-width=80"]).keyArgs).toEqual(
    parseRustcArgs(LIB).keyArgs,
  );
  expect(parseRustcArgs([...LIB, "-C", "opt-level=3"]).keyArgs).not.toEqual(parseRustcArgs(LIB).keyArgs);
});

test("bins and proc-macros are linked outputs", () => {
  const bin = parseRustcArgs([
    "--crate-name",
    "app",
    "src/main.rs",
    "--crate-type",
    "bin",
    "--emit=dep-info,link",
    "-C",
    "extra-filename=-1",
    "--out-dir",
    "o",
  ]);
  expect(expectedOutputs(bin)).toEqual(["app-1", "app-1.d"]);
  expect(isLinked(bin)).toBe(true);
  const pm = parseRustcArgs([
    "--crate-name",
    "m",
    "src/lib.rs",
    "--crate-type",
    "proc-macro",
    "--emit=dep-info,link",
    "--out-dir",
    "o",
  ]);
  expect(expectedOutputs(pm)).toEqual(["libm.so", "m.d"]);
});

test("what cannot be keyed is passed through with a reason", () => {
  const reason = (args: string[]) => parseRustcArgs(args).uncacheable;
  expect(reason(["-vV"])).toBe("version probe");
  expect(reason(["-", "--crate-name", "___", "--print=file-names"])).toBe("--print probe");
  expect(reason([...LIB, "-C", "incremental=/t/inc"])).toBe("incremental");
  expect(reason(["--crate-name", "x", "-", "--out-dir", "o"])).toBe("input from stdin");
  expect(reason([...LIB, "--emit=asm"])).toBe("--emit=asm");
  expect(reason([...LIB, "-o", "x"])).toBe("-o (an explicit output file)");
  expect(reason([...LIB, "--unknown-flag"])).toBe("unknown rustc argument --unknown-flag");
});

test("dep-info: the files read and the env vars looked at", () => {
  const d =
    "/t/app-1.d: src/main.rs src/../data/m.txt\n\n/t/app-1: src/main.rs src/../data/m.txt\n\nsrc/main.rs:\nsrc/../data/m.txt:\nsrc/with\\ space.rs:\n\n# env-dep:CARGO_PKG_NAME=app\n# env-dep:MY_VAR\n";
  expect(parseDepInfo(d)).toEqual({
    files: ["src/../data/m.txt", "src/main.rs", "src/with space.rs"],
    env: ["CARGO_PKG_NAME", "MY_VAR"],
  });
});
