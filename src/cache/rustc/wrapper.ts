/**
 * galley as RUSTC_WRAPPER: look the invocation up, restore and replay on a hit (never starting
 * rustc), compile and store on a miss. Any internal failure runs rustc as if galley were not there.
 * The compiler may be clippy-driver in front of rustc (cargo clippy's workspace members): its
 * lints are replayed the same way, under a key of its own (clippy.ts).
 */
import { readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { isCompiled } from "../../util/compiled.ts";
import { debug, isDebug } from "../../util/term.ts";
import { installLauncher, isBuildScriptCompile } from "../build-script/launcher.ts";
import { ActionCache, type ActionSpec, type OutputFile } from "../engine/action-cache.ts";
import { maybeStartGc } from "../engine/auto-gc.ts";
import { cacheStore, noteStoreReport } from "../engine/cache-store.ts";
import { cacheConfig } from "../engine/config.ts";
import { compileMiss, failOpen, storeFailed } from "../engine/fail-open.ts";
import { FileDigests } from "../engine/file-digest.ts";
import { describeUnit } from "../engine/journal.ts";
import { noticeOnce } from "../engine/notice.ts";
import { runPlain } from "../engine/run-compiler.ts";
import { recordStat, type StatEvent } from "../engine/stats.ts";
import { prefillAtProbe } from "../prefill/at-probe.ts";
import { isRegistryPackage, recordForPrefill } from "../prefill/capture.ts";
import { newReport } from "../store/report.ts";
import { expectedOutputs, parseRustcArgs, type RustcInvocation } from "./args.ts";
import {
  type CompilerCall,
  clippyLabel,
  clippyPartsOf,
  clippyUncacheable,
  compilerCallOf,
} from "./clippy.ts";
import { parseDepInfo } from "./dep-info.ts";
import { basePartsOf } from "./key.ts";
import { type PathPolicy, pathPolicyOf } from "./paths.ts";
import { rustcUnit } from "./unit.ts";

type Env = Record<string, string | undefined>;

export async function runRustcWrapper(tool: string, args: string[]): Promise<number> {
  const started = performance.now();
  const env: Env = process.env;
  const cwd = process.cwd();
  const argv = [tool, ...args];
  const call = compilerCallOf(tool, args);
  const rustc = call.rustc;
  const inv = parseRustcArgs(call.rustcArgs);
  // Probes (-vV, --print) are frequent and uninteresting: not counted. cargo does not show their
  // stderr, so nothing is said from them either.
  if (inv.uncacheable === "version probe" || inv.uncacheable === "--print probe") {
    // The first probe of a build comes before cargo reads any fingerprint: the moment to prefill.
    if (inv.uncacheable === "version probe") await prefillAtProbe(rustc, env);
    return await runPlain(argv);
  }
  let dir: string;
  try {
    dir = cacheConfig(env).dir;
  } catch (err) {
    noticeOnce("config", `${(err as Error).message}; compiling without the cache`);
    return await runPlain(argv);
  }
  const label = call.clippyDriver ? clippyLabel(inv.crateName ?? "?") : (inv.crateName ?? "?");
  describeUnit(rustcUnit(inv, env, call.clippyDriver !== undefined));
  const uncacheable = inv.uncacheable ?? (call.clippyDriver ? clippyUncacheable(inv, cwd, env) : undefined);
  if (uncacheable) {
    const code = await runPlain(argv);
    recordStat(dir, { outcome: "passthrough", reason: uncacheable, crate: label });
    return code;
  }

  const event: StatEvent = { outcome: "miss", crate: label };
  const digests = new FileDigests(dir);
  const report = newReport();
  const store = await cacheStore(dir, env, report);
  const cache = new ActionCache(store, dir, digests, cwd, env, event);
  let spec: ActionSpec | undefined;
  let paths: PathPolicy = { keyTokens: [], fileTokens: [], extraArgs: [], rawOutDir: true, tokenEnv: [] };
  try {
    paths = pathPolicyOf(inv, cwd, env);
    spec = specOf(inv, call, label, cwd, env, dir, digests, paths);
    const keyed = performance.now();
    const outcome = await cache.lookup(spec);
    // Built only when asked for: this runs once per crate.
    if (isDebug()) {
      debug(
        `${label}: started at ${started.toFixed(1)} ms; key in ${(keyed - started).toFixed(1)} ms; ${outcome} after ${(performance.now() - started).toFixed(1)} ms (restore ${event.restoreMs ?? 0} ms)`,
      );
    }
    if (outcome === "hit") {
      event.outcome = "hit";
      launchThroughGalley(inv, cwd, env);
      await recordForPrefill(dir, store, digests, env, prefillNote(inv, rustc, cwd, env, event));
      event.wrapperMs = performance.now() - started;
      noteStoreReport(event, report);
      recordStat(dir, event);
      return 0;
    }
  } catch (err) {
    return await failOpen(dir, err, argv, event);
  }

  noteStoreReport(event, report);
  const compiled = await compileMiss([...argv, ...paths.extraArgs], dir, event);
  if (compiled.code !== 0) return compiled.code;
  const saving = performance.now();
  try {
    event.reason = await save(cache, spec, inv, cwd, compiled);
    if (event.reason === "stored") maybeStartGc(env);
  } catch (err) {
    storeFailed(dir, err, event);
  }
  if (isDebug())
    debug(
      `${label}: compiled in ${event.compileMs} ms; stored in ${(performance.now() - saving).toFixed(1)} ms; done at ${performance.now().toFixed(1)} ms`,
    );
  noteStoreReport(event, report);
  launchThroughGalley(inv, cwd, env);
  const stored = event.reason === "stored";
  await recordForPrefill(
    dir,
    store,
    digests,
    env,
    stored ? prefillNote(inv, rustc, cwd, env, event) : undefined,
  );
  // A miss's own cost is its wrapper time less the compile.
  event.wrapperMs = performance.now() - started;
  recordStat(dir, event);
  return 0;
}

/** A build script galley compiled runs through galley: its run is cached, and so is its C. */
function launchThroughGalley(inv: RustcInvocation, cwd: string, env: Env): void {
  if (!isBuildScriptCompile(inv) || env.GALLEY_BUILD_SCRIPTS === "0" || !isCompiled()) return;
  const name = expectedOutputs(inv).find((n) => !n.endsWith(".d"));
  if (name) installLauncher(resolve(cwd, inv.outDir!), name, process.execPath);
}

/**
 * For prefill: a registry package's unit whose outputs galley holds is noted (its outputs in
 * `deps/`, or a build script's whole `build/<unit>/`), by cargo's name for it, `<package><extra-filename>`.
 */
function prefillNote(inv: RustcInvocation, rustc: string, cwd: string, env: Env, event: StatEvent) {
  if (!env.CARGO_PKG_NAME || !inv.extraFilename || !isRegistryPackage(env.CARGO_MANIFEST_DIR))
    return undefined;
  const outDir = resolve(cwd, inv.outDir!);
  const unit = `${env.CARGO_PKG_NAME}${inv.extraFilename}`;
  const base = { unit, label: inv.crateName ?? "?", compileMs: event.compileMs ?? 0 };
  if (basename(outDir) === "deps")
    return {
      rustc,
      unit: { ...base, profileDir: dirname(outDir), files: expectedOutputs(inv).map((n) => `deps/${n}`) },
    };
  if (isBuildScriptCompile(inv) && basename(outDir) === unit)
    return { rustc, unit: { ...base, profileDir: dirname(dirname(outDir)), dir: `build/${unit}` } };
  return undefined;
}

const OUT_DIR_TOKEN = "@@GALLEY_OUT_DIR@@";

function specOf(
  inv: RustcInvocation,
  call: CompilerCall,
  label: string,
  cwd: string,
  env: Env,
  dir: string,
  digests: FileDigests,
  paths: PathPolicy,
): ActionSpec {
  const salt = env.GALLEY_SALT ?? "";
  const base = basePartsOf({ rustc: call.rustc, inv, cwd, env, cacheDir: dir, salt, digests, paths });
  if (call.clippyDriver) Object.assign(base, clippyPartsOf(call.clippyDriver, cwd, env, dir, digests, paths));
  const outDir = resolve(cwd, inv.outDir!);
  return {
    label,
    base,
    root: outDir,
    // The output directory is not in the key (a fresh target dir hits); its path in dep-info and
    // in the artifact notices is rewritten on restore, and so are portable mode's paths.
    relocations: [
      { token: OUT_DIR_TOKEN, spellings: [outDir, inv.outDir!], restoreAs: inv.outDir! },
      ...paths.fileTokens.map((t) => ({ token: t.token, spellings: [t.path], restoreAs: t.path })),
    ],
    isText: (name) => name.endsWith(".d"),
    pathTokens: paths.fileTokens,
    tokenEnv: paths.tokenEnv,
  };
}

async function save(
  cache: ActionCache,
  spec: ActionSpec,
  inv: RustcInvocation,
  cwd: string,
  compiled: { stdout: Uint8Array; stderr: Uint8Array },
): Promise<string> {
  if (!inv.emit.includes("dep-info")) return "not stored: no dep-info to learn the sources from";
  const outDir = resolve(cwd, inv.outDir!);
  const outputs: OutputFile[] = [];
  let depInfo: string | undefined;
  for (const name of expectedOutputs(inv)) {
    const file = join(outDir, name);
    const st = statSync(file, { throwIfNoEntry: false });
    if (!st?.isFile()) return `not stored: rustc did not write ${name}`;
    const mode = st.mode & 0o7777;
    if (!name.endsWith(".d")) {
      outputs.push({ name, mode, file, size: st.size });
      continue;
    }
    const bytes = readFileSync(file);
    depInfo = bytes.toString("utf8");
    outputs.push({ name, mode, bytes });
  }
  if (depInfo === undefined) return "not stored: no dep-info to learn the sources from";
  await cache.save(spec, parseDepInfo(depInfo), outputs, compiled);
  return "stored";
}
