/** One executable, several names: what it was called decides how it reads its arguments. */
import { basename } from "node:path";

export type Persona = "galley" | "cargo-galley" | "cargo-chef" | "sccache";

export const PERSONA_NAMES: readonly Persona[] = ["galley", "cargo-galley", "cargo-chef", "sccache"];

export function detectPersona(env: Record<string, string | undefined>, argv0: string): Persona {
  const forced = env.GALLEY_PERSONA;
  if (forced && (PERSONA_NAMES as readonly string[]).includes(forced)) return forced as Persona;
  const name = basename(argv0).replace(/\.exe$/i, "");
  return (PERSONA_NAMES as readonly string[]).includes(name) ? (name as Persona) : "galley";
}

/** Arguments as galley's own command line: cargo passes the subcommand's name first. */
export function normalizeArgs(persona: Persona, args: string[]): string[] {
  if (persona === "cargo-galley" && args[0] === "galley") return args.slice(1);
  if (persona === "cargo-chef" && args[0] === "chef") return args.slice(1);
  return args;
}

/** Wrapper mode: cargo runs `$RUSTC_WRAPPER <path to rustc> <args>`. */
export function isRustcPath(arg: string | undefined): boolean {
  if (arg === undefined) return false;
  return /^(rustc|clippy-driver)(\.exe)?$/.test(basename(arg));
}

/** Launcher mode (`CC="galley cc"`, CMake's compiler launcher): the first argument is a C/C++ compiler. */
export function isCCompilerPath(arg: string | undefined): boolean {
  if (arg === undefined) return false;
  return /^(.*-)?(cc|c\+\+|gcc|g\+\+|clang|clang\+\+|c89|c99)(-\d+(\.\d+)*)?$/.test(basename(arg));
}
