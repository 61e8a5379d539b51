/**
 * What prefill keeps of one unit cargo built: its bookkeeping (the files of
 * `.fingerprint/<unit>/`) and its outputs, small ones inline and the rest by digest in the local
 * store. One file per unit under the cargo command's key, so concurrent wrappers never write the
 * same file and a newer build of a unit replaces the older record of it.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isDigest, sha256Hex } from "../engine/digest.ts";

export interface RecordedFile {
  /** Relative to the profile dir (`deps/libserde-1a2b.rlib`, `build/ring-3c4d/out/x.o`). */
  path: string;
  mode: number;
  size: number;
  /** Small files travel in the record (base64); the others are in the local store by digest. */
  inline?: string;
  digest?: string;
}

export interface UnitRecord {
  v: 1;
  /** The unit's directory name under `.fingerprint/` (`serde-1a2b…`). */
  unit: string;
  /** Absolute: the profile dir cargo built the unit in (`…/target/release`). */
  profileDir: string;
  /** The target dir's marker file, written when prefill creates that dir (cargo writes it only then). */
  targetRoot?: { path: string; tag: string };
  /** `.fingerprint/<unit>/` file name -> base64 bytes. */
  fingerprint: Record<string, string>;
  files: RecordedFile[];
  /** Directories to create even when empty (an OUT_DIR the script left empty), relative like `files`. */
  dirs: string[];
  /** Crate or package, for stats and the journal. */
  label: string;
  /** The compile (or run) time the unit took uncached: what a prefill saves. */
  compileMs: number;
}

const prefillDir = (cacheDir: string) => join(cacheDir, "v1", "prefill");
export const recordsDir = (cacheDir: string, key: string) => join(prefillDir(cacheDir), "units", key);
export const pendingDir = (cacheDir: string, build: string) => join(prefillDir(cacheDir), "pending", build);
export const claimsDir = (cacheDir: string) => join(prefillDir(cacheDir), "claims");

/** A record file is named `<unit>@<SHA-256 of its bytes>.json`: listing the dir gives the digests. */
const RECORD_NAME = /^([A-Za-z0-9_.+-]+)@([0-9a-f]{64})\.json$/;

export interface RecordFile {
  unit: string;
  digest: string;
  path: string;
}

/** Writes a record's bytes under their digest and drops the unit's older records. */
export function writeRecordText(cacheDir: string, key: string, unit: string, text: string): string {
  const dir = recordsDir(cacheDir, key);
  mkdirSync(dir, { recursive: true });
  const digest = sha256Hex(text);
  const name = `${unit}@${digest}.json`;
  const file = join(dir, name);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
  for (const other of recordFiles(cacheDir, key))
    if (other.unit === unit && other.path !== file) rmSync(other.path, { force: true });
  return digest;
}

/** The record files under `key`, by name (not read). */
export function recordFiles(cacheDir: string, key: string): RecordFile[] {
  const dir = recordsDir(cacheDir, key);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const files: RecordFile[] = [];
  for (const name of names) {
    const m = RECORD_NAME.exec(name);
    if (m) files.push({ unit: m[1]!, digest: m[2]!, path: join(dir, name) });
  }
  return files;
}

/** Every well-formed record under `key` whose bytes match its name's digest; a damaged one is removed (its unit is then built as usual). */
export function readRecords(cacheDir: string, key: string): UnitRecord[] {
  const records: UnitRecord[] = [];
  for (const f of recordFiles(cacheDir, key)) {
    try {
      const text = readFileSync(f.path, "utf8");
      const value: unknown = sha256Hex(text) === f.digest ? JSON.parse(text) : undefined;
      if (isUnitRecord(value) && value.unit === f.unit) {
        records.push(value);
        continue;
      }
    } catch {}
    rmSync(f.path, { force: true });
  }
  return records;
}

const SAFE_NAME = /^[A-Za-z0-9_.+-]+$/;

/** Shape, and paths that stay inside the profile dir: a record is input, not trusted. */
function isUnitRecord(v: unknown): v is UnitRecord {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Partial<UnitRecord>;
  return (
    r.v === 1 &&
    typeof r.unit === "string" &&
    SAFE_NAME.test(r.unit) &&
    typeof r.profileDir === "string" &&
    r.profileDir.startsWith("/") &&
    typeof r.label === "string" &&
    typeof r.compileMs === "number" &&
    typeof r.fingerprint === "object" &&
    r.fingerprint !== null &&
    Object.entries(r.fingerprint).every(
      ([name, bytes]) => SAFE_NAME.test(name) && typeof bytes === "string",
    ) &&
    Array.isArray(r.files) &&
    r.files.every((f) => isRecordedFile(f) && isRelative(f.path)) &&
    Array.isArray(r.dirs) &&
    r.dirs.every((d) => typeof d === "string" && isRelative(d))
  );
}

function isRecordedFile(f: RecordedFile): boolean {
  return (
    typeof f === "object" &&
    f !== null &&
    typeof f.path === "string" &&
    typeof f.mode === "number" &&
    typeof f.size === "number" &&
    (typeof f.inline === "string" || (typeof f.digest === "string" && isDigest(f.digest)))
  );
}

/** A path below the profile dir: no empty, `.` or `..` part. */
export function isRelative(path: string): boolean {
  return path
    .split("/")
    .every((part) => part !== "" && part !== "." && part !== ".." && !part.includes("\0"));
}

/** Of a `.fingerprint/<unit>/` listing, the files holding cargo's hash: each `<name>` beside a `<name>.json`. */
export function hashFilesOf(names: string[]): string[] {
  return names.filter((n) => names.includes(`${n}.json`));
}
