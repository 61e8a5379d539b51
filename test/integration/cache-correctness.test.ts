/**
 * The compiler cache keys everything that determines rustc's output: each change makes exactly the
 * affected crates miss, and the program built from the cache behaves as one built without it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeDir, run } from "../helpers.ts";
import { ALL_UNITS, appOutput, type CacheProject, cachedBuild, cacheProject, edit } from "./cache-harness.ts";

let p: CacheProject;
beforeAll(() => {
  p = cacheProject();
  cachedBuild(p); // cold: fills the cache
});
afterAll(() => {
  removeDir(join(p.dir, ".."));
  removeDir(join(p.cacheDir, ".."));
});

describe("compiler cache correctness", () => {
  test("after cargo clean, a warm build hits every unit and its binary is byte-identical to a plain build", () => {
    run(["cargo", "build"], { cwd: p.dir, env: { CARGO_INCREMENTAL: "0" } });
    const plain = readFileSync(join(p.dir, "target/debug/app"));
    const warm = cachedBuild(p);
    expect(warm.misses).toEqual([]);
    expect(warm.hits).toEqual(ALL_UNITS);
    expect(readFileSync(join(p.dir, "target/debug/app")).equals(plain)).toBe(true);
    expect(appOutput(p)).toContain("core: hello from corelib");
  });

  test("cargo's variables that cannot reach the code are not in the key (sccache misses on them)", () => {
    const b = cachedBuild(p, {
      env: { CARGO_TERM_COLOR: "always", CARGO_BUILD_JOBS: "1", CARGO_TERM_VERBOSE: "true" },
    });
    expect(b.misses).toEqual([]);
    expect(b.hits).toEqual(ALL_UNITS);
  });

  test("GALLEY_SALT misses everything, on purpose", () => {
    const b = cachedBuild(p, { env: { GALLEY_SALT: "release-2" } });
    expect(b.hits).toEqual([]);
    expect(b.misses).toEqual(ALL_UNITS);
  });

  test("an edit in a path dependency misses it and its dependents only", () => {
    const undo = edit(join(p.dir, "corelib/src/lib.rs"), '"hello from corelib"', '"hi from corelib"');
    try {
      const b = cachedBuild(p);
      expect(b.misses).toEqual(["app", "corelib"]);
      expect(b.hits).toEqual(["build_script_build", "cfg_if", "hello_derive", "itoa"]);
      expect(appOutput(p)).toContain("core: hi from corelib");
    } finally {
      undo();
    }
  });

  test("a file behind include_str! is part of the key", () => {
    const undo = edit(join(p.dir, "app/data/message.txt"), "message from a file", "changed message");
    try {
      const b = cachedBuild(p);
      expect(b.misses).toEqual(["app"]);
      expect(appOutput(p)).toContain("file: changed message");
    } finally {
      undo();
    }
  });

  test("a variable read by option_env! is part of the key", () => {
    const b = cachedBuild(p, { env: { APP_TAG: "v2" } });
    expect(b.misses).toEqual(["app"]);
    expect(appOutput(p)).toContain("tag: v2");
    const again = cachedBuild(p, { env: { APP_TAG: "v2" } });
    expect(again.misses).toEqual([]);
  });

  test("a project's .env file does not reach rustc through the wrapper (plain cargo ignores it)", () => {
    const dotenv = join(p.dir, ".env");
    writeFileSync(dotenv, "APP_TAG=from-dotenv\n");
    try {
      const b = cachedBuild(p);
      expect(b.misses).toEqual([]);
      expect(appOutput(p)).toContain("tag: none");
    } finally {
      rmSync(dotenv, { force: true });
    }
  });

  test("code a build script generates into OUT_DIR (rerun-if-env-changed) is part of the key", () => {
    const b = cachedBuild(p, { env: { GEN_VALUE: "other" } });
    expect(b.misses).toEqual(["app"]);
    expect(b.hits).toContain("build_script_build");
    expect(appOutput(p)).toContain("generated: other");
  });

  test("a native static library from a build script is part of the key of the binary that links it", () => {
    const undo = edit(join(p.dir, "app/native/native.c"), "return 7", "return 8");
    try {
      const b = cachedBuild(p);
      expect(b.misses).toEqual(["app"]);
      expect(appOutput(p)).toContain("native: 8");
    } finally {
      undo();
    }
  });

  test("RUSTFLAGS --cfg misses every unit it reaches", () => {
    const b = cachedBuild(p, { env: { RUSTFLAGS: "--cfg galley_test" } });
    expect(b.hits).toEqual([]);
    expect(appOutput(p)).toContain("cfg: galley_test");
  });

  test("a feature misses the crate that has it", () => {
    const b = cachedBuild(p, { args: ["--features", "app/fancy"] });
    expect(b.misses).toContain("app");
    expect(b.hits).toEqual(expect.arrayContaining(["cfg_if", "corelib", "hello_derive", "itoa"]));
    expect(appOutput(p)).toContain("fancy: on");
  });

  for (const [setting, value] of [
    ["OPT_LEVEL", "1"],
    ["DEBUG", "0"],
    ["CODEGEN_UNITS", "4"],
    ["PANIC", "abort"],
    ["LTO", "thin"],
  ] as const) {
    test(`profile setting ${setting.toLowerCase().replace("_", "-")} is part of the key`, () => {
      const env = { [`CARGO_PROFILE_DEV_${setting}`]: value };
      const b = cachedBuild(p, { env });
      expect(b.misses).toContain("app");
      expect(b.misses).toContain("corelib");
      expect(appOutput(p)).toContain("core: hello from corelib");
      // And the same setting again is a full hit.
      const again = cachedBuild(p, { env });
      expect(again.misses).toEqual([]);
    });
  }

  test("the edition is part of the key", () => {
    const undo = edit(join(p.dir, "corelib/Cargo.toml"), 'edition = "2021"', 'edition = "2018"');
    try {
      const b = cachedBuild(p);
      expect(b.misses).toEqual(["app", "corelib"]);
    } finally {
      undo();
    }
  });

  test("an edit inside a proc-macro crate misses it and its users", () => {
    const undo = edit(
      join(p.dir, "hello-derive/src/lib.rs"),
      '\\"hello from {name}\\"',
      '\\"hi from {name}\\"',
    );
    try {
      const b = cachedBuild(p);
      expect(b.misses).toEqual(["app", "hello_derive"]);
      expect(appOutput(p)).toContain("derive: hi from Greeter");
    } finally {
      undo();
    }
  });

  test("a dependency's version is part of the key", () => {
    const lock = join(p.dir, "Cargo.lock");
    const before = readFileSync(lock, "utf8");
    try {
      run(["cargo", "update", "-p", "itoa", "--precise", "1.0.10"], { cwd: p.dir });
      expect(readFileSync(lock, "utf8")).toContain('version = "1.0.10"');
      const b = cachedBuild(p);
      expect(b.misses).toEqual(["app", "itoa"]);
    } finally {
      Bun.write(lock, before);
    }
  });
});
