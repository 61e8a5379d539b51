/**
 * cc-rs sends a build script's C compiles to RUSTC_WRAPPER only when the wrapper's file is named
 * like a compiler cache it knows (`sccache`, …). When galley launches a build script while it is
 * RUSTC_WRAPPER under its own name, the script sees RUSTC_WRAPPER as a link named `sccache` to the
 * same executable: cc-rs then runs `sccache cc …`, which is galley caching C, and a script that runs
 * rustc through RUSTC_WRAPPER (feature probes) still reaches galley. CMake (the cmake crate) takes
 * galley as its C/C++ compiler launcher from the environment, unless the user chose one.
 */
import { mkdirSync, readlinkSync, realpathSync, renameSync, symlinkSync } from "node:fs";
import { basename, join } from "node:path";
import { resolveOnPath } from "../engine/tool-identity.ts";

type Env = Record<string, string | undefined>;

const CC_RS_KNOWN = /^(sccache|cachepot|buildcache|kache)(\.exe)?$/;

/** True when RUSTC_WRAPPER is this galley executable (under any name). */
export function wrapperIsGalley(env: Env, self: string): boolean {
  const wrapper = env.RUSTC_WRAPPER ? resolveOnPath(env.RUSTC_WRAPPER, env) : undefined;
  if (!wrapper) return false;
  try {
    return realpathSync(wrapper) === realpathSync(self);
  } catch {
    return false;
  }
}

/** The RUSTC_WRAPPER a build script should see, or undefined to leave it as it is. */
export function wrapperForScripts(env: Env, self: string, cacheDir: string): string | undefined {
  const current = env.RUSTC_WRAPPER;
  if (!current || CC_RS_KNOWN.test(basename(current))) return undefined;
  const link = join(cacheDir, "v1", "bin", "sccache");
  try {
    if (readlinkSync(link) === self) return link;
  } catch {}
  try {
    mkdirSync(join(cacheDir, "v1", "bin"), { recursive: true });
    const tmp = `${link}.${process.pid}`;
    symlinkSync(self, tmp);
    renameSync(tmp, link);
    return link;
  } catch {
    return undefined;
  }
}

/** The environment a build script runs in: cargo's, with galley as the C compiler cache. */
export function envForScript(env: Env, self: string, cacheDir: string): Env {
  const out: Env = { ...env };
  const wrapper = wrapperForScripts(env, self, cacheDir);
  if (wrapper) out.RUSTC_WRAPPER = wrapper;
  for (const name of ["CMAKE_C_COMPILER_LAUNCHER", "CMAKE_CXX_COMPILER_LAUNCHER"]) out[name] ??= self;
  return out;
}
