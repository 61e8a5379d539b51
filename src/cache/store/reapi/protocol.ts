/**
 * The requests and answers of the Remote Execution API's cache services that galley sends, written
 * from the specification (build.bazel.remote.execution.v2 Capabilities, ContentAddressableStorage,
 * ActionCache; google.bytestream.ByteStream). Field numbers are the protocol.
 */
import {
  BinaryWriter,
  type Digest,
  expectType,
  type RpcStatus,
  readDigest,
  readFields,
  readPacked,
  readStatus,
  WireType,
  writeDigest,
} from "./wire.ts";

const V2 = "/build.bazel.remote.execution.v2";
export const METHODS = {
  getCapabilities: `${V2}.Capabilities/GetCapabilities`,
  findMissingBlobs: `${V2}.ContentAddressableStorage/FindMissingBlobs`,
  batchReadBlobs: `${V2}.ContentAddressableStorage/BatchReadBlobs`,
  batchUpdateBlobs: `${V2}.ContentAddressableStorage/BatchUpdateBlobs`,
  getActionResult: `${V2}.ActionCache/GetActionResult`,
  updateActionResult: `${V2}.ActionCache/UpdateActionResult`,
  read: "/google.bytestream.ByteStream/Read",
  write: "/google.bytestream.ByteStream/Write",
} as const;

/** DigestFunction.Value.SHA256 */
const SHA256 = 1;

function withInstance(instance: string): BinaryWriter {
  const w = new BinaryWriter();
  if (instance) w.tag(1, WireType.LengthDelimited).string(instance);
  return w;
}

/** GetCapabilitiesRequest { string instance_name = 1; } */
export function capabilitiesRequest(instance: string): Uint8Array {
  return withInstance(instance).finish();
}

export interface CacheCapabilities {
  digestFunctions: number[];
  updateEnabled: boolean;
  maxBatchTotalSizeBytes: number;
  /** Compressor.Value: IDENTITY = 0, ZSTD = 1, … for ByteStream and BatchReadBlobs. */
  compressors: number[];
  batchUpdateCompressors: number[];
}

/** Compressor.Value.ZSTD */
export const ZSTD = 1;

/**
 * ServerCapabilities { CacheCapabilities cache_capabilities = 1; }
 * CacheCapabilities { repeated DigestFunction.Value digest_functions = 1;
 *   ActionCacheUpdateCapabilities action_cache_update_capabilities = 2;
 *   int64 max_batch_total_size_bytes = 4; repeated Compressor.Value supported_compressors = 6;
 *   repeated Compressor.Value supported_batch_update_compressors = 7; }
 * ActionCacheUpdateCapabilities { bool update_enabled = 1; }
 */
export function readCapabilities(bytes: Uint8Array): CacheCapabilities | undefined {
  let caps: CacheCapabilities | undefined;
  readFields(bytes, "ServerCapabilities", (no, type, r) => {
    if (no !== 1) return false;
    expectType(type, WireType.LengthDelimited, "cache_capabilities");
    const c: CacheCapabilities = {
      digestFunctions: [],
      updateEnabled: false,
      maxBatchTotalSizeBytes: 0,
      compressors: [],
      batchUpdateCompressors: [],
    };
    const lists: Record<number, number[]> = {
      1: c.digestFunctions,
      6: c.compressors,
      7: c.batchUpdateCompressors,
    };
    readFields(r.bytes(), "CacheCapabilities", (n, t, cr) => {
      const list = lists[n];
      if (list && t === WireType.Varint) list.push(cr.int32());
      else if (list && t === WireType.LengthDelimited) readPacked(cr.bytes(), list, "CacheCapabilities list");
      else if (n === 2 && t === WireType.LengthDelimited) {
        readFields(cr.bytes(), "ActionCacheUpdateCapabilities", (m, mt, ur) => {
          if (m !== 1 || mt !== WireType.Varint) return false;
          c.updateEnabled = ur.bool();
          return true;
        });
      } else if (n === 4 && t === WireType.Varint) c.maxBatchTotalSizeBytes = Number(cr.int64());
      else return false;
      return true;
    });
    caps = c;
    return true;
  });
  return caps;
}

/** Whether the server hashes with SHA-256 (an empty list is an older server that only knows it). */
export function supportsSha256(caps: CacheCapabilities): boolean {
  return caps.digestFunctions.length === 0 || caps.digestFunctions.includes(SHA256);
}

/** FindMissingBlobsRequest { string instance_name = 1; repeated Digest blob_digests = 2; } */
export function findMissingRequest(instance: string, digests: Digest[]): Uint8Array {
  const w = withInstance(instance);
  for (const d of digests) writeDigest(w, 2, d);
  return w.finish();
}

/** FindMissingBlobsResponse { repeated Digest missing_blob_digests = 2; } */
export function readFindMissing(bytes: Uint8Array): string[] {
  const missing: string[] = [];
  readFields(bytes, "FindMissingBlobsResponse", (no, type, r) => {
    if (no !== 2) return false;
    expectType(type, WireType.LengthDelimited, "missing_blob_digests");
    missing.push(readDigest(r.bytes()).hash);
    return true;
  });
  return missing;
}

/**
 * BatchReadBlobsRequest { string instance_name = 1; repeated Digest digests = 2;
 *   repeated Compressor.Value acceptable_compressors = 3; }
 */
export function batchReadRequest(instance: string, digests: Digest[], compressors: number[]): Uint8Array {
  const w = withInstance(instance);
  for (const d of digests) writeDigest(w, 2, d);
  if (compressors.length > 0) {
    w.tag(3, WireType.LengthDelimited).fork();
    for (const c of compressors) w.int32(c);
    w.join();
  }
  return w.finish();
}

export interface BlobAnswer {
  hash: string;
  data: Uint8Array;
  /** How `data` is compressed (Compressor.Value). */
  compressor: number;
  status: RpcStatus;
}

/**
 * BatchReadBlobsResponse { repeated Response responses = 1; }
 * Response { Digest digest = 1; bytes data = 2; google.rpc.Status status = 3; Compressor.Value compressor = 4; }
 * (BatchUpdateBlobsResponse's Response is the same without data.)
 */
export function readBatchAnswers(bytes: Uint8Array): BlobAnswer[] {
  const answers: BlobAnswer[] = [];
  readFields(bytes, "Batch response", (no, type, r) => {
    if (no !== 1) return false;
    expectType(type, WireType.LengthDelimited, "responses");
    const a: BlobAnswer = {
      hash: "",
      data: new Uint8Array(0),
      compressor: 0,
      status: { code: 0, message: "" },
    };
    readFields(r.bytes(), "Response", (n, t, rr) => {
      if (n === 1 && t === WireType.LengthDelimited) a.hash = readDigest(rr.bytes()).hash;
      else if (n === 2 && t === WireType.LengthDelimited) a.data = rr.bytes();
      else if (n === 3 && t === WireType.LengthDelimited) a.status = readStatus(rr.bytes());
      else if (n === 4 && t === WireType.Varint) a.compressor = rr.int32();
      else return false;
      return true;
    });
    answers.push(a);
    return true;
  });
  return answers;
}

/**
 * BatchUpdateBlobsRequest { string instance_name = 1; repeated Request requests = 2; }
 * Request { Digest digest = 1; bytes data = 2; Compressor.Value compressor = 3; }
 */
export function batchUpdateRequest(
  instance: string,
  blobs: { hash: string; size: number; data: Uint8Array; compressor: number }[],
): Uint8Array {
  const w = withInstance(instance);
  for (const b of blobs) {
    w.tag(2, WireType.LengthDelimited).fork();
    writeDigest(w, 1, { hash: b.hash, size: b.size });
    w.tag(2, WireType.LengthDelimited).bytes(b.data);
    if (b.compressor !== 0) w.tag(3, WireType.Varint).int32(b.compressor);
    w.join();
  }
  return w.finish();
}

/** GetActionResultRequest { string instance_name = 1; Digest action_digest = 2; repeated string inline_output_files = 5; } */
export function getActionRequest(instance: string, key: string, inline: string[]): Uint8Array {
  const w = withInstance(instance);
  writeDigest(w, 2, actionDigest(key));
  for (const path of inline) w.tag(5, WireType.LengthDelimited).string(path);
  return w.finish();
}

/** UpdateActionResultRequest { string instance_name = 1; Digest action_digest = 2; ActionResult action_result = 3; } */
export function updateActionRequest(instance: string, key: string, record: Uint8Array): Uint8Array {
  const w = withInstance(instance);
  writeDigest(w, 2, actionDigest(key));
  w.tag(3, WireType.LengthDelimited).bytes(record);
  return w.finish();
}

/**
 * galley's action key stands for the Action; the key is a SHA-256 like an Action's digest, and its
 * size is that of the key's text (servers look records up by the hash).
 */
function actionDigest(key: string): Digest {
  return { hash: key, size: key.length };
}

/** ReadRequest { string resource_name = 1; int64 read_offset = 2; int64 read_limit = 3; } */
export function readRequest(resource: string): Uint8Array {
  return new BinaryWriter().tag(1, WireType.LengthDelimited).string(resource).finish();
}

/** ReadResponse { bytes data = 10; } */
export function readReadResponse(bytes: Uint8Array): Uint8Array {
  let data: Uint8Array = new Uint8Array(0);
  readFields(bytes, "ReadResponse", (no, type, r) => {
    if (no !== 10) return false;
    expectType(type, WireType.LengthDelimited, "ReadResponse.data");
    data = r.bytes();
    return true;
  });
  return data;
}

/** WriteRequest { string resource_name = 1; int64 write_offset = 2; bool finish_write = 3; bytes data = 10; } */
export function writeRequest(
  resource: string | undefined,
  offset: number,
  data: Uint8Array,
  finish: boolean,
): Uint8Array {
  const w = new BinaryWriter();
  if (resource !== undefined) w.tag(1, WireType.LengthDelimited).string(resource);
  if (offset > 0) w.tag(2, WireType.Varint).int64(offset);
  if (finish) w.tag(3, WireType.Varint).bool(true);
  w.tag(10, WireType.LengthDelimited).bytes(data);
  return w.finish();
}

/** WriteResponse { int64 committed_size = 1; } */
export function readWriteResponse(bytes: Uint8Array): number {
  let committed = 0;
  readFields(bytes, "WriteResponse", (no, type, r) => {
    if (no !== 1 || type !== WireType.Varint) return false;
    committed = Number(r.int64());
    return true;
  });
  return committed;
}
