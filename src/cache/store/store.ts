/**
 * The store interface every backend implements: an action cache (action key -> small result
 * record) and a content-addressed store (SHA-256 digest -> bytes), the model of Bazel's remote
 * cache, so the same records map onto local files, S3 keys, Redis keys and bazel-remote's /ac/, /cas/.
 */
import { isDigest } from "../engine/digest.ts";

export interface StoredOutput {
  /** Path relative to the output directory the action wrote into. */
  path: string;
  digest: string;
  size: number;
  mode: number;
}

export interface ActionResult {
  outputs: StoredOutput[];
  /** Digest of captured stdout / stderr in the CAS, or undefined when empty. */
  stdout?: string;
  stderr?: string;
  /** How long the real compile took, to report time saved. */
  compileMs: number;
}

export interface Store {
  readonly name: string;
  getAction(key: string): Promise<ActionResult | undefined>;
  putAction(key: string, result: ActionResult): Promise<void>;
  /** The blob's bytes, verified against its digest; a damaged blob is removed and reads as missing. */
  getBlob(digest: string): Promise<Uint8Array | undefined>;
  putBlob(digest: string, bytes: Uint8Array): Promise<void>;
  hasBlob(digest: string): Promise<boolean>;
  /**
   * A local backend may clone a blob it holds into `dest` (a reflink: copy-on-write, so a later
   * change of either file leaves the other alone). False when it cannot; the caller then writes
   * the bytes it read and verified.
   */
  cloneBlob?(digest: string, dest: string): boolean;
}

/** Raised (and counted) when a stored entry fails verification; the entry has been removed. */
export class CorruptEntry extends Error {
  constructor(readonly what: string) {
    super(`corrupt cache entry ${what} (removed)`);
    this.name = "CorruptEntry";
  }
}

export function isActionResult(value: unknown): value is ActionResult {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Partial<ActionResult>;
  return (
    Array.isArray(r.outputs) &&
    typeof r.compileMs === "number" &&
    r.outputs.every(
      (o) =>
        typeof o?.path === "string" &&
        isDigest(o.digest) &&
        typeof o.size === "number" &&
        typeof o.mode === "number",
    ) &&
    (r.stdout === undefined || typeof r.stdout === "string") &&
    (r.stderr === undefined || typeof r.stderr === "string")
  );
}
