/**
 * The store interface every backend implements: an action cache (action key -> small result
 * record) and a content-addressed store (SHA-256 digest -> bytes), the model of Bazel's remote
 * cache, so the same records map onto local files, S3 keys, Redis keys and bazel-remote's /ac/, /cas/.
 */
import { isDigest, sha256Hex } from "../engine/digest.ts";
import type { BlobSink, FileBlobSink } from "./blob-sink.ts";

export interface StoredOutput {
  /** Path relative to the output directory the action wrote into. */
  path: string;
  digest: string;
  size: number;
  mode: number;
  /**
   * The bytes themselves, base64, for small outputs a reader needs at once (the direct-mode
   * manifest): a lookup then reads the record and has them, without another round trip. REAPI's
   * OutputFile carries them as `contents`. A shared store gets the blob too (the local store needs
   * no file of it); readers check the digest.
   */
  inline?: string;
}

/**
 * The one output of a direct-mode manifest record; carried inline. A remote store may ask its server
 * to send this file's bytes within the record (REAPI's inline_output_files).
 */
export const MANIFEST_OUTPUT = "direct-mode-manifest.json";

export interface ActionResult {
  outputs: StoredOutput[];
  /** Digest of captured stdout / stderr in the CAS, or undefined when empty. */
  stdout?: string;
  stderr?: string;
  /** Their sizes, so that a reader reads no more than that (records written before them have none). */
  stdoutSize?: number;
  stderrSize?: number;
  /** How long the real compile took, to report time saved. */
  compileMs: number;
  /** HMAC of the key and the record, set by a signing store; every backend keeps it as it is. */
  signature?: string;
  /**
   * Small blobs the record names, carried inside it by the local store (digest -> base64), so that
   * a miss creates fewer files and a hit reads fewer. Never sent to a shared store.
   */
  carried?: Record<string, string>;
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
   * Several blobs in as few requests as the backend allows (a remote store batches them or fetches
   * them in parallel). Missing blobs are absent from the map; a damaged one throws CorruptEntry.
   */
  getBlobs?(digests: string[], sizes?: BlobSizes): Promise<Map<string, Uint8Array>>;
  /** Stores several blobs, in as few requests as the backend allows. */
  putBlobs?(blobs: Map<string, Uint8Array>): Promise<void>;
  /**
   * Stores blobs, then the records that name them, so that no reader sees a record without its
   * bytes. The local store carries each record's small blobs inside it. Without this method,
   * putResults() puts the blobs (one batch), then each record.
   */
  putResults?(blobs: Map<string, Uint8Array>, records: StoredRecord[]): Promise<void>;
  /**
   * A local backend's way in for a big file: copied in chunks and hashed on the way, never held
   * whole in memory. Returns the blob's digest and size.
   */
  putBlobFile?(file: string): Promise<{ digest: string; size: number }>;
  /**
   * A local backend's file of the blob, if it holds it, so that a restore can copy it in the kernel
   * (or reflink it) rather than read it. Not verified: the caller checks the digest of the file.
   */
  localBlobPath?(digest: string): string | undefined;
  /**
   * A shared backend's way to send a big blob: its bytes, unpacked, to `sink` as they arrive, never
   * more than `size`. False when the store does not hold it.
   */
  readBlobTo?(digest: string, size: number, sink: BlobSink): Promise<boolean>;
  /** A shared backend's way in for a big blob: read from its file in chunks, never whole. */
  writeBlobFrom?(digest: string, size: number, file: string): Promise<void>;
  /** A local backend's file-to-be for a blob of known digest and size (see readBlobTo). */
  blobSink?(digest: string, size: number): FileBlobSink;
  /**
   * Brings blobs of known sizes into the local store (the tiered store: big ones streamed to their
   * files) and returns those that are there now. A damaged one throws CorruptEntry.
   */
  fetchToLocal?(sizes: BlobSizes): Promise<Set<string>>;
  /** Closes connections a remote backend holds open (commands that do not exit at once). */
  close?(): void;
}

export { CorruptEntry } from "./corrupt.ts";

/**
 * Sizes of blobs a caller knows from elsewhere than a record read through the store (a REAPI server
 * addresses a blob by hash and size; the other backends need no sizes).
 */
export type BlobSizes = ReadonlyMap<string, number>;

/** Several blobs through the backend's batch call, or one request per blob, all at once. */
export async function getBlobs(
  store: Store,
  digests: string[],
  sizes?: BlobSizes,
): Promise<Map<string, Uint8Array>> {
  const wanted = [...new Set(digests)];
  if (store.getBlobs) return await store.getBlobs(wanted, sizes);
  const found = new Map<string, Uint8Array>();
  const read = await Promise.all(wanted.map((d) => store.getBlob(d)));
  read.forEach((bytes, i) => {
    if (bytes) found.set(wanted[i]!, bytes);
  });
  return found;
}

export async function putBlobs(store: Store, blobs: Map<string, Uint8Array>): Promise<void> {
  if (blobs.size === 0) return;
  if (store.putBlobs) return await store.putBlobs(blobs);
  await Promise.all([...blobs].map(([digest, bytes]) => store.putBlob(digest, bytes)));
}

export interface StoredRecord {
  key: string;
  result: ActionResult;
}

/** Blobs, then the records that name them: in the backend's own way where it has one. */
export async function putResults(
  store: Store,
  blobs: Map<string, Uint8Array>,
  records: StoredRecord[],
): Promise<void> {
  if (store.putResults) return await store.putResults(blobs, records);
  await putBlobs(store, blobs);
  for (const r of records) await store.putAction(r.key, r.result);
}

/** The size of every blob a record names, where the record says it. */
export function namedSizes(result: ActionResult): Map<string, number> {
  const sizes = new Map(result.outputs.map((o) => [o.digest, o.size]));
  if (result.stdout && result.stdoutSize !== undefined) sizes.set(result.stdout, result.stdoutSize);
  if (result.stderr && result.stderrSize !== undefined) sizes.set(result.stderr, result.stderrSize);
  return sizes;
}

/** The digests of the blobs a record names (outputs, stdout, stderr). */
export function namedBlobs(result: ActionResult): string[] {
  const named = result.outputs.map((o) => o.digest);
  if (result.stdout) named.push(result.stdout);
  if (result.stderr) named.push(result.stderr);
  return named;
}

/**
 * A blob carried inside its record, if it is there. Not hashed again here: the store that carries
 * blobs checks them all when it reads the record (a shared store's records carry none).
 */
export function carriedBytes(result: ActionResult, digest: string): Uint8Array | undefined {
  const b64 = result.carried?.[digest];
  return b64 === undefined ? undefined : Buffer.from(b64, "base64");
}

/** The bytes of an output carried in its record, if they are there and match the digest. */
export function inlineBytes(out: StoredOutput): Uint8Array | undefined {
  if (out.inline === undefined) return undefined;
  const bytes = Buffer.from(out.inline, "base64");
  return sha256Hex(bytes) === out.digest ? bytes : undefined;
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
        isSize(o.size) &&
        typeof o.mode === "number" &&
        (o.inline === undefined || typeof o.inline === "string"),
    ) &&
    (r.stdout === undefined || typeof r.stdout === "string") &&
    (r.stderr === undefined || typeof r.stderr === "string") &&
    (r.stdoutSize === undefined || isSize(r.stdoutSize)) &&
    (r.stderrSize === undefined || isSize(r.stderrSize)) &&
    (r.signature === undefined || typeof r.signature === "string") &&
    (r.carried === undefined ||
      (typeof r.carried === "object" &&
        r.carried !== null &&
        Object.entries(r.carried).every(([d, b]) => isDigest(d) && typeof b === "string")))
  );
}

function isSize(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}
