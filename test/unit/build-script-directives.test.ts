import { describe, expect, test } from "bun:test";
import { parseDirectives } from "../../src/cache/build-script/directives.ts";
import { profileDirOf, tokenize } from "../../src/cache/engine/path-tokens.ts";

const OUT = "/w/target/release/build/foo-1/out";
const PKG = "/home/u/.cargo/registry/src/index/foo-1.0.0";

describe("build-script directives", () => {
  test("paths inside OUT_DIR and the package may be restored", () => {
    const d = parseDirectives(
      [
        `cargo:rustc-link-search=native=${OUT}`,
        "cargo:rustc-link-lib=static=foo",
        `cargo::rerun-if-changed=${PKG}/src/x.c`,
        "cargo:rerun-if-changed=build.rs",
        "cargo:rerun-if-env-changed=FOO_LEVEL",
        "cargo:rerun-if-env-changed=LIBSQLITE3_SYS_USE_PKG_CONFIG",
        `cargo:include=${PKG}/include`,
        "cargo:warning=found /usr/lib but ignoring it",
      ].join("\n"),
      OUT,
      PKG,
    );
    expect(d.unrestorable).toBeUndefined();
    expect(d.rerunIfChanged).toEqual([`${PKG}/src/x.c`, "build.rs"]);
    expect(d.rerunIfEnvChanged).toEqual(["FOO_LEVEL", "LIBSQLITE3_SYS_USE_PKG_CONFIG"]);
  });

  test("a system path, a file outside the package or a pkg-config variable is never restored", () => {
    expect(
      parseDirectives("cargo:rustc-link-search=native=/usr/lib/x86_64-linux-gnu", OUT, PKG).unrestorable,
    ).toContain("points outside OUT_DIR");
    expect(parseDirectives("cargo:rustc-link-arg=-Wl,-rpath,/opt/lib", OUT, PKG).unrestorable).toContain(
      "outside",
    );
    expect(parseDirectives("cargo:rerun-if-changed=../other/x.h", OUT, PKG).unrestorable).toContain(
      "outside",
    );
    expect(parseDirectives("cargo:rerun-if-env-changed=PKG_CONFIG_PATH", OUT, PKG).unrestorable).toContain(
      "probes the system",
    );
  });
});

describe("path tokens", () => {
  test("a whole path only", () => {
    const t = [{ token: "@P@", path: "/w/target/release" }];
    expect(tokenize("-L native=/w/target/release/build/x/out", t)).toBe("-L native=@P@/build/x/out");
    expect(tokenize("/w/target/release2/x", t)).toBe("/w/target/release2/x");
  });

  test("the profile directory of cargo's output directories", () => {
    expect(profileDirOf("/w/target/release/deps")).toBe("/w/target/release");
    expect(profileDirOf("/w/target/x86_64-unknown-linux-gnu/debug/build/foo-12ab")).toBe(
      "/w/target/x86_64-unknown-linux-gnu/debug",
    );
    expect(profileDirOf(OUT)).toBe("/w/target/release");
    expect(profileDirOf("/tmp/somewhere")).toBeUndefined();
  });
});
