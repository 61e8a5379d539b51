#!/usr/bin/env bun
/**
 * Entry point. The wrapper runs once per crate, so its path loads only the cache modules: the
 * commands (TOML, the Dockerfile parser, the lint rules) are imported only when a command runs.
 * No top-level await: the executable is compiled to bytecode for a fast start.
 */
import { detectPersona, isRustcPath } from "./cli/persona.ts";

const args = process.argv.slice(2);
const persona = detectPersona(process.env, process.argv0);

function run(): Promise<number> {
  if (isRustcPath(args[0])) {
    return import("./cache/rustc-wrapper.ts").then((m) => m.runRustcWrapper(args[0]!, args.slice(1)));
  }
  if (persona === "sccache" && args[0] !== undefined && !args[0].startsWith("-")) {
    // cc-rs: `sccache <cc> <args>`
    return import("./cache/cc-wrapper.ts").then((m) => m.runCcWrapper(args[0]!, args.slice(1)));
  }
  return import("./cli/app.ts").then((m) => m.runCli(process.argv0, args));
}

run().then((code) => {
  process.exitCode = code;
});
