/**
 * Recording units for prefill. cargo writes a unit's fingerprint only after the wrapper that built
 * it has exited, so the wrapper leaves a note (pending), and a later wrapper process of the same
 * build, which cargo starts only once the units it depends on are done, records the noted units
 * whose fingerprints are complete by then. A unit is recorded only from a registry package (cargo
 * treats its sources as immutable), and only after galley itself restored or stored its outputs.
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { debug } from "../../util/term.ts";
import { registryPackageOf } from "../build-script/source.ts";
import { currentBuild } from "../engine/build-id.ts";
import { sha256Hex } from "../engine/digest.ts";
import type { FileDigests } from "../engine/file-digest.ts";
import { DiskStore } from "../store/disk.ts";
import type { Store } from "../store/store.ts";
import { cargoCallOf } from "./cargo-call.ts";
import { publishIndex } from "./shared-index.ts";
import {
  isRelative,
  pendingDir,
  type RecordedFile,
  type UnitRecord,
  writeRecordText,
} from "./unit-record.ts";

type Env = Record<string, string | undefined>;

export interface PendingUnit {
  /** The cargo command's key (cargo-call.ts). */
  key: string;
  /** `.fingerprint/<unit>/`. */
  unit: string;
  profileDir: string;
  label: string;
  /** How long the compile (or the run) took when it was not cached. */
  compileMs: number;
  /** The unit's outputs, relative to the profile dir... */
  files?: string[];
  /** ...or one directory of its own, taken whole (`build/<unit>`). */
  dir?: string;
  /** When the wrapper finished (ms since the epoch): cargo's fingerprint is newer. */
  ended: number;
}

/** Files up to this size travel inside the record; bigger ones are blobs of the local store. */
const INLINE_MAX = 16 * 1024;
/**
 * cargo's own files of a unit and rustc's dep-info: no action stores these bytes (a dep-info's
 * blob holds tokens for its paths), so they travel inside the record, up to this size.
 */
const BOOKKEEPING_INLINE_MAX = 1024 * 1024;
const isBookkeeping = (rel: string) =>
  rel.endsWith(".d") || /^build\/[^/]+\/(output|stderr|root-output|invoked\.timestamp)$/.test(rel);

/** A note no wrapper could complete in this long (its build failed or was stopped) is dropped. */
const PENDING_MAX_MS = 60 * 60 * 1000;
/** The timestamp of a file can lag the clock by a tick; fingerprints are compared with this slack. */
const CLOCK_SLACK_MS = 50;

/** `GALLEY_PREFILL=0` turns prefill off: nothing is put back or recorded. */
export const prefillOff = (env: Env) => env.GALLEY_PREFILL === "0";

/** A registry package's source dir (`…/registry/src/<index>/<name>-<version>`). */
export function isRegistryPackage(manifestDir: string | undefined): boolean {
  return manifestDir !== undefined && registryPackageOf(resolve(manifestDir)) !== undefined;
}

/**
 * What a wrapper does for prefill as it ends: notes its own unit (when it is one to record, with
 * the rustc cargo uses), then records the units of this build noted earlier that cargo has
 * finished since. Never fails the wrapper.
 */
export async function recordForPrefill(
  cacheDir: string,
  store: Store,
  digests: FileDigests,
  env: Env,
  note?: { rustc: string; unit: Omit<PendingUnit, "key" | "ended"> },
): Promise<void> {
  if (prefillOff(env)) return;
  try {
    const call = note ? cargoCallOf(note.rustc, cacheDir, env) : undefined;
    if (call && note) notePending(cacheDir, { ...note.unit, key: call.key });
    const local = store instanceof DiskStore;
    await sweepPending(cacheDir, digests, local ? store : new DiskStore(cacheDir), local ? undefined : store);
  } catch {
    // prefill is an optimisation only
  }
}

function notePending(cacheDir: string, unit: Omit<PendingUnit, "ended">): void {
  try {
    const dir = pendingDir(cacheDir, currentBuild().id);
    mkdirSync(dir, { recursive: true });
    const pending: PendingUnit = { ...unit, ended: Date.now() };
    writeFileSync(join(dir, `${unit.unit}.json`), JSON.stringify(pending));
  } catch {
    // prefill is an optimisation only
  }
}

/** Records the noted units of this build whose fingerprints cargo has written since. */
async function sweepPending(
  cacheDir: string,
  digests: FileDigests,
  store: DiskStore,
  shared?: Store,
): Promise<void> {
  const dir = pendingDir(cacheDir, currentBuild().id);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  // The cargo commands whose records changed here: their index in the shared store is rewritten.
  const changed = new Set<string>();
  for (const name of names) {
    const file = join(dir, name);
    try {
      const pending = JSON.parse(readFileSync(file, "utf8")) as PendingUnit;
      const fingerprint = completeFingerprint(pending);
      if (!fingerprint) {
        if (Date.now() - pending.ended > PENDING_MAX_MS) rmSync(file, { force: true });
        continue;
      }
      // Taken first: two sweepers of one build then do not record the same unit twice.
      try {
        rmSync(file);
      } catch {
        continue;
      }
      const record = await recordOf(pending, fingerprint, digests, store, shared);
      if (!record) continue;
      const text = JSON.stringify(record);
      // Shared first: a record is here only once the shared store has its bytes.
      if (shared) await shared.putBlob(sha256Hex(text), Buffer.from(text)).catch(() => {});
      writeRecordText(cacheDir, pending.key, record.unit, text);
      changed.add(pending.key);
    } catch (err) {
      debug(`prefill: could not record ${name}: ${(err as Error).message}`);
    }
  }
  if (!shared) return;
  for (const key of changed) {
    try {
      await publishIndex(cacheDir, key, shared);
    } catch (err) {
      debug(`prefill: could not publish the records: ${(err as Error).message}`);
    }
  }
}

/**
 * The unit's fingerprint files, once cargo has written them whole after the wrapper ended: every
 * `<name>.json` beside a `<name>` that holds the 16-digit hash (cargo empties it while the unit
 * builds), and nothing older than the wrapper's end.
 */
function completeFingerprint(p: PendingUnit): Record<string, string> | undefined {
  const dir = join(p.profileDir, ".fingerprint", p.unit);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const jsons = names.filter((n) => n.endsWith(".json"));
  if (jsons.length === 0) return undefined;
  const files: Record<string, string> = {};
  for (const name of names) {
    const path = join(dir, name);
    const st = statSync(path);
    if (!st.isFile()) return undefined;
    // cargo writes the hash and its JSON when the unit is done (`invoked.timestamp` before it starts).
    const written = jsons.includes(name) || jsons.includes(`${name}.json`);
    if (written && st.mtimeMs < p.ended - CLOCK_SLACK_MS) return undefined;
    files[name] = readFileSync(path).toString("base64");
  }
  for (const json of jsons) {
    const hash = Buffer.from(files[json.slice(0, -5)] ?? "", "base64").toString("utf8");
    if (!/^[0-9a-f]{16}$/.test(hash)) return undefined;
    try {
      JSON.parse(Buffer.from(files[json]!, "base64").toString("utf8"));
    } catch {
      return undefined;
    }
  }
  return files;
}

async function recordOf(
  p: PendingUnit,
  fingerprint: Record<string, string>,
  digests: FileDigests,
  store: DiskStore,
  shared: Store | undefined,
): Promise<UnitRecord | undefined> {
  const files: RecordedFile[] = [];
  const dirs: string[] = [];
  const add = async (rel: string): Promise<boolean> => {
    const path = join(p.profileDir, rel);
    const st = lstatSync(path);
    if (st.isDirectory()) {
      dirs.push(rel);
      for (const name of readdirSync(path)) if (!(await add(`${rel}/${name}`))) return false;
      return true;
    }
    // A symlink or a special file cannot be restored as it was: the unit is left to cargo.
    if (!st.isFile() || !isRelative(rel)) return false;
    const mode = st.mode & 0o7777;
    if (st.size <= INLINE_MAX || (isBookkeeping(rel) && st.size <= BOOKKEEPING_INLINE_MAX)) {
      files.push({ path: rel, mode, size: st.size, inline: readFileSync(path).toString("base64") });
      return true;
    }
    const digest = digests.digest(path);
    if (!digest) return false;
    // Any other big file is an action's output, whose blob the action cache keeps in both tiers;
    // should it not be there, it is stored (in the shared store too, which another machine reads).
    // Copied in chunks, never read whole (it may be a big binary).
    if (!store.localBlobPath(digest)) {
      const into = shared ?? store;
      if (into.putBlobFile) await into.putBlobFile(path);
      else await into.putBlob(digest, readFileSync(path));
    }
    files.push({ path: rel, mode, size: st.size, digest });
    return true;
  };
  for (const rel of p.dir ? [p.dir] : (p.files ?? [])) if (!(await add(rel))) return undefined;
  const record: UnitRecord = {
    v: 1,
    unit: p.unit,
    profileDir: p.profileDir,
    fingerprint,
    files,
    dirs,
    label: p.label,
    compileMs: p.compileMs,
  };
  const root = targetRootOf(p.profileDir);
  if (root) record.targetRoot = root;
  return record;
}

/** The target dir above the profile dir: the one with cargo's CACHEDIR.TAG. */
function targetRootOf(profileDir: string): { path: string; tag: string } | undefined {
  let dir = dirname(profileDir);
  for (let depth = 0; depth < 3; depth++) {
    try {
      return { path: dir, tag: readFileSync(join(dir, "CACHEDIR.TAG"), "utf8") };
    } catch {}
    dir = dirname(dir);
  }
  return undefined;
}
