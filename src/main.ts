#!/usr/bin/env bun
/**
 * Entry point. The wrapper runs once per crate, so its path loads only the cache modules: the
 * commands (TOML, the Dockerfile parser, the lint rules, the gRPC client) are imported only when
 * they run. The executable is built with code splitting, so what is not imported is not even loaded
 * (a wrapper start loads ~100 KB of the ~840 KB program); its chunks are compiled to bytecode.
 *
 * The executable is built to start with JavaScriptCore's JIT held back (package.json's build line):
 * a wrapper lives ~15 ms and its hashing and copying are native, so compiling its run-once
 * JavaScript on JIT threads costs more CPU than it saves. Commands run long enough to want the JIT
 * and restore the normal policy. The build line also keeps the executable from loading `.env` and
 * `bunfig.toml` from cargo's working directory: a project's `.env` must not reach rustc.
 */
import { detectPersona, isCCompilerPath, isRustcPath } from "./cli/persona.ts";
import { writeAllSync } from "./util/write-sync.ts";

const args = process.argv.slice(2);
const persona = detectPersona(process.env, process.argv0);

/** The wrappers print only with synchronous writes, so they can exit the moment they are done. */
function exitNow(code: number): void {
  process.exit(code);
}

/** A bug that escaped the wrappers' own fail-open paths still never fails the build. */
function compileWithoutCache(err: unknown, argv = args): Promise<void> {
  writeAllSync(
    2,
    `galley: internal error (${err instanceof Error ? err.message : String(err)}); compiling without the cache\n`,
  );
  return import("./cache/engine/run-compiler.ts").then((m) => m.runPlain(argv).then(exitNow));
}

if (args[0] === "--galley-build-script" && args[1] !== undefined) {
  // A build script's launcher: `galley --galley-build-script <real binary> <args>`
  import("./cache/build-script/wrapper.ts")
    .then((m) => m.runBuildScript(args[1]!, args.slice(2)).then(exitNow))
    .catch((err) => compileWithoutCache(err, args.slice(1)));
} else if (args[0] === "--galley-upload") {
  // The upload queue's drainer, started detached by a wrapper whose upload outlived its grace.
  import("./cache/store/upload-drainer.ts")
    .then((m) => m.runUploadDrainer(process.env).then(exitNow))
    .catch(() => exitNow(0));
} else if (isRustcPath(args[0])) {
  import("./cache/rustc/wrapper.ts")
    .then((m) => m.runRustcWrapper(args[0]!, args.slice(1)).then(exitNow))
    .catch(compileWithoutCache);
} else if (
  (persona === "sccache" && args[0] !== undefined && !args[0].startsWith("-")) ||
  isCCompilerPath(args[0])
) {
  // cc-rs: `sccache <cc> <args>`; `CC="galley cc"`; CMake's CMAKE_C_COMPILER_LAUNCHER=galley
  import("./cache/cc/wrapper.ts")
    .then((m) => m.runCcWrapper(args[0]!, args.slice(1)).then(exitNow))
    .catch(compileWithoutCache);
} else {
  Bun.unsafe.setJITPolicy(1);
  import("./cli/app.ts").then((m) =>
    m.runCli(process.argv0, args).then((code) => {
      process.exitCode = code;
    }),
  );
}
