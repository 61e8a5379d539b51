/**
 * clippy-driver as the compiler. `cargo clippy` sets RUSTC_WORKSPACE_WRAPPER to clippy-driver, so
 * for workspace members cargo runs `galley <clippy-driver> <rustc> <args>`; clippy-driver drops
 * that rustc path (as it does for any second argument named rustc) and compiles with the rustc it
 * is built into, adding its lints. Its run is keyed like rustc's, plus what changes its verdict: the
 * driver itself, CLIPPY_ARGS (cargo clippy's `-- -D warnings` and the like), the configuration
 * file and the variables clippy reads.
 */
import { readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import type { FileDigests } from "../engine/file-digest.ts";
import type { KeyParts } from "../engine/key.ts";
import { tokenize } from "../engine/path-tokens.ts";
import { clippyIdentity } from "../engine/tool-identity.ts";
import type { RustcInvocation } from "./args.ts";
import { clippyConfFiles } from "./clippy-conf.ts";
import type { PathPolicy } from "./paths.ts";

type Env = Record<string, string | undefined>;

/** What a wrapper was asked to run: the command as given, and the rustc arguments in it. */
export interface CompilerCall {
  /** The rustc that keys the invocation (with a driver in front: the path it was given, if any). */
  rustc: string;
  /** The arguments as rustc reads them. */
  rustcArgs: string[];
  /** clippy-driver, when that is the compiler. */
  clippyDriver?: string;
}

export const isClippyDriver = (path: string): boolean => /^clippy-driver(\.exe)?$/.test(basename(path));

/** `<clippy-driver> <rustc> <args>` or `<clippy-driver> <args>` (clippy-driver as RUSTC); else rustc. */
export function compilerCallOf(tool: string, args: string[]): CompilerCall {
  if (!isClippyDriver(tool)) return { rustc: tool, rustcArgs: args };
  // clippy-driver's own test: the second argument's file stem is `rustc`.
  const first = args[0];
  if (first !== undefined && /^rustc(\.exe)?$/.test(basename(first)))
    return { rustc: first, rustcArgs: args.slice(1), clippyDriver: tool };
  return { rustc: tool, rustcArgs: args, clippyDriver: tool };
}

/** The label of a clippy run in stats and `galley explain`: never mixed with the crate's compiles. */
export const clippyLabel = (crate: string): string => `clippy:${crate}`;

/**
 * clippy's cargo lints run `cargo metadata` from inside the driver and lint what it says (every
 * manifest and Cargo.lock of the workspace), which dep-info does not report: such a run is not cached.
 */
const CARGO_LINTS =
  /clippy::(?:cargo\b|cargo[-_]common[-_]metadata|multiple[-_]crate[-_]versions|negative[-_]feature[-_]names|redundant[-_]feature[-_]names|wildcard[-_]dependencies)/;

/** Why this clippy run cannot be cached, if it cannot. */
export function clippyUncacheable(inv: RustcInvocation, cwd: string, env: Env): string | undefined {
  const reason = "clippy's cargo lints (they read the workspace through cargo metadata)";
  if (CARGO_LINTS.test(env.CLIPPY_ARGS ?? "") || inv.args.some((a) => CARGO_LINTS.test(a))) return reason;
  // Enabled by the crate root's own attributes: only there can a crate-level lint level be set.
  if (inv.input !== undefined) {
    try {
      if (CARGO_LINTS.test(readFileSync(resolve(cwd, inv.input), "utf8"))) return reason;
    } catch {
      // rustc reports the missing input itself
    }
  }
  return undefined;
}

/**
 * Variables clippy-driver reads that change what it says. Left out: CLIPPY_TERMINAL_WIDTH (cargo
 * clippy sets it to the terminal's width), which only lays out the error for an unknown
 * configuration key, and an error is never stored.
 */
export function clippyPartsOf(
  driver: string,
  cwd: string,
  env: Env,
  cacheDir: string | undefined,
  digests: FileDigests,
  paths: PathPolicy,
): KeyParts {
  const tok = (v: string) => tokenize(v, paths.keyTokens);
  const parts: KeyParts = {
    clippy: clippyIdentity(driver, cacheDir, env),
    // Split on `__CLIPPY_HACKERY__` by the driver, in order: later lint flags override earlier ones.
    "env:CLIPPY_ARGS": env.CLIPPY_ARGS ?? "unset",
    "env:CLIPPY_CONF_DIR": env.CLIPPY_CONF_DIR === undefined ? "unset" : tok(env.CLIPPY_CONF_DIR),
    // Any value turns the "for further information visit" links off.
    "env:CLIPPY_DISABLE_DOCS_LINKS": env.CLIPPY_DISABLE_DOCS_LINKS === undefined ? "unset" : "set",
    // The driver adds `--sysroot $SYSROOT` when the arguments have none.
    "env:SYSROOT": env.SYSROOT ?? "unset",
  };
  const conf = clippyConfFiles(env, cwd);
  parts.clippyConf =
    conf.length === 0
      ? "none"
      : JSON.stringify(conf.map((file) => [tok(file), digests.digest(file) ?? "missing"]));
  return parts;
}
