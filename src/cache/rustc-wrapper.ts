/**
 * galley as RUSTC_WRAPPER: look the invocation up, restore and replay on a hit (never starting
 * rustc), compile and store on a miss (streaming rustc's output as it comes: cargo's pipelining
 * waits for the early metadata notice). Any internal failure runs rustc as if galley were not there.
 */
import { chmodSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { cacheConfig } from "./config.ts";
import { parseDepInfo } from "./dep-info.ts";
import { sha256Hex } from "./digest.ts";
import { writeExplain } from "./explain-log.ts";
import { FileDigests } from "./file-digest.ts";
import { stdioWithJobserver } from "./jobserver.ts";
import { noticeOnce } from "./notice.ts";
import { expectedOutputs, parseRustcArgs, type RustcInvocation } from "./rustc-args.ts";
import { basePartsOf, directPartsOf, type KeyParts, keyOf } from "./rustc-key.ts";
import { recordStat, type StatEvent } from "./stats.ts";
import { DiskStore } from "./store/disk.ts";
import { type ActionResult, CorruptEntry, type Store, type StoredOutput } from "./store/store.ts";

/** Stands for the output directory in stored dep-info and diagnostics; replaced on restore. */
const OUT_DIR_TOKEN = "@@GALLEY_OUT_DIR@@";
const MANIFEST_OUTPUT = "direct-mode-manifest.json";

interface DirectManifest {
  files: string[];
  env: string[];
}

type Env = Record<string, string | undefined>;

export async function runRustcWrapper(rustc: string, args: string[]): Promise<number> {
  const started = performance.now();
  const env: Env = process.env;
  const cwd = process.cwd();
  const inv = parseRustcArgs(args);
  // Probes (-vV, --print) are frequent and uninteresting: not counted. Their stderr is not shown by
  // cargo, so nothing is said from them either.
  if (inv.uncacheable === "version probe" || inv.uncacheable === "--print probe")
    return await compilePlain(rustc, args);
  let dir: string;
  try {
    dir = cacheConfig(env).dir;
  } catch (err) {
    noticeOnce("config", `${(err as Error).message}; compiling without the cache`);
    return await compilePlain(rustc, args);
  }
  if (inv.uncacheable) {
    recordStat(dir, { outcome: "passthrough", reason: inv.uncacheable, ...crateOf(inv) });
    return await compilePlain(rustc, args);
  }

  const store = new DiskStore(dir);
  const digests = new FileDigests(dir);
  const event: StatEvent = { outcome: "miss", ...crateOf(inv) };
  let base: KeyParts | undefined;
  try {
    base = basePartsOf({ rustc, inv, cwd, env, cacheDir: dir, salt: env.GALLEY_SALT ?? "", digests });
    const hit = await lookup(store, keyOf(base), base, inv, cwd, env, digests, event);
    if (hit) {
      event.outcome = "hit";
      event.wrapperMs = performance.now() - started;
      recordStat(dir, event);
      return 0;
    }
  } catch (err) {
    return await failOpen(dir, err, rustc, args, event);
  }

  const compileStart = performance.now();
  const compiled = await compileCapturing(rustc, args);
  event.compileMs = Math.round(performance.now() - compileStart);
  if (compiled.code !== 0) {
    event.reason = "compile failed";
    recordStat(dir, event);
    return compiled.code;
  }
  try {
    event.reason = await save(store, base, inv, cwd, env, digests, compiled, event);
  } catch (err) {
    event.outcome = "error";
    event.reason = describe(err);
    noticeOnce(
      "store",
      `could not store in the cache at ${dir} (${describe(err)}); builds go on without storing`,
    );
  }
  recordStat(dir, event);
  return 0;
}

async function lookup(
  store: Store,
  baseKey: string,
  base: KeyParts,
  inv: RustcInvocation,
  cwd: string,
  env: Env,
  digests: FileDigests,
  event: StatEvent,
): Promise<boolean> {
  const crate = inv.crateName!;
  const manifestAction = await guarded(store.getAction(baseKey), event);
  const manifestDigest = manifestAction?.outputs[0]?.digest;
  const manifestBytes = manifestDigest ? await guarded(store.getBlob(manifestDigest), event) : undefined;
  if (!manifestBytes) {
    writeExplain(resolveDir(store), crate, (r) => {
      r.lookup = {
        parts: base,
        outcome: "miss: no entry for these arguments and inputs",
        at: new Date().toISOString(),
      };
    });
    return false;
  }
  const manifest = JSON.parse(Buffer.from(manifestBytes).toString("utf8")) as DirectManifest;
  const direct = directPartsOf(manifest.files, manifest.env, cwd, env, digests);
  const fullKey = keyOf({ base: baseKey, ...direct });
  const result = await guarded(store.getAction(fullKey), event);
  const blobs = result ? await fetchAll(store, result, event) : undefined;
  if (!result || !blobs) {
    writeExplain(resolveDir(store), crate, (r) => {
      r.lookup = {
        parts: { ...base, ...direct },
        outcome: "miss: a source file or env var changed",
        at: new Date().toISOString(),
      };
    });
    return false;
  }
  const restoreStart = performance.now();
  const outDir = inv.outDir!;
  for (const out of result.outputs) {
    const dest = join(resolve(cwd, outDir), out.path);
    const bytes = out.path.endsWith(".d")
      ? fillOutDir(blobs.get(out.digest)!, outDir)
      : blobs.get(out.digest)!;
    writeOutput(dest, bytes, out.mode);
    if (!out.path.endsWith(".d")) digests.record(dest, out.digest);
    event.bytesRead = (event.bytesRead ?? 0) + bytes.length;
  }
  if (result.stdout) process.stdout.write(blobs.get(result.stdout)!);
  if (result.stderr) process.stderr.write(fillOutDir(blobs.get(result.stderr)!, outDir));
  event.compileMs = result.compileMs;
  event.restoreMs = Math.round(performance.now() - restoreStart);
  writeExplain(resolveDir(store), crate, (r) => {
    r.lookup = { parts: { ...base, ...direct }, outcome: "hit", at: new Date().toISOString() };
  });
  return true;
}

/** Reads and verifies every blob of a result before anything is written: all or nothing. */
async function fetchAll(
  store: Store,
  result: ActionResult,
  event: StatEvent,
): Promise<Map<string, Uint8Array> | undefined> {
  const wanted = [...result.outputs.map((o) => o.digest), result.stdout, result.stderr].filter(
    (d): d is string => d !== undefined,
  );
  const blobs = new Map<string, Uint8Array>();
  for (const digest of wanted) {
    if (blobs.has(digest)) continue;
    const bytes = await guarded(store.getBlob(digest), event);
    if (!bytes) return undefined;
    blobs.set(digest, bytes);
  }
  return blobs;
}

/** A corrupt entry is a miss (it was removed), counted; other store errors propagate (fail open). */
async function guarded<T>(p: Promise<T | undefined>, event: StatEvent): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof CorruptEntry) {
      event.corrupt = (event.corrupt ?? 0) + 1;
      return undefined;
    }
    throw err;
  }
}

async function save(
  store: Store,
  base: KeyParts | undefined,
  inv: RustcInvocation,
  cwd: string,
  env: Env,
  digests: FileDigests,
  compiled: Captured,
  event: StatEvent,
): Promise<string> {
  if (!base) return "not stored: no key";
  if (!inv.emit.includes("dep-info")) return "not stored: no dep-info to learn the sources from";
  const outDir = resolve(cwd, inv.outDir!);
  const names = expectedOutputs(inv);
  const depInfoName = names.find((n) => n.endsWith(".d"))!;
  const files = new Map<string, { bytes: Uint8Array; mode: number }>();
  for (const name of names) {
    const path = join(outDir, name);
    let bytes: Uint8Array;
    let mode: number;
    try {
      bytes = readFileSync(path);
      mode = statSync(path).mode & 0o7777;
    } catch {
      return `not stored: rustc did not write ${name}`;
    }
    files.set(name, {
      bytes: name === depInfoName ? tokenizeOutDir(bytes, inv.outDir!, outDir) : bytes,
      mode,
    });
  }
  const depInfo = parseDepInfo(Buffer.from(readFileSync(join(outDir, depInfoName))).toString("utf8"));
  const direct = directPartsOf(depInfo.files, depInfo.env, cwd, env, digests);
  const baseKey = keyOf(base);
  const fullKey = keyOf({ base: baseKey, ...direct });

  const outputs: StoredOutput[] = [];
  let written = 0;
  for (const [name, { bytes, mode }] of files) {
    const digest = sha256Hex(bytes);
    await store.putBlob(digest, bytes);
    outputs.push({ path: name, digest, size: bytes.length, mode });
    if (name !== depInfoName) digests.record(join(outDir, name), digest);
    written += bytes.length;
  }
  const result: ActionResult = { outputs, compileMs: event.compileMs ?? 0 };
  if (compiled.stdout.length > 0) {
    result.stdout = sha256Hex(compiled.stdout);
    await store.putBlob(result.stdout, compiled.stdout);
  }
  if (compiled.stderr.length > 0) {
    const stderr = tokenizeOutDir(compiled.stderr, inv.outDir!, outDir);
    result.stderr = sha256Hex(stderr);
    await store.putBlob(result.stderr, stderr);
  }
  await store.putAction(fullKey, result);
  const manifest = new TextEncoder().encode(
    JSON.stringify({ files: depInfo.files, env: depInfo.env } satisfies DirectManifest),
  );
  const manifestDigest = sha256Hex(manifest);
  await store.putBlob(manifestDigest, manifest);
  await store.putAction(baseKey, {
    outputs: [{ path: MANIFEST_OUTPUT, digest: manifestDigest, size: manifest.length, mode: 0o644 }],
    compileMs: 0,
  });
  event.bytesWritten = written;
  writeExplain(resolveDir(store), inv.crateName!, (r) => {
    r.stored = { parts: { ...base, ...direct }, at: new Date().toISOString() };
  });
  return "stored";
}

function resolveDir(store: Store): string {
  return (store as DiskStore).dir;
}

function writeOutput(dest: string, bytes: Uint8Array, mode: number): void {
  // A fresh file (never a link into the store), renamed into place so readers see all or nothing.
  const tmp = `${dest}.galley-${process.pid}`;
  try {
    writeFileSync(tmp, bytes, { mode });
    chmodSync(tmp, mode);
    renameSync(tmp, dest);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

function tokenizeOutDir(bytes: Uint8Array, ...dirs: string[]): Uint8Array {
  let text = Buffer.from(bytes).toString("utf8");
  for (const d of [...new Set(dirs)].sort((a, b) => b.length - a.length))
    text = text.split(d).join(OUT_DIR_TOKEN);
  return new TextEncoder().encode(text);
}

function fillOutDir(bytes: Uint8Array, outDir: string): Uint8Array {
  return new TextEncoder().encode(Buffer.from(bytes).toString("utf8").split(OUT_DIR_TOKEN).join(outDir));
}

function crateOf(inv: RustcInvocation): { crate?: string } {
  return inv.crateName ? { crate: inv.crateName } : {};
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code}` : err instanceof Error ? err.message : String(err);
}

async function failOpen(
  dir: string,
  err: unknown,
  rustc: string,
  args: string[],
  event: StatEvent,
): Promise<number> {
  noticeOnce("lookup", `cache unavailable at ${dir} (${describe(err)}); compiling without it`);
  event.outcome = "error";
  event.reason = describe(err);
  recordStat(dir, event);
  return await compilePlain(rustc, args);
}

interface Captured {
  code: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
}

/** rustc as if galley were not there: all stdio inherited. */
async function compilePlain(rustc: string, args: string[]): Promise<number> {
  const stdio = stdioWithJobserver(process.env, ["inherit", "inherit", "inherit"]);
  // biome-ignore lint/suspicious/noExplicitAny: Bun's stdio tuple type does not admit raw fds past index 2
  const proc = Bun.spawn([rustc, ...args], { stdio: stdio as any });
  return await proc.exited;
}

/** rustc with its output streamed through as it comes and kept for the cache. */
async function compileCapturing(rustc: string, args: string[]): Promise<Captured> {
  const stdio = stdioWithJobserver(process.env, ["inherit", "pipe", "pipe"]);
  // biome-ignore lint/suspicious/noExplicitAny: Bun's stdio tuple type does not admit raw fds past index 2
  const proc = Bun.spawn([rustc, ...args], { stdio: stdio as any });
  const pump = async (stream: ReadableStream<Uint8Array>, sink: NodeJS.WriteStream) => {
    const chunks: Uint8Array[] = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      sink.write(chunk);
    }
    return Buffer.concat(chunks);
  };
  const [stdout, stderr, code] = await Promise.all([
    pump(proc.stdout as unknown as ReadableStream<Uint8Array>, process.stdout),
    pump(proc.stderr as unknown as ReadableStream<Uint8Array>, process.stderr),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}
