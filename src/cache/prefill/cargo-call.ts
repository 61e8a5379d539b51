/**
 * The cargo command a wrapper process runs under, as a key: prefill records are kept per command
 * (working directory, arguments, the variables that say where and how cargo builds, and the rustc
 * binary), so that a later run of the same command finds the units an earlier one built, in the
 * same places. Nothing of cargo's own logic (target dir, profile, config) is re-derived here.
 */
import { readFileSync, readlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { currentBuild } from "../engine/build-id.ts";
import { sha256Hex } from "../engine/digest.ts";
import { rustcIdentity } from "../engine/tool-identity.ts";

/**
 * Variables that change where cargo puts units or what they are. Left out: diagnostics settings,
 * the wrapper's name (galley under `galley` and under `sccache` builds the same units) and where
 * the cache and the shared store are (two machines with caches of their own share records).
 */
const KEYED_VAR =
  /^(CARGO_(?!TERM_|LOG)\w+|RUSTC(?!_WRAPPER|_WORKSPACE_WRAPPER)\w*|RUSTFLAGS|RUSTDOCFLAGS|RUSTUP_TOOLCHAIN|HOME|CC\w*|CXX\w*|AR\w*|CFLAGS\w*|CXXFLAGS\w*|LDFLAGS|TARGET_\w+|HOST_\w+|PKG_CONFIG\w*|GALLEY_(PORTABLE|SALT|BUILD_SCRIPTS|CACHE_WORKSPACE_BUILD_SCRIPTS))$/;

export interface CargoCall {
  /** Digest of everything below: the record set's name. */
  key: string;
  cargoPid: number;
  /** cargo's working directory, and the target dirs its arguments and variables name. */
  cwd: string;
  targetDirs: string[];
}

/** Variables that name a target (or build) dir. */
const TARGET_DIR_VARS = ["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR", "CARGO_BUILD_BUILD_DIR"];

/** Flags that change what cargo prints or how many jobs it runs, never which units it builds. */
const OUTPUT_FLAGS = new Set(["-q", "--quiet", "-v", "-vv", "--verbose", "--timings"]);
const OUTPUT_OPTIONS = new Set(["--color", "-j", "--jobs", "--message-format"]);

/**
 * cargo's arguments without those: `cargo build -v` is the command `cargo build` is. So is
 * `--manifest-path` naming the working directory's own manifest (what `galley cook` passes).
 */
export function unitArgs(args: string[], cwd: string): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const name = a.startsWith("--") ? a.split("=")[0]! : a;
    if (OUTPUT_FLAGS.has(name)) continue;
    if (name === "--manifest-path") {
      const value = a.includes("=") ? a.slice(a.indexOf("=") + 1) : (args[i + 1] ?? "");
      if (resolve(cwd, value) === join(cwd, "Cargo.toml")) {
        if (!a.includes("=")) i++;
        continue;
      }
    }
    if (OUTPUT_OPTIONS.has(name)) {
      if (!a.includes("=")) i++;
      continue;
    }
    if (/^-j\d+$/.test(a)) continue;
    kept.push(a);
  }
  return kept;
}

export function cargoCallOf(
  rustc: string,
  cacheDir: string,
  env: Record<string, string | undefined>,
): CargoCall | undefined {
  const cargo = currentBuild().cargo;
  if (!cargo) return undefined;
  try {
    const argv = readFileSync(`/proc/${cargo.pid}/cmdline`, "utf8");
    const cwd = readlinkSync(`/proc/${cargo.pid}/cwd`);
    const vars = readFileSync(`/proc/${cargo.pid}/environ`, "utf8")
      .split("\0")
      .filter((kv) => KEYED_VAR.test(kv.slice(0, kv.indexOf("="))))
      .sort();
    // By what it is (`rustc -vV`, memoised), not by its file: a CI runner installs the same
    // toolchain afresh on every run.
    const tool = `${rustc}\0${rustcIdentity(rustc, cacheDir, env)}`;
    const args = argv.split("\0");
    const targetDirs = [
      ...vars
        .filter((kv) => TARGET_DIR_VARS.includes(kv.slice(0, kv.indexOf("="))))
        .map((kv) => kv.slice(kv.indexOf("=") + 1)),
      ...args.flatMap((a, i) =>
        a === "--target-dir" ? [args[i + 1] ?? ""] : a.startsWith("--target-dir=") ? [a.slice(13)] : [],
      ),
    ].filter(Boolean);
    return {
      key: sha256Hex(["prefill-v1", cwd, unitArgs(args, cwd).join("\0"), vars.join("\0"), tool].join("\n")),
      cargoPid: cargo.pid,
      cwd,
      targetDirs,
    };
  } catch {
    // Another user's cargo, or no /proc: no prefill.
    return undefined;
  }
}
