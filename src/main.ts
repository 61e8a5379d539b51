#!/usr/bin/env bun
import { runCli } from "./cli/app.ts";

const code = await runCli(process.argv0, process.argv.slice(2));
process.exitCode = code;
