/**
 * The action key of a rustc invocation, in two steps (direct mode):
 *  - the *base* key: rustc's identity, the arguments, the working directory, the content of every
 *    --extern, native library and target spec, the linker for linked outputs, and the allowlisted
 *    cargo variables that reach the code;
 *  - the *full* key: the base key plus the content of every file and the value of every env var
 *    that rustc reported reading on the last miss (its dep-info), looked up by the base key.
 * Each part is kept by name so that `galley explain` can say which one changed.
 */
import { join, resolve } from "node:path";
import { sha256Hex } from "../engine/digest.ts";
import type { FileDigests } from "../engine/file-digest.ts";
import type { KeyParts } from "../engine/key.ts";
import { tokenize } from "../engine/path-tokens.ts";
import { binaryIdentity, rustcIdentity } from "../engine/tool-identity.ts";
import { isLinked, type RustcInvocation } from "./args.ts";
import type { PathPolicy } from "./paths.ts";

/**
 * Cargo's variables that can reach the compiled code (env!, option_env!, build scripts' cfgs). One
 * pattern: it is tested against each of the ~100 variables of every wrapper process.
 */
const CARGO_ENV_ALLOW =
  /^(?:CARGO_PKG_.*|CARGO_BIN_EXE_.*|CARGO_CRATE_NAME|CARGO_MANIFEST_DIR|CARGO_MANIFEST_PATH|CARGO_MANIFEST_LINKS|CARGO_PRIMARY_PACKAGE|CARGO_BIN_NAME|CARGO_TARGET_TMPDIR|CARGO_RUSTC_CURRENT_DIR|OUT_DIR|RUSTC_BOOTSTRAP)$/;
/** Cargo's variables that hold a path: tokens where the path policy says so. */
const PATH_VALUED = new Set([
  "OUT_DIR",
  "CARGO_TARGET_TMPDIR",
  "CARGO_MANIFEST_DIR",
  "CARGO_MANIFEST_PATH",
  "CARGO_RUSTC_CURRENT_DIR",
]);
/** Variables the system linker reads. */
const LINKER_ENV = ["LIBRARY_PATH", "LD_RUN_PATH"];

export interface KeyContext {
  rustc: string;
  inv: RustcInvocation;
  cwd: string;
  env: Record<string, string | undefined>;
  cacheDir: string | undefined;
  salt: string;
  digests: FileDigests;
  paths: PathPolicy;
}

export function basePartsOf(ctx: KeyContext): KeyParts {
  const { inv, env, paths } = ctx;
  const tok = (v: string) => tokenize(v, paths.keyTokens);
  const parts: KeyParts = {
    format: "galley-rustc-v1",
    salt: ctx.salt,
    rustc: rustcIdentity(ctx.rustc, ctx.cacheDir, env),
    args: sha256Hex(JSON.stringify(inv.keyArgs.map(tok))),
    cwd: tok(ctx.cwd),
  };
  if (paths.extraArgs.length > 0) parts.portable = paths.keyTokens.map((t) => t.token).join(",");
  for (const ext of inv.externs) {
    if (!ext.path) continue;
    parts[`extern:${ext.name}:${basename(ext.path)}`] =
      ctx.digests.digest(resolve(ctx.cwd, ext.path)) ?? "missing";
  }
  if (inv.target?.endsWith(".json"))
    parts.targetSpec = ctx.digests.digest(resolve(ctx.cwd, inv.target)) ?? "missing";
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !CARGO_ENV_ALLOW.test(name)) continue;
    const raw = !PATH_VALUED.has(name) || (name === "OUT_DIR" && paths.rawOutDir);
    parts[`env:${name}`] = raw ? value : tok(value);
  }
  for (const lib of inv.libs) {
    const file = findNativeLib(lib, inv, ctx.cwd);
    if (file) parts[`lib:${lib.name}`] = ctx.digests.digest(file) ?? "missing";
  }
  if (isLinked(inv)) {
    parts.linker = binaryIdentity(inv.codegen.get("linker") ?? "cc", ctx.cacheDir, env);
    for (const name of LINKER_ENV) if (env[name] !== undefined) parts[`env:${name}`] = env[name]!;
  }
  return parts;
}

function findNativeLib(
  lib: { kind: string; name: string },
  inv: RustcInvocation,
  cwd: string,
): string | undefined {
  const name = lib.name.split(":")[0]!;
  const kind = lib.kind.split(":")[0]!;
  const candidates = kind === "static" ? [`lib${name}.a`] : [`lib${name}.so`, `lib${name}.a`];
  for (const sp of inv.searchPaths) {
    for (const c of candidates) {
      const p = join(resolve(cwd, sp.path), c);
      if (Bun.file(p).size > 0) return p;
    }
  }
  return undefined;
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}
