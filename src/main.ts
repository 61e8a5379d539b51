#!/usr/bin/env bun
import { runCli } from "./cli/app.ts";

// No top-level await: the executable is compiled to bytecode for a fast start (one per crate).
runCli(process.argv0, process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
