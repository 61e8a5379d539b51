/**
 * C/C++/assembler compiles through the `sccache` name (cc-rs runs `sccache <cc> <args>`), cached
 * like ccache's direct mode: the compiler's identity, the arguments, the working directory, the
 * source and every header the compiler reported; when the headers changed, a preprocessor-mode
 * lookup (the hash of `cc -E`) can still find the object.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { ActionCache, type ActionSpec, type OutputFile } from "../engine/action-cache.ts";
import { maybeStartGc } from "../engine/auto-gc.ts";
import { cacheStore, noteStoreReport } from "../engine/cache-store.ts";
import { cacheConfig } from "../engine/config.ts";
import { sha256Hex } from "../engine/digest.ts";
import { compileMiss, failOpen, storeFailed } from "../engine/fail-open.ts";
import { FileDigests } from "../engine/file-digest.ts";
import { describeUnit, type UnitInfo } from "../engine/journal.ts";
import { type KeyParts, keyOf } from "../engine/key.ts";
import { noticeOnce } from "../engine/notice.ts";
import { runPlain } from "../engine/run-compiler.ts";
import { recordStat, type StatEvent } from "../engine/stats.ts";
import { binaryIdentity } from "../engine/tool-identity.ts";
import { newReport } from "../store/report.ts";
import { type CcInvocation, parseCcArgs } from "./args.ts";
import { parseMakeDepfile } from "./make-depfile.ts";

type Env = Record<string, string | undefined>;

/** Variables the preprocessor and compiler read. */
const COMPILER_ENV = [
  "CPATH",
  "C_INCLUDE_PATH",
  "CPLUS_INCLUDE_PATH",
  "OBJC_INCLUDE_PATH",
  "SOURCE_DATE_EPOCH",
  "GCC_EXEC_PREFIX",
  "COMPILER_PATH",
  "SDKROOT",
];

export async function runCcWrapper(compiler: string, args: string[]): Promise<number> {
  const started = performance.now();
  const env: Env = process.env;
  const cwd = process.cwd();
  const inv = parseCcArgs(compiler, args);
  const argv = [compiler, ...args];
  let dir: string;
  try {
    dir = cacheConfig(env).dir;
  } catch (err) {
    noticeOnce("config", `${(err as Error).message}; compiling without the cache`);
    return await runPlain(argv);
  }
  const label = `cc:${inv.source ? basename(inv.source) : "?"}`;
  describeUnit(ccUnit(inv.source, env));
  if (inv.uncacheable) {
    const code = await runPlain(argv);
    recordStat(dir, { outcome: "passthrough", reason: `C/C++: ${inv.uncacheable}`, crate: label });
    return code;
  }
  const event: StatEvent = { outcome: "miss", crate: label };
  const digests = new FileDigests(dir);
  const report = newReport();
  const cache = new ActionCache(await cacheStore(dir, env, report), dir, digests, cwd, env, event);
  let spec: ActionSpec;
  let ppKey: string | undefined;
  try {
    spec = specOf(inv, label, cwd, env, dir);
    const outcome = await cache.lookup(spec);
    if (outcome === "inputs-changed") {
      // Headers changed (or were touched): the preprocessed text may still be the same.
      ppKey = preprocessedKey(inv, spec.base);
      if (ppKey && (await cache.restore(spec, ppKey))) event.reason = "preprocessor mode";
    }
    if (outcome === "hit" || event.reason === "preprocessor mode") {
      event.outcome = "hit";
      event.wrapperMs = performance.now() - started;
      noteStoreReport(event, report);
      recordStat(dir, event);
      return 0;
    }
  } catch (err) {
    return await failOpen(dir, err, argv, event);
  }

  // A miss: compile, learning the headers from a dependency file of our own unless one was asked for.
  const scratch = inv.depfile ? undefined : mkdtempSync(join(tmpdir(), "galley-cc-"));
  const depfile = inv.depfile ?? join(scratch!, "deps.d");
  const compileArgv = inv.depfile ? argv : [...argv, "-MD", "-MF", depfile];
  try {
    noteStoreReport(event, report);
    const compiled = await compileMiss(compileArgv, dir, event);
    if (compiled.code !== 0) return compiled.code;
    try {
      const headers = parseMakeDepfile(readFileSync(resolve(cwd, depfile), "utf8"));
      const outputs: OutputFile[] = [readOutput(cwd, spec.root, inv.output!)];
      if (inv.depfile) outputs.push(readOutput(cwd, spec.root, inv.depfile));
      // A preprocessor-mode entry costs a `cc -E`: worth it where recompiling is slow (sqlite3.c).
      if (!ppKey && (event.compileMs ?? 0) >= preprocessThresholdMs(env))
        ppKey = preprocessedKey(inv, spec.base);
      await cache.save(spec, { files: headers, env: [] }, outputs, compiled, ppKey ? [ppKey] : []);
      event.reason = "stored";
      maybeStartGc(env);
    } catch (err) {
      storeFailed(dir, err, event);
    }
    noteStoreReport(event, report);
    recordStat(dir, event);
    return 0;
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

/** A C compile as a unit of the build journal: the source, in the package whose build script ran it. */
function ccUnit(source: string | undefined, env: Env): UnitInfo {
  const pkg = env.CARGO_PKG_NAME;
  const name = `${pkg ? `${pkg}: ` : ""}${source ? basename(source) : "?"}`;
  return pkg ? { kind: "cc", name, pkg: `${pkg}@${env.CARGO_PKG_VERSION ?? ""}` } : { kind: "cc", name };
}

/** Compiles at least this slow also get a preprocessor-mode entry (GALLEY_CC_PREPROCESS_MS). */
function preprocessThresholdMs(env: Env): number {
  const v = Number(env.GALLEY_CC_PREPROCESS_MS);
  return Number.isFinite(v) && env.GALLEY_CC_PREPROCESS_MS !== "" && env.GALLEY_CC_PREPROCESS_MS !== undefined
    ? v
    : 1000;
}

function specOf(inv: CcInvocation, label: string, cwd: string, env: Env, dir: string): ActionSpec {
  const base: KeyParts = {
    // v2: outputs are named relative to the object's directory, not the working directory.
    format: "galley-cc-v2",
    salt: env.GALLEY_SALT ?? "",
    compiler: binaryIdentity(inv.compiler, dir, env),
    args: sha256Hex(JSON.stringify(inv.args)),
    cwd,
  };
  for (const name of COMPILER_ENV) if (env[name] !== undefined) base[`env:${name}`] = env[name]!;
  // cc-rs compiles in the package's source directory (under ~/.cargo/registry for a crates.io
  // crate) into OUT_DIR: outputs are named from the object's own directory, so that a record never
  // names a path that climbs out of it (a shared store's reader refuses such records).
  const root = inv.output ? dirname(resolve(cwd, inv.output)) : cwd;
  return { label, base, root };
}

/** The key of the preprocessed source, or undefined when the preprocessor fails. */
function preprocessedKey(inv: CcInvocation, base: KeyParts): string | undefined {
  const args: string[] = [];
  for (let i = 0; i < inv.args.length; i++) {
    const a = inv.args[i]!;
    if (a === "-c" || a === "-MD" || a === "-MMD") continue;
    if (a === "-o" || a === "-MF" || a === "-MT" || a === "-MQ") {
      i++;
      continue;
    }
    if (/^-(o|MF)./.test(a)) continue;
    args.push(a);
  }
  const p = Bun.spawnSync([inv.compiler, "-E", ...args], { stdout: "pipe", stderr: "ignore" });
  if (p.exitCode !== 0) return undefined;
  return keyOf({ base: keyOf(base), preprocessed: sha256Hex(p.stdout) });
}

function readOutput(cwd: string, root: string, path: string): OutputFile {
  const abs = resolve(cwd, path);
  const st = statSync(abs);
  return { name: relative(root, abs), mode: st.mode & 0o7777, file: abs, size: st.size };
}
