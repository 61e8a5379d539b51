/**
 * The engine both wrappers share (rustc, and C/C++ through the sccache name): direct-mode lookup
 * (base key -> the inputs the last miss read -> full key -> result), all-or-nothing verified
 * restores, output replay, and storing a miss. Wrappers describe an action; this runs the cache.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeAllSync } from "../../util/write-sync.ts";
import { IN_MEMORY_BATCH_BYTES, IN_MEMORY_BLOB_MAX } from "../store/limits.ts";
import {
  type ActionResult,
  CorruptEntry,
  carriedBytes,
  getBlobs,
  inlineBytes,
  MANIFEST_OUTPUT,
  namedBlobs,
  namedSizes,
  putResults,
  type Store,
  type StoredOutput,
} from "../store/store.ts";
import { sha256Hex } from "./digest.ts";
import { type ExplainRecord, readExplain, whyMissed, writeExplain } from "./explain-log.ts";
import type { FileDigests } from "./file-digest.ts";
import { directPartsOf, type KeyParts, keyOf } from "./key.ts";
import { copyOutput, writeOutput } from "./output-files.ts";
import { expand, type PathToken, tokenize } from "./path-tokens.ts";
import type { StatEvent } from "./stats.ts";

/**
 * Input sets kept per argument key. A unit whose sources' paths differ between builds (code
 * generated into OUT_DIR, read from another target dir) has one per place; with one only, builds
 * into two target dirs would take turns missing.
 */
const MAX_INPUT_SETS = 4;
/** A manifest up to this size travels inside its record (one round trip less on a remote store). */
const MAX_INLINE = 64 * 1024;

/** What a miss read: the files and the env vars whose values decide the output. */
export interface DirectInputs {
  files: string[];
  env: string[];
}

/** A path that varies between builds (rustc's --out-dir, a build script's OUT_DIR) and is stored as a token. */
export interface Relocation {
  token: string;
  /** The spellings of the path in this invocation (as given, absolute). */
  spellings: string[];
  /** What the token becomes on restore. */
  restoreAs: string;
}

export interface ActionSpec {
  /** Crate or source name, for stats and `galley explain`. */
  label: string;
  base: KeyParts;
  /** Outputs are stored relative to this directory. */
  root: string;
  /** Paths rewritten to tokens in text outputs, stdout and stderr (longest spelling first). */
  relocations?: Relocation[];
  /** Outputs whose text holds relocatable paths (rustc's .d file). */
  isText?: (name: string) => boolean;
  /** Outputs may sit in subdirectories of `root` (a build script's OUT_DIR). */
  nested?: boolean;
  /** Paths written as tokens in the direct-mode file list, so that its key does not hold them. */
  pathTokens?: PathToken[];
  /** Variables whose values (as direct-mode parts) hold paths written as those tokens too. */
  tokenEnv?: string[];
}

/** An output to store: its bytes, or its file (a big one then streams into a local store). */
export type OutputFile = { name: string; mode: number } & (
  | { bytes: Uint8Array }
  | { file: string; size: number }
);

/** A file output at least this big is copied into a local store in chunks, not read whole. */
const STREAM_MIN_BYTES = 256 * 1024;
/** Store blobs at least this big get a digest memo when stored. */
const BLOB_MEMO_MIN_BYTES = 1 << 20;

export type LookupOutcome = "hit" | "no-entry" | "inputs-changed";

type Env = Record<string, string | undefined>;

export class ActionCache {
  /** The input sets of the manifest the lookup found: a miss keeps them beside its own. */
  private inputSets: DirectInputs[] = [];
  /** The explain record of the last miss, not written yet (see explain()). */
  private pendingExplain: { label: string; record: ExplainRecord } | undefined;

  constructor(
    private readonly store: Store,
    private readonly cacheDir: string,
    private readonly digests: FileDigests,
    private readonly cwd: string,
    private readonly env: Env,
    private readonly event: StatEvent,
  ) {}

  /** On a hit, restores the outputs and replays stdout/stderr. */
  async lookup(spec: ActionSpec): Promise<LookupOutcome> {
    const baseKey = keyOf(spec.base);
    const manifestAction = await this.guarded(this.store.getAction(baseKey));
    const manifest = manifestAction?.outputs[0];
    const manifestBytes = manifest
      ? (inlineBytes(manifest) ?? (await this.guarded(this.store.getBlob(manifest.digest))))
      : undefined;
    if (!manifestBytes) {
      this.explain(spec.label, spec.base, "miss: no entry for these arguments and inputs");
      return "no-entry";
    }
    this.inputSets = parseManifest(manifestBytes);
    let parts: KeyParts = spec.base;
    // Newest first: a unit built into several target dirs keeps a set per place its sources were.
    for (const inputs of this.inputSets) {
      const direct = this.directParts(spec, inputs.files, inputs.env);
      if (await this.restore(spec, keyOf({ base: baseKey, ...direct }))) return "hit";
      if (parts === spec.base) parts = { ...spec.base, ...direct };
    }
    this.explain(spec.label, parts, "miss: a source file or env var changed");
    return "inputs-changed";
  }

  /** Restores the result stored under `key`, if it is there whole; false otherwise. */
  async restore(spec: ActionSpec, key: string): Promise<boolean> {
    const result = await this.guarded(this.store.getAction(key));
    if (!result) return false;
    const files = this.intactLocalFiles(result, spec);
    const blobs = await this.fetchAll(result, files, spec);
    if (!blobs) return false;
    const restoreStart = performance.now();
    for (const out of result.outputs) {
      const dest = join(spec.root, out.path);
      if (spec.nested) mkdirSync(dirname(dest), { recursive: true });
      const file = files.get(out.digest);
      if (file) copyOutput(dest, file, out.mode);
      else {
        const bytes = blobs.get(out.digest)!;
        writeOutput(
          dest,
          spec.isText?.(out.path) ? this.unrelocate(bytes, spec.relocations) : bytes,
          out.mode,
        );
      }
      if (!spec.isText?.(out.path)) this.digests.record(dest, out.digest);
      this.event.bytesRead = (this.event.bytesRead ?? 0) + out.size;
    }
    if (result.stdout) writeAllSync(1, this.unrelocate(blobs.get(result.stdout)!, spec.relocations));
    if (result.stderr) writeAllSync(2, this.unrelocate(blobs.get(result.stderr)!, spec.relocations));
    this.event.compileMs = result.compileMs;
    this.event.restoreMs = Math.round(performance.now() - restoreStart);
    return true;
  }

  /**
   * The local store's files of the binary outputs, where their digests check out: the kernel copies
   * (or reflinks) these. The check is memoised by the file's size, mtime, inode and ctime (FileDigests),
   * and any write to a blob changes those, so an intact blob is hashed once, not on every hit; a
   * damaged one is left to fetchAll, whose read finds it, removes it and counts it.
   */
  private intactLocalFiles(result: ActionResult, spec: ActionSpec): Map<string, string> {
    const files = new Map<string, string>();
    if (!this.store.localBlobPath) return files;
    for (const out of result.outputs) {
      if (spec.isText?.(out.path) || files.has(out.digest) || result.carried?.[out.digest]) continue;
      const path = this.store.localBlobPath(out.digest);
      if (path && this.digests.digest(path) === out.digest) files.set(out.digest, path);
    }
    return files;
  }

  /** Stores a miss under its full key (and `extraKeys`), and records what it read for direct mode. */
  async save(
    spec: ActionSpec,
    inputs: DirectInputs,
    outputs: OutputFile[],
    captured: { stdout: Uint8Array; stderr: Uint8Array },
    extraKeys: string[] = [],
  ): Promise<void> {
    const baseKey = keyOf(spec.base);
    const tokens = spec.pathTokens ?? [];
    const files = inputs.files.map((f) => tokenize(f, tokens));
    const direct = this.directParts(spec, files, inputs.env);
    const fullKey = keyOf({ base: baseKey, ...direct });
    const stored: StoredOutput[] = [];
    const blobs = new Map<string, Uint8Array>();
    let written = 0;
    for (const out of outputs) {
      const text = spec.isText?.(out.name) ?? false;
      let blob: { digest: string; size: number };
      if ("file" in out && !text && out.size >= STREAM_MIN_BYTES && this.store.putBlobFile) {
        blob = await this.store.putBlobFile(out.file);
      } else {
        const raw = "bytes" in out ? out.bytes : readFileSync(out.file);
        const bytes = text ? this.relocate(raw, spec.relocations) : raw;
        blob = { digest: sha256Hex(bytes), size: bytes.length };
        blobs.set(blob.digest, bytes);
      }
      stored.push({ path: out.name, digest: blob.digest, size: blob.size, mode: out.mode });
      if (!text) this.digests.record(join(spec.root, out.name), blob.digest);
      written += blob.size;
    }
    const result: ActionResult = { outputs: stored, compileMs: this.event.compileMs ?? 0 };
    if (captured.stdout.length > 0) {
      const stdout = this.relocate(captured.stdout, spec.relocations);
      result.stdout = sha256Hex(stdout);
      result.stdoutSize = stdout.length;
      blobs.set(result.stdout, stdout);
    }
    if (captured.stderr.length > 0) {
      const stderr = this.relocate(captured.stderr, spec.relocations);
      result.stderr = sha256Hex(stderr);
      result.stderrSize = stderr.length;
      blobs.set(result.stderr, stderr);
    }
    const same = (set: DirectInputs) =>
      set.files.length === files.length &&
      set.files.every((f, i) => f === files[i]) &&
      set.env.join("\0") === inputs.env.join("\0");
    const sets = [{ files, env: inputs.env }, ...this.inputSets.filter((set) => !same(set))];
    const manifest = new TextEncoder().encode(JSON.stringify({ sets: sets.slice(0, MAX_INPUT_SETS) }));
    const manifestDigest = sha256Hex(manifest);
    blobs.set(manifestDigest, manifest);
    const manifestRecord: ActionResult = {
      outputs: [
        {
          path: MANIFEST_OUTPUT,
          digest: manifestDigest,
          size: manifest.length,
          mode: 0o644,
          ...(manifest.length <= MAX_INLINE ? { inline: Buffer.from(manifest).toString("base64") } : {}),
        },
      ],
      compileMs: 0,
    };
    // Blobs before the records that name them: no reader sees a record without its bytes.
    await putResults(this.store, blobs, [
      ...[fullKey, ...extraKeys].map((key) => ({ key, result })),
      { key: baseKey, result: manifestRecord },
    ]);
    // The first hit then finds the big blobs' digests memoised and copies them without hashing.
    // Only the biggest: a memo is a file to create, and a miss already creates several.
    for (const out of stored) {
      const file = out.size >= BLOB_MEMO_MIN_BYTES ? this.store.localBlobPath?.(out.digest) : undefined;
      if (file) this.digests.record(file, out.digest);
    }
    this.event.bytesWritten = written;
    const pending = this.pendingExplain?.label === spec.label ? this.pendingExplain.record : undefined;
    const record = pending ?? readExplain(this.cacheDir, spec.label) ?? {};
    record.stored = { parts: { ...spec.base, ...direct }, at: new Date().toISOString() };
    this.pendingExplain = undefined;
    writeExplain(this.cacheDir, spec.label, record);
  }

  /** Direct-mode key parts: files named as stored (tokens kept), hashed at their real place. */
  private directParts(spec: ActionSpec, files: string[], env: string[]): KeyParts {
    // The unit's sources are memoised together: by place, name and arguments, not by target dir.
    this.digests.openGroup(sha256Hex(`${this.cwd}\0${spec.label}\0${spec.base.args ?? ""}`));
    try {
      return this.directPartsIn(spec, files, env);
    } finally {
      this.digests.closeGroup();
    }
  }

  private directPartsIn(spec: ActionSpec, files: string[], env: string[]): KeyParts {
    const tokens = spec.pathTokens ?? [];
    if (tokens.length === 0) return directPartsOf(files, env, this.cwd, this.env, this.digests);
    const parts = directPartsOf(
      files.map((f) => expand(f, tokens)),
      env,
      this.cwd,
      this.env,
      this.digests,
    );
    const renamed: KeyParts = {};
    for (const [name, value] of Object.entries(parts)) {
      if (name.startsWith("file:")) renamed[`file:${tokenize(name.slice(5), tokens)}`] = value;
      else if (spec.tokenEnv?.includes(name.slice("env-dep:".length)))
        renamed[name] = tokenize(value, tokens);
      else renamed[name] = value;
    }
    return renamed;
  }

  /**
   * Reads and verifies every blob of a result that is not an intact local file, before anything is
   * written: all or nothing. Each is read no further than the size its record declares; a big one
   * from a shared store streams to its file in the local store and is copied from there (`files`).
   */
  private async fetchAll(
    result: ActionResult,
    files: Map<string, string>,
    spec: ActionSpec,
  ): Promise<Map<string, Uint8Array> | undefined> {
    const carried = new Map<string, Uint8Array>();
    let wanted = namedBlobs(result).filter((d) => {
      if (files.has(d)) return false;
      const bytes = carriedBytes(result, d);
      if (bytes) carried.set(d, bytes);
      return !bytes;
    });
    if (wanted.length === 0) return carried;
    const sizes = namedSizes(result);
    const size = (d: string) => sizes.get(d) ?? 0;
    // Replayed from memory: captured output past the in-memory batch is not restored (a miss).
    const replayed = new Set([result.stdout, result.stderr].filter((d) => d !== undefined));
    if ([...replayed].some((d) => size(d) > IN_MEMORY_BATCH_BYTES)) return undefined;
    // What goes through memory stays within the batch budget; the biggest of the rest stream to files.
    const big = wanted.filter((d) => size(d) > IN_MEMORY_BLOB_MAX);
    const rest = wanted.filter((d) => size(d) <= IN_MEMORY_BLOB_MAX).sort((a, b) => size(b) - size(a));
    let inMemory = rest.reduce((sum, d) => sum + size(d), 0);
    while (inMemory > IN_MEMORY_BATCH_BYTES && rest.length > 0) {
      const d = rest.shift()!;
      big.push(d);
      inMemory -= size(d);
    }
    const text = new Set(result.outputs.filter((o) => spec.isText?.(o.path)).map((o) => o.digest));
    for (const d of replayed) text.add(d);
    const blobs = new Map<string, Uint8Array>();
    if (big.length > 0 && this.store.fetchToLocal && this.store.localBlobPath) {
      const local = await this.guarded(this.store.fetchToLocal(new Map(big.map((d) => [d, sizes.get(d)!]))));
      if (!local || big.some((d) => !local.has(d))) return undefined;
      for (const d of big) {
        const path = this.store.localBlobPath(d);
        if (!path) return undefined;
        // Checked against its digest as it streamed in: memoised, so the copy needs no hash.
        this.digests.record(path, d);
        if (text.has(d)) blobs.set(d, readFileSync(path));
        else files.set(d, path);
      }
      wanted = wanted.filter((d) => !big.includes(d));
    }
    if (wanted.length > 0) {
      const read = await this.guarded(getBlobs(this.store, wanted, sizes));
      if (!read || wanted.some((d) => !read.has(d))) return undefined;
      for (const [d, bytes] of read) blobs.set(d, bytes);
    }
    for (const [d, bytes] of carried) blobs.set(d, bytes);
    return blobs;
  }

  /** A corrupt entry is a miss (it was removed), counted; other store errors propagate (fail open). */
  private async guarded<T>(p: Promise<T | undefined>): Promise<T | undefined> {
    try {
      return await p;
    } catch (err) {
      if (err instanceof CorruptEntry) {
        this.event.corrupt = (this.event.corrupt ?? 0) + 1;
        return undefined;
      }
      throw err;
    }
  }

  /**
   * Notes why a lookup missed. The record is written once: with what the miss then stores, or as
   * the process ends (a compile that failed stores nothing).
   */
  private explain(label: string, parts: KeyParts, outcome: string): void {
    const r = readExplain(this.cacheDir, label) ?? {};
    r.lookup = { parts, outcome, at: new Date().toISOString(), ...(r.stored ? { against: r.stored } : {}) };
    this.event.why = [outcome.replace(/^miss: /, ""), ...whyMissed(r.lookup)];
    if (!this.pendingExplain)
      process.once("exit", () => {
        if (this.pendingExplain)
          writeExplain(this.cacheDir, this.pendingExplain.label, this.pendingExplain.record);
      });
    this.pendingExplain = { label, record: r };
  }

  private relocate(bytes: Uint8Array, rs: Relocation[] | undefined): Uint8Array {
    if (!rs?.length) return bytes;
    const pairs = rs.flatMap((r) => r.spellings.filter((s) => s !== "").map((s) => [s, r.token] as const));
    let text = Buffer.from(bytes).toString("utf8");
    for (const [spelling, token] of pairs.sort((a, b) => b[0].length - a[0].length))
      text = text.split(spelling).join(token);
    return new TextEncoder().encode(text);
  }

  private unrelocate(bytes: Uint8Array, rs: Relocation[] | undefined): Uint8Array {
    if (!rs?.length) return bytes;
    let text = Buffer.from(bytes).toString("utf8");
    for (const r of rs) text = text.split(r.token).join(r.restoreAs);
    return new TextEncoder().encode(text);
  }
}

/** A direct-mode manifest: `{sets: [...]}`, newest first, or one set as earlier versions wrote it. */
function parseManifest(bytes: Uint8Array): DirectInputs[] {
  const value = JSON.parse(Buffer.from(bytes).toString("utf8")) as { sets?: unknown } & Partial<DirectInputs>;
  const sets = Array.isArray(value.sets) ? (value.sets as unknown[]) : [value];
  return sets.filter(
    (set): set is DirectInputs =>
      typeof set === "object" &&
      set !== null &&
      Array.isArray((set as DirectInputs).files) &&
      Array.isArray((set as DirectInputs).env),
  );
}
