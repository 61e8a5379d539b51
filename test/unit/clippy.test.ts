/** clippy-driver as the compiler: its command line, its configuration file, what is not cached. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseRustcArgs } from "../../src/cache/rustc/args.ts";
import { clippyUncacheable, compilerCallOf } from "../../src/cache/rustc/clippy.ts";
import { clippyConfFiles } from "../../src/cache/rustc/clippy-conf.ts";
import { removeDir, tempDir, writeTree } from "../helpers.ts";

const root = realpathSync(tempDir("galley-clippy-conf-"));
afterAll(() => removeDir(root));

describe("compilerCallOf", () => {
  const args = ["--crate-name", "app", "src/main.rs"];
  test("cargo's workspace wrapper: the rustc after clippy-driver is dropped from rustc's arguments", () => {
    expect(compilerCallOf("/tc/bin/clippy-driver", ["/tc/bin/rustc", ...args])).toEqual({
      rustc: "/tc/bin/rustc",
      rustcArgs: args,
      clippyDriver: "/tc/bin/clippy-driver",
    });
  });
  test("clippy-driver as RUSTC is the rustc too", () => {
    expect(compilerCallOf("clippy-driver", args)).toEqual({
      rustc: "clippy-driver",
      rustcArgs: args,
      clippyDriver: "clippy-driver",
    });
  });
  test("plain rustc", () => {
    expect(compilerCallOf("/tc/bin/rustc", args)).toEqual({ rustc: "/tc/bin/rustc", rustcArgs: args });
  });
});

describe("clippyConfFiles", () => {
  const project = join(root, "ws", "member");
  writeTree(root, { "ws/member/src/lib.rs": "", "ws/clippy.toml": "msrv = '1.70'\n" });

  test("walks up from CARGO_MANIFEST_DIR to the first directory with a configuration file", () => {
    expect(clippyConfFiles({ CARGO_MANIFEST_DIR: project }, "/")).toEqual([join(root, "ws", "clippy.toml")]);
  });

  test("CLIPPY_CONF_DIR comes first, relative to the working directory", () => {
    writeTree(root, { "conf/.clippy.toml": "" });
    expect(clippyConfFiles({ CLIPPY_CONF_DIR: "conf", CARGO_MANIFEST_DIR: project }, root)).toEqual([
      join(root, "conf", ".clippy.toml"),
    ]);
  });

  test("without either variable, the working directory", () => {
    expect(clippyConfFiles({}, project)).toEqual([join(root, "ws", "clippy.toml")]);
  });

  test("both names in one directory: .clippy.toml first (clippy reads it and warns of the other)", () => {
    writeTree(root, { "both/.clippy.toml": "", "both/clippy.toml": "" });
    expect(clippyConfFiles({ CARGO_MANIFEST_DIR: join(root, "both") }, "/")).toEqual([
      join(root, "both", ".clippy.toml"),
      join(root, "both", "clippy.toml"),
    ]);
  });

  test("a directory of that name is passed over; a link is followed to its file", () => {
    mkdirSync(join(root, "ws", "member", "clippy.toml"), { recursive: true });
    expect(clippyConfFiles({ CARGO_MANIFEST_DIR: project }, "/")).toEqual([join(root, "ws", "clippy.toml")]);
    writeTree(root, { "shared/lints.toml": "", "linked/src/lib.rs": "" });
    symlinkSync(join(root, "shared", "lints.toml"), join(root, "linked", "clippy.toml"));
    expect(clippyConfFiles({ CARGO_MANIFEST_DIR: join(root, "linked") }, "/")).toEqual([
      join(root, "shared", "lints.toml"),
    ]);
  });

  test("a start directory that does not exist finds none", () => {
    expect(clippyConfFiles({ CLIPPY_CONF_DIR: join(root, "missing") }, "/")).toEqual([]);
  });
});

describe("clippyUncacheable", () => {
  const dir = join(root, "lints");
  const inv = (...extra: string[]) =>
    parseRustcArgs(["--crate-name", "app", "src/lib.rs", "--out-dir", "target", ...extra]);
  writeTree(dir, { "src/lib.rs": "pub fn f() {}\n" });

  test("an ordinary run is cacheable", () => {
    expect(
      clippyUncacheable(inv("-W", "clippy::pedantic"), dir, { CLIPPY_ARGS: "-D__CLIPPY_HACKERY__warnings" }),
    ).toBe(undefined);
  });

  test("clippy's cargo lints, from the flags, CLIPPY_ARGS or the crate root, are not cached", () => {
    expect(clippyUncacheable(inv("--warn=clippy::cargo"), dir, {})).toContain("cargo metadata");
    expect(
      clippyUncacheable(inv(), dir, {
        CLIPPY_ARGS: "-W__CLIPPY_HACKERY__clippy::multiple-crate-versions__CLIPPY_HACKERY__",
      }),
    ).toContain("cargo metadata");
    writeFileSync(join(dir, "src", "lib.rs"), "#![warn(clippy::all, clippy::cargo)]\npub fn f() {}\n");
    expect(clippyUncacheable(inv(), dir, {})).toContain("cargo metadata");
  });
});
