/**
 * Where paths may reach a rustc key. By default the target directory stays out of the key (its
 * profile directory is a token in OUT_DIR and `-L` paths), and reaches it again exactly where it can
 * reach the output: a file read from under it, or `env!("OUT_DIR")`, is a direct-mode part with its
 * real path. In portable mode (GALLEY_PORTABLE=1) rustc also remaps the checkout, the target
 * directory and the cargo home in everything it writes, so those paths leave the key too.
 */
import { homedir } from "node:os";
import { basename, join, resolve } from "node:path";
import { isWithin, type PathToken, profileDirOf } from "../engine/path-tokens.ts";
import type { RustcInvocation } from "./args.ts";

type Env = Record<string, string | undefined>;

export const PROFILE_TOKEN = "@@GALLEY_PROFILE@@";
export const CHECKOUT_TOKEN = "@@GALLEY_CHECKOUT@@";
export const CARGO_HOME_TOKEN = "@@GALLEY_CARGO_HOME@@";

/** Where portable mode remaps each path in what rustc writes. */
const REMAP_TO: Record<string, string> = {
  [CARGO_HOME_TOKEN]: "/galley/cargo",
  [CHECKOUT_TOKEN]: "/galley/checkout",
  [PROFILE_TOKEN]: "/galley/target",
};

export function isPortable(env: Env): boolean {
  return env.GALLEY_PORTABLE === "1";
}

export function cargoHomeOf(env: Env): string {
  return resolve(env.CARGO_HOME || join(env.HOME || homedir(), ".cargo"));
}

export interface PathPolicy {
  /** Tokens for the values of path-valued cargo variables and `-L` arguments in the key. */
  keyTokens: PathToken[];
  /** Tokens for the direct-mode file list and relocated text (portable mode only). */
  fileTokens: PathToken[];
  /** Arguments added to the real rustc (portable mode's remaps). */
  extraArgs: string[];
  /** Keep OUT_DIR's real value in the key: a proc-macro may read it without rustc knowing. */
  rawOutDir: boolean;
  /** env! values keyed with tokens (portable mode: OUT_DIR, whose use is include!). */
  tokenEnv: string[];
}

export function pathPolicyOf(inv: RustcInvocation, cwd: string, env: Env): PathPolicy {
  const profile = inv.outDir ? profileDirOf(resolve(cwd, inv.outDir)) : undefined;
  const profileToken = profile ? [{ token: PROFILE_TOKEN, path: profile }] : [];
  const rawOutDir = inv.externs.some((e) => e.path?.endsWith(".so"));
  if (!isPortable(env))
    return { keyTokens: profileToken, fileTokens: [], extraArgs: [], rawOutDir, tokenEnv: [] };
  const cargoHome = cargoHomeOf(env);
  const tokens: PathToken[] = [{ token: CARGO_HOME_TOKEN, path: cargoHome }];
  if (!isWithin(cwd, cargoHome)) tokens.push({ token: CHECKOUT_TOKEN, path: cwd });
  tokens.push(...profileToken);
  // rustc applies the last matching remap: the most specific (the target dir in the checkout) last.
  const extraArgs = tokens.map((t) => {
    const to = t.token === PROFILE_TOKEN ? `${REMAP_TO[t.token]}/${basename(t.path)}` : REMAP_TO[t.token];
    return `--remap-path-prefix=${t.path}=${to}`;
  });
  // Portable mode trusts proc-macros not to write the paths they may read into the code.
  return { keyTokens: tokens, fileTokens: tokens, extraArgs, rawOutDir: false, tokenEnv: ["OUT_DIR"] };
}
