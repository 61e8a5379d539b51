/**
 * galley as RUSTC_WRAPPER: look the invocation up, restore and replay on a hit (never starting
 * rustc), compile and store on a miss. Any internal failure runs rustc as if galley were not there.
 */
import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { debug, isDebug } from "../../util/term.ts";
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
import { newReport } from "../store/report.ts";
import { expectedOutputs, parseRustcArgs, type RustcInvocation } from "./args.ts";
import { parseDepInfo } from "./dep-info.ts";
import { basePartsOf } from "./key.ts";
import { rustcUnit } from "./unit.ts";

type Env = Record<string, string | undefined>;

export async function runRustcWrapper(rustc: string, args: string[]): Promise<number> {
  const started = performance.now();
  const env: Env = process.env;
  const cwd = process.cwd();
  const inv = parseRustcArgs(args);
  // Probes (-vV, --print) are frequent and uninteresting: not counted. cargo does not show their
  // stderr, so nothing is said from them either.
  if (inv.uncacheable === "version probe" || inv.uncacheable === "--print probe")
    return await runPlain([rustc, ...args]);
  let dir: string;
  try {
    dir = cacheConfig(env).dir;
  } catch (err) {
    noticeOnce("config", `${(err as Error).message}; compiling without the cache`);
    return await runPlain([rustc, ...args]);
  }
  const label = inv.crateName ?? "?";
  describeUnit(rustcUnit(inv, env));
  if (inv.uncacheable) {
    const code = await runPlain([rustc, ...args]);
    recordStat(dir, { outcome: "passthrough", reason: inv.uncacheable, crate: label });
    return code;
  }

  const event: StatEvent = { outcome: "miss", crate: label };
  const digests = new FileDigests(dir);
  const report = newReport();
  const cache = new ActionCache(await cacheStore(dir, env, report), dir, digests, cwd, env, event);
  let spec: ActionSpec | undefined;
  try {
    spec = specOf(inv, rustc, cwd, env, dir, digests);
    const keyed = performance.now();
    const outcome = await cache.lookup(spec);
    // Built only when asked for: this runs once per crate.
    if (isDebug()) {
      debug(
        `${label}: key in ${(keyed - started).toFixed(1)} ms; ${outcome} after ${(performance.now() - started).toFixed(1)} ms (restore ${event.restoreMs ?? 0} ms)`,
      );
    }
    if (outcome === "hit") {
      event.outcome = "hit";
      event.wrapperMs = performance.now() - started;
      noteStoreReport(event, report);
      recordStat(dir, event);
      return 0;
    }
  } catch (err) {
    return await failOpen(dir, err, [rustc, ...args], event);
  }

  noteStoreReport(event, report);
  const compiled = await compileMiss([rustc, ...args], dir, event);
  if (compiled.code !== 0) return compiled.code;
  try {
    event.reason = await save(cache, spec, inv, cwd, compiled);
    if (event.reason === "stored") maybeStartGc(env);
  } catch (err) {
    storeFailed(dir, err, event);
  }
  noteStoreReport(event, report);
  recordStat(dir, event);
  return 0;
}

const OUT_DIR_TOKEN = "@@GALLEY_OUT_DIR@@";

function specOf(
  inv: RustcInvocation,
  rustc: string,
  cwd: string,
  env: Env,
  dir: string,
  digests: FileDigests,
): ActionSpec {
  const base = basePartsOf({ rustc, inv, cwd, env, cacheDir: dir, salt: env.GALLEY_SALT ?? "", digests });
  const outDir = resolve(cwd, inv.outDir!);
  return {
    label: inv.crateName!,
    base,
    root: outDir,
    // The output directory is not in the key (a fresh target dir hits); its path in dep-info and
    // in the artifact notices is rewritten on restore.
    relocation: { token: OUT_DIR_TOKEN, spellings: [outDir, inv.outDir!], restoreAs: inv.outDir! },
    isText: (name) => name.endsWith(".d"),
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
  for (const name of expectedOutputs(inv)) {
    const path = join(outDir, name);
    try {
      outputs.push({ name, bytes: readFileSync(path), mode: statSync(path).mode & 0o7777 });
    } catch {
      return `not stored: rustc did not write ${name}`;
    }
  }
  const depInfo = outputs.find((o) => o.name.endsWith(".d"))!;
  await cache.save(spec, parseDepInfo(Buffer.from(depInfo.bytes).toString("utf8")), outputs, compiled);
  return "stored";
}
