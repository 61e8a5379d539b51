/**
 * A build script's run as a cached action. cargo runs the launcher galley left in place of the
 * build script; the launcher runs `galley --galley-build-script <real binary>`. For a package whose
 * sources cannot change under its checksum, the run is looked up: a hit restores OUT_DIR whole and
 * replays the script's stdout (paths rewritten for this OUT_DIR and package), and the script never
 * starts. Everything else runs, and is counted with the reason; when in doubt, it runs.
 */
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { ActionCache, type ActionSpec, type OutputFile } from "../engine/action-cache.ts";
import { maybeStartGc } from "../engine/auto-gc.ts";
import { cacheStore, noteStoreReport } from "../engine/cache-store.ts";
import { cacheConfig } from "../engine/config.ts";
import { compileMiss, failOpen, storeFailed } from "../engine/fail-open.ts";
import { FileDigests } from "../engine/file-digest.ts";
import { describeUnit } from "../engine/journal.ts";
import { isWithin, profileDirOf } from "../engine/path-tokens.ts";
import { runPlain } from "../engine/run-compiler.ts";
import { recordStat, type StatEvent } from "../engine/stats.ts";
import { resolveOnPath } from "../engine/tool-identity.ts";
import { recordForPrefill } from "../prefill/capture.ts";
import { newReport } from "../store/report.ts";
import { envForScript, wrapperIsGalley } from "./cc-name.ts";
import { parseDirectives } from "./directives.ts";
import { runBasePartsOf } from "./key.ts";
import { packageSourceOf } from "./source.ts";
import { buildScriptLabel, buildScriptUnit } from "./unit.ts";

type Env = Record<string, string | undefined>;

/** The run's places: relocated on restore, keyed only where the outputs contain them. */
const PLACE_VARS = ["OUT_DIR", "CARGO_MANIFEST_DIR"];

export async function runBuildScript(script: string, args: string[]): Promise<number> {
  const started = performance.now();
  // The variables as cargo gave them: the key is taken from these, whatever the script then sees.
  const env: Env = { ...process.env };
  const argv = [script, ...args];
  // Not galley's build (RUSTC_WRAPPER changed since the script was compiled): run it as it is.
  if (!wrapperIsGalley(env, process.execPath)) return await runPlain(argv);
  let dir: string;
  try {
    dir = cacheConfig(env).dir;
  } catch {
    return await runPlain(argv);
  }
  const runEnv = envForScript(env, process.execPath, dir);

  const outDir = env.OUT_DIR ? resolve(env.OUT_DIR) : undefined;
  const manifestDir = env.CARGO_MANIFEST_DIR ? resolve(env.CARGO_MANIFEST_DIR) : undefined;
  const pkg = env.CARGO_PKG_NAME ?? "?";
  const label = buildScriptLabel(pkg);
  describeUnit(buildScriptUnit(pkg, env.CARGO_PKG_VERSION ?? ""));
  const passthrough = async (reason: string) => {
    const code = await runPlain(argv, runEnv);
    recordStat(dir, { outcome: "passthrough", reason: `build script: ${reason}`, crate: label });
    return code;
  };
  if (!outDir || !manifestDir) return await passthrough("not run by cargo (no OUT_DIR)");

  const event: StatEvent = { outcome: "miss", crate: label };
  const digests = new FileDigests(dir);
  const report = newReport();
  const store = await cacheStore(dir, env, report);
  const cache = new ActionCache(store, dir, digests, manifestDir, env, event);
  let spec: ActionSpec;
  let registry = false;
  try {
    const source = packageSourceOf(manifestDir, env, digests);
    registry = source.kind === "registry";
    if (source.kind === "refused") return await passthrough(source.reason);
    const profile = profileDirOf(outDir);
    const base = runBasePartsOf({
      script,
      source: source.identity,
      env,
      cacheDir: dir,
      digests,
      tokens: profile ? [{ token: "@@GALLEY_PROFILE@@", path: profile }] : [],
    });
    spec = {
      label,
      base,
      root: outDir,
      nested: true,
      relocations: [
        { token: "@@GALLEY_OUT_DIR@@", spellings: [outDir], restoreAs: outDir },
        { token: "@@GALLEY_PACKAGE@@", spellings: [manifestDir], restoreAs: manifestDir },
      ],
    };
    if ((await cache.lookup(spec)) === "hit") {
      event.outcome = "hit";
      await recordForPrefill(
        dir,
        store,
        digests,
        env,
        registry ? prefillNote(outDir, env, event) : undefined,
      );
      event.wrapperMs = performance.now() - started;
      noteStoreReport(event, report);
      recordStat(dir, event);
      return 0;
    }
  } catch (err) {
    return await failOpen(dir, err, argv, event, runEnv);
  }

  noteStoreReport(event, report);
  const ran = await compileMiss(argv, dir, event, runEnv);
  if (ran.code !== 0) return ran.code;
  try {
    const why = await save(cache, spec, ran, outDir, manifestDir, env);
    if (why) {
      event.outcome = "passthrough";
      event.reason = `build script: ${why}`;
    } else {
      event.reason = "stored";
      maybeStartGc(env);
    }
  } catch (err) {
    storeFailed(dir, err, event);
  }
  const stored = registry && event.reason === "stored";
  await recordForPrefill(dir, store, digests, env, stored ? prefillNote(outDir, env, event) : undefined);
  noteStoreReport(event, report);
  recordStat(dir, event);
  return 0;
}

/**
 * For prefill: a registry package's run is noted as its whole `build/<unit>/` dir (OUT_DIR and what
 * cargo keeps of the run), `<profile>/build/<unit>/out` being OUT_DIR.
 */
function prefillNote(outDir: string, env: Env, event: StatEvent) {
  const unitDir = dirname(outDir);
  if (!env.RUSTC || basename(dirname(unitDir)) !== "build") return undefined;
  const unit = basename(unitDir);
  return {
    rustc: env.RUSTC,
    unit: {
      unit,
      label: event.crate ?? "?",
      compileMs: event.compileMs ?? 0,
      profileDir: dirname(dirname(unitDir)),
      dir: `build/${unit}`,
    },
  };
}

/** Stores the run; returns why it may not be restored instead, if so. */
async function save(
  cache: ActionCache,
  spec: ActionSpec,
  ran: { stdout: Uint8Array; stderr: Uint8Array },
  outDir: string,
  manifestDir: string,
  env: Env,
): Promise<string | undefined> {
  const directives = parseDirectives(Buffer.from(ran.stdout).toString("utf8"), outDir, manifestDir);
  if (directives.unrestorable) return directives.unrestorable;
  // Read whole: whether they mention the target dir or the package's place decides the key.
  const outputs: InMemory[] = [];
  const why = collect(outDir, outDir, outputs);
  if (why) return why;

  // The target directory and the package's place reach the key only where they reach the outputs.
  const profile = profileDirOf(outDir) ?? outDir;
  const mentions = (path: string) => outputs.some((o) => Buffer.from(o.bytes).includes(path));
  // Scripts declare OUT_DIR and CARGO_MANIFEST_DIR too (ring does): their values are where the
  // script writes and reads, which a restore rewrites; they are keyed when the outputs hold them.
  const envDeps = new Set(directives.rerunIfEnvChanged.filter((v) => !PLACE_VARS.includes(v)));
  if (mentions(profile)) envDeps.add("OUT_DIR");
  if (mentions(manifestDir)) envDeps.add("CARGO_MANIFEST_DIR");

  const files = new Set<string>();
  for (const f of directives.rerunIfChanged) {
    const abs = resolve(manifestDir, f);
    if (isWithin(abs, outDir)) continue;
    if (lstatSync(abs, { throwIfNoEntry: false })?.isDirectory()) {
      // The package's checksum covers it; a directory of a workspace package is not keyed file by file.
      continue;
    }
    files.add(relative(manifestDir, abs));
  }
  // A CMake build: the cmake it ran is an input too.
  for (const o of outputs) {
    if (!o.name.endsWith("CMakeCache.txt")) continue;
    const m = /^CMAKE_COMMAND:INTERNAL=(.+)$/m.exec(Buffer.from(o.bytes).toString("utf8"));
    const cmake = m?.[1] ?? resolveOnPath("cmake", env);
    if (cmake) files.add(cmake);
  }
  await cache.save(spec, { files: [...files].sort(), env: [...envDeps].sort() }, outputs, ran);
  return undefined;
}

/** Every file under OUT_DIR; why not, when something there cannot be stored (a link, a socket). */
type InMemory = Extract<OutputFile, { bytes: Uint8Array }>;

function collect(root: string, dir: string, into: InMemory[]): string | undefined {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      const why = collect(root, path, into);
      if (why) return why;
    } else if (e.isFile()) {
      into.push({
        name: relative(root, path),
        bytes: readFileSync(path),
        mode: lstatSync(path).mode & 0o7777,
      });
    } else return `OUT_DIR holds ${relative(root, path)}, which is not a regular file`;
  }
  return undefined;
}
