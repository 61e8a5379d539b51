/**
 * The base key of a build script's run: the script binary, its package's sources, the variables
 * cargo gives build scripts that can change what they do, and the identities of the tools they
 * run (rustc, the C compiler, C++ compiler and archiver, and those named in CC/CXX/AR variables).
 * Paths of the target directory are tokens here; the direct-mode part (the files and variables
 * the script declared, and OUT_DIR itself when its outputs hold the path) is added by the engine.
 */
import type { FileDigests } from "../engine/file-digest.ts";
import type { KeyParts } from "../engine/key.ts";
import { type PathToken, tokenize } from "../engine/path-tokens.ts";
import { binaryIdentity, rustcIdentity } from "../engine/tool-identity.ts";

type Env = Record<string, string | undefined>;

/** Variables that can change what a build script does (cargo's, cc-rs's and the C toolchain's). */
const RUN_ENV = [
  /^(TARGET|HOST|PROFILE|OPT_LEVEL|DEBUG|RUSTC_LINKER|CARGO_ENCODED_RUSTFLAGS|CARGO_MANIFEST_LINKS)$/,
  /^CARGO_(FEATURE|CFG|PKG)_/,
  /^DEP_/,
  /^(HOST_|TARGET_)?(CC|CXX|AR|RANLIB|CFLAGS|CXXFLAGS|CPPFLAGS|ARFLAGS|RANLIBFLAGS|LDFLAGS|CXXSTDLIB)(_[A-Za-z0-9_.-]+)?$/,
  /^(CRATE_CC_NO_DEFAULTS|CC_SHELL_ESCAPED_FLAGS|CC_FORCE_DISABLE)$/,
  /^(CPATH|C_INCLUDE_PATH|CPLUS_INCLUDE_PATH|LIBRARY_PATH|SOURCE_DATE_EPOCH|RUSTC_BOOTSTRAP)$/,
];
/** Tool variables whose first word (after a known wrapper) is a program to identify. */
const TOOL_VAR = /^(HOST_|TARGET_)?(CC|CXX|AR|RANLIB)(_[A-Za-z0-9_.-]+)?$/;
const WRAPPERS = new Set([
  "ccache",
  "sccache",
  "distcc",
  "icecc",
  "cachepot",
  "buildcache",
  "kache",
  "galley",
]);

export interface RunKeyContext {
  script: string;
  source: string;
  env: Env;
  cacheDir: string;
  digests: FileDigests;
  /** The target's profile directory as a token: other packages' OUT_DIRs in DEP_* values. */
  tokens: PathToken[];
}

export function runBasePartsOf(ctx: RunKeyContext): KeyParts {
  const { env } = ctx;
  const parts: KeyParts = {
    format: "galley-build-script-v1",
    salt: env.GALLEY_SALT ?? "",
    script: ctx.digests.digest(ctx.script) ?? "missing",
    source: ctx.source,
    rustc: rustcIdentity(env.RUSTC || "rustc", ctx.cacheDir, env),
  };
  const tools = new Set(["cc", "c++", "ar"]);
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !RUN_ENV.some((re) => re.test(name))) continue;
    parts[`env:${name}`] = tokenize(value, ctx.tokens);
    if (TOOL_VAR.test(name)) {
      const words = value.trim().split(/\s+/);
      const tool = WRAPPERS.has(words[0]?.split("/").pop() ?? "") ? words[1] : words[0];
      if (tool) tools.add(tool);
    }
  }
  for (const tool of tools) parts[`tool:${tool}`] = binaryIdentity(tool, ctx.cacheDir, env);
  return parts;
}
