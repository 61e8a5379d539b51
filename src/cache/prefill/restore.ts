/**
 * Prefill: before cargo decides what to build, put the units an earlier run of the same cargo
 * command built back into the target dir, with their fingerprints. cargo then checks each one as
 * it checks its own: a unit whose fingerprint no longer matches (another feature set, a changed
 * flag, a dependency rebuilt) is rebuilt, through the wrapper, as if prefill had not been there.
 *
 * It runs in the first `rustc -vV` probe of a build: cargo waits for the probe's answer and only
 * then reads fingerprints. Only units that are not in the target dir are written; every file of a
 * unit gets one timestamp, so that no restored dependency looks newer than its dependents; the
 * fingerprint goes in last, so a unit cut short is one cargo rebuilds.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { tryLockFile } from "../../util/lock-file.ts";
import { debug } from "../../util/term.ts";
import { currentBuild } from "../engine/build-id.ts";
import { sha256Hex } from "../engine/digest.ts";
import type { FileDigests } from "../engine/file-digest.ts";
import { copyOutput, writeOutput } from "../engine/output-files.ts";
import type { StatEvent } from "../engine/stat-event.ts";
import type { DiskStore } from "../store/disk.ts";
import type { CargoCall } from "./cargo-call.ts";
import { claimsDir, hashFilesOf, readRecords, recordsDir, type UnitRecord } from "./unit-record.ts";

/** A claim (one per build) older than this is removed by the next claimer. */
const CLAIM_MAX_MS = 24 * 60 * 60 * 1000;

export interface PrefillResult {
  restored: StatEvent[];
  /** Units left to cargo: already in the target dir... */
  present: number;
  /** ...or not restored whole (a blob missing or damaged, a file that could not be written). */
  unavailable: number;
}

/** True for the first process of this build to ask; later probes of the same build do nothing. */
export function claimBuild(cacheDir: string): boolean {
  const dir = claimsDir(cacheDir);
  const id = currentBuild().id;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, id), "", { flag: "wx" });
  } catch {
    return false;
  }
  const now = Date.now();
  for (const name of readdirSync(dir)) {
    try {
      if (now - statSync(join(dir, name)).mtimeMs > CLAIM_MAX_MS) rmSync(join(dir, name), { force: true });
    } catch {}
  }
  return true;
}

export function prefillTarget(
  cacheDir: string,
  call: CargoCall,
  store: DiskStore,
  digests: FileDigests,
): PrefillResult | undefined {
  const records = readRecords(cacheDir, call.key);
  if (records.length === 0) return undefined;
  const result: PrefillResult = { restored: [], present: 0, unavailable: 0 };
  const busy = lockedProfileDirs(records);
  const releases: (() => void)[] = [];
  for (const dir of new Set(records.map((r) => r.profileDir))) {
    const release = busy.has(dir) ? undefined : claimProfileDir(cacheDir, dir);
    if (release) releases.push(release);
    else busy.add(dir);
  }
  // One time for every file: cargo rebuilds a unit whose dependency's outputs are newer than its own.
  const time = new Date();
  // The blobs' digests are checked through one memo for the whole set: a stat per blob.
  digests.openGroup(`prefill-${call.key}`);
  try {
    for (const record of records) {
      if (busy.has(record.profileDir) || existsSync(join(record.profileDir, ".fingerprint", record.unit))) {
        result.present++;
        continue;
      }
      const blobs = intactBlobs(record, store, digests);
      try {
        if (!blobs) throw new Error("a blob is missing or damaged");
        writeUnit(record, blobs, time);
      } catch (err) {
        // Without its fingerprint (written last) the unit is one cargo builds as usual.
        debug(`prefill: ${record.unit} left to cargo: ${(err as Error).message}`);
        result.unavailable++;
        continue;
      }
      result.restored.push({
        outcome: "hit",
        prefilled: true,
        crate: record.label,
        compileMs: record.compileMs,
        bytesRead: record.files.reduce((sum, f) => sum + f.size, 0),
      });
    }
  } finally {
    digests.closeGroup();
    for (const release of releases) release();
  }
  // The record set is in use: gc keeps it while builds read it.
  const now = new Date();
  utimesSync(recordsDir(cacheDir, call.key), now, now);
  return result;
}

/** The local store's file of every blob the unit needs, each checked against its digest. */
function intactBlobs(
  record: UnitRecord,
  store: DiskStore,
  digests: FileDigests,
): Map<string, string> | undefined {
  const blobs = new Map<string, string>();
  for (const f of record.files) {
    if (!f.digest || blobs.has(f.digest)) continue;
    const path = store.localBlobPath(f.digest);
    if (!path || digests.sourceDigest(path) !== f.digest) {
      debug(`prefill: ${record.unit}: blob ${f.digest.slice(0, 12)} of ${f.path} is missing or damaged`);
      return undefined;
    }
    blobs.set(f.digest, path);
  }
  return blobs;
}

function writeUnit(record: UnitRecord, blobs: Map<string, string>, time: Date): void {
  const root = record.targetRoot;
  if (root && !existsSync(root.path)) {
    mkdirSync(root.path, { recursive: true });
    writeFileSync(join(root.path, "CACHEDIR.TAG"), root.tag);
  }
  for (const dir of record.dirs) mkdirSync(join(record.profileDir, dir), { recursive: true });
  for (const f of record.files) {
    const dest = join(record.profileDir, f.path);
    mkdirSync(dirname(dest), { recursive: true });
    if (f.digest) copyOutput(dest, blobs.get(f.digest)!, f.mode);
    else writeOutput(dest, Buffer.from(f.inline!, "base64"), f.mode);
    utimesSync(dest, time, time);
  }
  const fpDir = join(record.profileDir, ".fingerprint", record.unit);
  mkdirSync(fpDir, { recursive: true });
  // The hash files last: until they are there, cargo sees no fingerprint and rebuilds the unit.
  const names = Object.keys(record.fingerprint);
  const hashes = new Set(hashFilesOf(names));
  names.sort((a, b) => Number(hashes.has(a)) - Number(hashes.has(b)));
  for (const name of names) {
    const dest = join(fpDir, name);
    writeFileSync(dest, Buffer.from(record.fingerprint[name]!, "base64"));
    utimesSync(dest, time, time);
  }
}

/** A claim on a profile dir older than this belongs to a prefill that died. */
const PROFILE_CLAIM_MAX_MS = 10 * 60 * 1000;

/**
 * One prefill at a time per profile dir: two builds of one command started together both probe
 * before either cargo takes its lock, and the second would rewrite files the first cargo reads.
 * The second leaves the dir to its cargo, which waits for the first one's lock.
 */
function claimProfileDir(cacheDir: string, profileDir: string): (() => void) | undefined {
  return tryLockFile(
    join(claimsDir(cacheDir), `dir-${sha256Hex(profileDir).slice(0, 32)}`),
    PROFILE_CLAIM_MAX_MS,
  );
}

/**
 * Profile dirs another cargo holds its lock on (`.cargo-lock`, listed in /proc/locks by inode):
 * nothing is written under a build that is running.
 */
function lockedProfileDirs(records: UnitRecord[]): Set<string> {
  const busy = new Set<string>();
  let locks: Set<string>;
  try {
    locks = new Set(
      readFileSync("/proc/locks", "utf8")
        .split("\n")
        .map((line) => line.trim().split(/\s+/)[5]?.split(":")[2] ?? "")
        .filter(Boolean),
    );
  } catch {
    return busy;
  }
  for (const dir of new Set(records.map((r) => r.profileDir))) {
    try {
      if (locks.has(String(statSync(join(dir, ".cargo-lock")).ino))) busy.add(dir);
    } catch {}
  }
  return busy;
}
