/**
 * Hostile versions of real records, for the proxies: galley's JSON records (Redis, S3) and REAPI
 * ActionResults (bazel-remote's HTTP /ac/, WebDAV, gRPC). The protobuf is walked field by field with
 * a few lines of wire format (field numbers from the Remote Execution API and galley's record
 * entry, see src/cache/store/reapi/action-result.ts), so the rewrite does not depend on galley's
 * own decoder: a record stays galley's (its metadata entry kept), only what the fault names changes.
 */
import { ABSURD_COUNT, ABSURD_SIZE } from "./proxy.ts";

export type Absurd = "size" | "count";

/**
 * Rewrites already made, by what they rewrote: a hostile server answers at once, so the proxy
 * makes each one once (an absurd record of 100,000 outputs takes it ~0.1 s).
 */
const made = new Map<string, Uint8Array | string | undefined>();

function once<T extends Uint8Array | string>(
  input: Uint8Array | string,
  how: string,
  make: () => T | undefined,
): T | undefined {
  const key = `${how}:${Bun.hash(input).toString(16)}:${input.length}`;
  if (!made.has(key)) {
    if (made.size > 256) made.clear();
    made.set(key, make());
  }
  return made.get(key) as T | undefined;
}

// --- JSON records ---

interface JsonRecord {
  outputs: { path: string; size: number }[];
}

function jsonRecord(text: string): JsonRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<JsonRecord>;
    return Array.isArray(value?.outputs) ? (value as JsonRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** The record with every output claiming ABSURD_SIZE bytes, or ABSURD_COUNT outputs. */
export function absurdJson(text: string, how: Absurd): string | undefined {
  return once(text, `json-${how}`, () => makeAbsurdJson(text, how));
}

function makeAbsurdJson(text: string, how: Absurd): string | undefined {
  const r = jsonRecord(text);
  if (!r || r.outputs.length === 0) return undefined;
  if (how === "size") {
    for (const o of r.outputs) o.size = ABSURD_SIZE;
    return JSON.stringify(r);
  }
  const placeholder = "\u0000outputs\u0000";
  return JSON.stringify({ ...r, outputs: placeholder }).replace(
    JSON.stringify(placeholder),
    `[${jsonOutputs()}]`,
  );
}

/**
 * The outputs of an absurd record, made once: ABSURD_COUNT well-formed outputs (their own paths, an
 * empty blob's digest), so that a rewrite costs the proxy a copy, not a build of 100,000 of them.
 */
const SYNTHETIC_DIGEST = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
let jsonBlock: string | undefined;
function jsonOutputs(): string {
  jsonBlock ??= Array.from(
    { length: ABSURD_COUNT },
    (_, i) => `{"path":"absurd/out.${i}","digest":"${SYNTHETIC_DIGEST}","size":0,"mode":420}`,
  ).join(",");
  return jsonBlock;
}

let protoBlock: { outputs: Uint8Array; modes: Uint8Array } | undefined;
function protoOutputs(): { outputs: Uint8Array; modes: Uint8Array } {
  if (!protoBlock) {
    const te = new TextEncoder();
    const digest = encode([bytesField(1, te.encode(SYNTHETIC_DIGEST))]);
    const parts = Array.from({ length: ABSURD_COUNT }, (_, i) =>
      encode([bytesField(2, encode([bytesField(1, te.encode(`absurd/out.${i}`)), bytesField(2, digest)]))]),
    );
    const outputs = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      outputs.set(p, at);
      at += p.length;
    }
    protoBlock = {
      outputs,
      modes: new Uint8Array(new Array<number>(ABSURD_COUNT).fill(0o644).flatMap(varint)),
    };
  }
  return protoBlock;
}

// --- protobuf ---

type WireType = 0 | 1 | 2 | 5;
interface Field {
  no: number;
  type: WireType;
  /** Varints as bigint, the rest as their bytes. */
  value: bigint | Uint8Array;
}

function readVarint(b: Uint8Array, at: number): [bigint, number] | undefined {
  let v = 0n;
  for (let i = 0; i < 10 && at + i < b.length; i++) {
    const byte = b[at + i]!;
    v |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if (byte < 0x80) return [v, at + i + 1];
  }
  return undefined;
}

function varint(v: bigint | number): number[] {
  let n = BigInt(v);
  const out: number[] = [];
  do {
    let byte = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) byte |= 0x80;
    out.push(byte);
  } while (n > 0n);
  return out;
}

/** The fields of a message, or undefined for bytes that are not one. */
export function fields(b: Uint8Array): Field[] | undefined {
  const out: Field[] = [];
  let at = 0;
  while (at < b.length) {
    const tag = readVarint(b, at);
    if (!tag) return undefined;
    at = tag[1];
    const no = Number(tag[0] >> 3n);
    const type = Number(tag[0] & 7n);
    if (type === 0) {
      const v = readVarint(b, at);
      if (!v) return undefined;
      out.push({ no, type, value: v[0] });
      at = v[1];
    } else if (type === 2) {
      const len = readVarint(b, at);
      if (!len || len[1] + Number(len[0]) > b.length) return undefined;
      out.push({ no, type, value: b.subarray(len[1], len[1] + Number(len[0])) });
      at = len[1] + Number(len[0]);
    } else if (type === 1 || type === 5) {
      const n = type === 1 ? 8 : 4;
      if (at + n > b.length) return undefined;
      out.push({ no, type, value: b.subarray(at, at + n) });
      at += n;
    } else return undefined;
  }
  return out;
}

export function encode(fs: Field[]): Uint8Array {
  const parts: number[][] = [];
  const blobs: Uint8Array[] = [];
  let size = 0;
  for (const f of fs) {
    const head = varint((BigInt(f.no) << 3n) | BigInt(f.type));
    if (f.type === 0) {
      const v = varint(f.value as bigint);
      parts.push([...head, ...v]);
      blobs.push(new Uint8Array(0));
      size += head.length + v.length;
    } else if (f.type === 2) {
      const bytes = f.value as Uint8Array;
      const len = varint(bytes.length);
      parts.push([...head, ...len]);
      blobs.push(bytes);
      size += head.length + len.length + bytes.length;
    } else {
      parts.push(head);
      blobs.push(f.value as Uint8Array);
      size += head.length + (f.value as Uint8Array).length;
    }
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const [i, p] of parts.entries()) {
    out.set(p, at);
    at += p.length;
    out.set(blobs[i]!, at);
    at += blobs[i]!.length;
  }
  return out;
}

const bytesField = (no: number, value: Uint8Array): Field => ({ no, type: 2, value });
const varintField = (no: number, value: bigint | number): Field => ({ no, type: 0, value: BigInt(value) });

/** galley's entry in ExecutedActionMetadata.auxiliary_metadata (an Any with this type URL). */
const GALLEY_TYPE_URL = "type.googleapis.com/galley.cache.v1.Record";

/** OutputFile.digest (field 2) with its size_bytes (field 2) set. */
function withSize(outputFile: Uint8Array, size: number): Uint8Array {
  const fs = fields(outputFile) ?? [];
  return encode(
    fs.map((f) => {
      if (f.no !== 2 || f.type !== 2) return f;
      const digest = (fields(f.value as Uint8Array) ?? []).filter((d) => d.no !== 2);
      return bytesField(2, encode([...digest, varintField(2, size)]));
    }),
  );
}

/** ExecutedActionMetadata with galley's record's `modes` (field 2) set to `packed` (varints). */
function withModes(metadata: Uint8Array, packed: Uint8Array): Uint8Array {
  const fs = fields(metadata) ?? [];
  return encode(
    fs.map((f) => {
      if (f.no !== 11 || f.type !== 2) return f;
      const any = fields(f.value as Uint8Array) ?? [];
      const url = any.find((a) => a.no === 1);
      if (!url || new TextDecoder().decode(url.value as Uint8Array) !== GALLEY_TYPE_URL) return f;
      return bytesField(
        11,
        encode(
          any.map((a) => {
            if (a.no !== 2) return a;
            const record = (fields(a.value as Uint8Array) ?? []).filter((r) => r.no !== 2);
            return bytesField(2, encode([...record, bytesField(2, packed)]));
          }),
        ),
      );
    }),
  );
}

/** The ActionResult with every output claiming ABSURD_SIZE bytes, or ABSURD_COUNT outputs. */
export function absurdProto(record: Uint8Array, how: Absurd): Uint8Array | undefined {
  return once(record, `proto-${how}`, () => makeAbsurdProto(record, how));
}

function makeAbsurdProto(record: Uint8Array, how: Absurd): Uint8Array | undefined {
  const fs = fields(record);
  const files = fs?.filter((f) => f.no === 2 && f.type === 2) ?? [];
  if (!fs || files.length === 0) return undefined;
  if (how === "size")
    return encode(
      fs.map((f) =>
        f.no === 2 && f.type === 2 ? bytesField(2, withSize(f.value as Uint8Array, ABSURD_SIZE)) : f,
      ),
    );
  const block = protoOutputs();
  const others = encode(
    fs
      .filter((f) => !(f.no === 2 && f.type === 2))
      .map((f) =>
        f.no === 9 && f.type === 2 ? bytesField(9, withModes(f.value as Uint8Array, block.modes)) : f,
      ),
  );
  // Field order is free in protobuf: the outputs first, then the rest of the record.
  const out = new Uint8Array(block.outputs.length + others.length);
  out.set(block.outputs, 0);
  out.set(others, block.outputs.length);
  return out;
}

/**
 * The bytes that put an unknown length-delimited field of `size` bytes after a message: a reader
 * that skips unknown fields takes the message as valid, whatever it holds there.
 */
export function unknownFieldHeader(size: number): Uint8Array {
  return new Uint8Array([...varint((1000n << 3n) | 2n), ...varint(size)]);
}

// --- REAPI messages the gRPC proxy rewrites ---

/** ServerCapabilities with cache_capabilities.max_batch_total_size_bytes (1 → 4) set. */
export function withMaxBatch(capabilities: Uint8Array, bytes: number): Uint8Array {
  const fs = fields(capabilities);
  if (!fs) return capabilities;
  return encode(
    fs.map((f) => {
      if (f.no !== 1 || f.type !== 2) return f;
      const cache = (fields(f.value as Uint8Array) ?? []).filter((c) => c.no !== 4);
      return bytesField(1, encode([...cache, varintField(4, bytes)]));
    }),
  );
}

export interface BatchAnswer {
  /** The Digest message as sent, its hash and size. */
  digest: Uint8Array;
  hash: string;
  size: number;
  data: Uint8Array;
  compressor: number;
  /** google.rpc.Status bytes, if any. */
  status?: Uint8Array;
}

/** BatchReadBlobsResponse { repeated Response responses = 1 } with Response { digest 1, data 2, status 3, compressor 4 }. */
export function batchAnswers(response: Uint8Array): BatchAnswer[] | undefined {
  const fs = fields(response);
  if (!fs) return undefined;
  const out: BatchAnswer[] = [];
  for (const f of fs) {
    if (f.no !== 1 || f.type !== 2) continue;
    const a: BatchAnswer = {
      digest: new Uint8Array(),
      hash: "",
      size: 0,
      data: new Uint8Array(),
      compressor: 0,
    };
    for (const g of fields(f.value as Uint8Array) ?? []) {
      if (g.no === 1 && g.type === 2) {
        a.digest = g.value as Uint8Array;
        for (const d of fields(a.digest) ?? []) {
          if (d.no === 1 && d.type === 2) a.hash = new TextDecoder().decode(d.value as Uint8Array);
          if (d.no === 2 && d.type === 0) a.size = Number(d.value);
        }
      } else if (g.no === 2 && g.type === 2) a.data = g.value as Uint8Array;
      else if (g.no === 3 && g.type === 2) a.status = g.value as Uint8Array;
      else if (g.no === 4 && g.type === 0) a.compressor = Number(g.value);
    }
    out.push(a);
  }
  return out;
}

export function encodeBatchAnswers(answers: BatchAnswer[]): Uint8Array {
  return encode(
    answers.map((a) =>
      bytesField(
        1,
        encode([
          bytesField(1, a.digest),
          bytesField(2, a.data),
          ...(a.status ? [bytesField(3, a.status)] : []),
          ...(a.compressor ? [varintField(4, a.compressor)] : []),
        ]),
      ),
    ),
  );
}

/** BatchUpdateBlobsRequest's digests (requests = 2, each with digest = 1). */
export function updateRequestDigests(request: Uint8Array): Uint8Array[] {
  return (fields(request) ?? [])
    .filter((f) => f.no === 2 && f.type === 2)
    .map(
      (f) =>
        (fields(f.value as Uint8Array)?.find((g) => g.no === 1)?.value as Uint8Array) ?? new Uint8Array(),
    );
}

/** BatchUpdateBlobsResponse with an OK status for each digest. */
export function updateResponseAllOk(digests: Uint8Array[]): Uint8Array {
  return encode(
    digests.map((d) => bytesField(1, encode([bytesField(1, d), bytesField(2, new Uint8Array())]))),
  );
}

/** UpdateActionResultRequest's action_result (3). */
export function updateRequestRecord(request: Uint8Array): Uint8Array {
  return (
    ((fields(request) ?? []).find((f) => f.no === 3 && f.type === 2)?.value as Uint8Array) ?? new Uint8Array()
  );
}

/** ReadRequest's resource_name (1). */
export function readResource(request: Uint8Array): string {
  const f = (fields(request) ?? []).find((x) => x.no === 1 && x.type === 2);
  return f ? new TextDecoder().decode(f.value as Uint8Array) : "";
}

/** ReadResponse { bytes data = 10 }. */
export function readResponse(data: Uint8Array): Uint8Array {
  return encode([bytesField(10, data)]);
}

export function readResponseData(message: Uint8Array): Uint8Array {
  return (
    ((fields(message) ?? []).find((f) => f.no === 10 && f.type === 2)?.value as Uint8Array) ??
    new Uint8Array()
  );
}

/** WriteRequest's data (10); WriteResponse { int64 committed_size = 1 }. */
export function writeRequestData(message: Uint8Array): Uint8Array {
  return (
    ((fields(message) ?? []).find((f) => f.no === 10 && f.type === 2)?.value as Uint8Array) ??
    new Uint8Array()
  );
}

export function writeResponse(committed: number): Uint8Array {
  return encode([varintField(1, committed)]);
}
