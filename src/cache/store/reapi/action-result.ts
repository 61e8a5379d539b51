/**
 * galley's record as a Remote Execution API `ActionResult`, the record format of bazel-remote (HTTP
 * /ac/ and gRPC) and of every REAPI cache: each output is an `OutputFile` (path, SHA-256 digest,
 * is_executable, `contents` when inline), stdout/stderr are digests, and what REAPI has no field for
 * (the compile time, each file's mode, the signature) travels in `execution_metadata`'s
 * `auxiliary_metadata` as an `Any` with galley's own type URL. A record without that entry was not
 * written by galley (or was withdrawn) and reads as a miss.
 */
import { isDigest } from "../../engine/digest.ts";
import { type ActionResult, isActionResult, type StoredOutput } from "../store.ts";
import {
  BinaryWriter,
  expectType,
  MalformedMessage,
  readDigest,
  readFields,
  readPacked,
  WireType,
  writeDigest,
} from "./wire.ts";

export const GALLEY_TYPE_URL = "type.googleapis.com/galley.cache.v1.Record";

/** Size of a blob this process knows (REAPI digests carry sizes; galley's stdout/stderr refs do not). */
export type KnownSize = (digest: string) => number | undefined;

/**
 * ActionResult { repeated OutputFile output_files = 2; int32 exit_code = 4; Digest stdout_digest = 6;
 *   Digest stderr_digest = 8; ExecutedActionMetadata execution_metadata = 9; }
 * OutputFile { string path = 1; Digest digest = 2; bool is_executable = 4; bytes contents = 5; }
 * ExecutedActionMetadata { string worker = 1; repeated google.protobuf.Any auxiliary_metadata = 11; }
 * Any { string type_url = 1; bytes value = 2; }
 * galley.cache.v1.Record { uint64 compile_ms = 1; repeated uint32 modes = 2; string signature = 3;
 *   string stdout = 4; string stderr = 5; repeated uint32 inline = 6; }
 * (stdout/stderr there only when their size is unknown; `inline` lists the outputs written with
 * their contents, which a server may keep in its CAS instead and send only when asked.)
 */
export function encodeActionResult(result: ActionResult, knownSize: KnownSize): Uint8Array {
  const w = new BinaryWriter();
  for (const out of result.outputs) {
    w.tag(2, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).string(out.path);
    writeDigest(w, 2, { hash: out.digest, size: out.size });
    if (out.mode & 0o111) w.tag(4, WireType.Varint).bool(true);
    if (out.inline !== undefined) w.tag(5, WireType.LengthDelimited).bytes(Buffer.from(out.inline, "base64"));
    w.join();
  }
  const stdSize = (d: string | undefined, given: number | undefined) =>
    d === undefined ? undefined : (given ?? knownSize(d));
  const stdoutSize = stdSize(result.stdout, result.stdoutSize);
  const stderrSize = stdSize(result.stderr, result.stderrSize);
  if (result.stdout !== undefined && stdoutSize !== undefined)
    writeDigest(w, 6, { hash: result.stdout, size: stdoutSize });
  if (result.stderr !== undefined && stderrSize !== undefined)
    writeDigest(w, 8, { hash: result.stderr, size: stderrSize });

  const meta = new BinaryWriter();
  meta.tag(1, WireType.Varint).uint64(Math.max(0, Math.round(result.compileMs)));
  if (result.outputs.length > 0) {
    meta.tag(2, WireType.LengthDelimited).fork();
    for (const out of result.outputs) meta.uint32(out.mode);
    meta.join();
  }
  if (result.signature !== undefined) meta.tag(3, WireType.LengthDelimited).string(result.signature);
  if (result.stdout !== undefined && stdoutSize === undefined)
    meta.tag(4, WireType.LengthDelimited).string(result.stdout);
  if (result.stderr !== undefined && stderrSize === undefined)
    meta.tag(5, WireType.LengthDelimited).string(result.stderr);
  const inline = result.outputs.flatMap((o, i) => (o.inline === undefined ? [] : [i]));
  if (inline.length > 0) {
    meta.tag(6, WireType.LengthDelimited).fork();
    for (const i of inline) meta.uint32(i);
    meta.join();
  }

  w.tag(9, WireType.LengthDelimited).fork();
  w.tag(1, WireType.LengthDelimited).string("galley");
  w.tag(11, WireType.LengthDelimited).fork();
  w.tag(1, WireType.LengthDelimited).string(GALLEY_TYPE_URL);
  w.tag(2, WireType.LengthDelimited).bytes(meta.finish());
  w.join();
  w.join();
  return w.finish();
}

/** An empty, valid ActionResult, written over a damaged record where the server cannot delete one. */
export const WITHDRAWN = new Uint8Array(0);

interface Meta {
  compileMs: number;
  modes: number[];
  inline: number[];
  signature?: string;
  stdout?: string;
  stderr?: string;
}

export interface DecodedRecord {
  result: ActionResult;
  /** Outputs written inline whose contents the server did not send (it keeps them in its CAS). */
  inlineMissing: StoredOutput[];
  /** Every blob the record names, with its size (a REAPI CAS addresses blobs by hash and size). */
  sizes: Map<string, number>;
}

/**
 * galley's record from ActionResult bytes: undefined when the record carries no galley entry (a
 * foreign or withdrawn record); MalformedMessage for bytes that are not a valid record.
 */
export function decodeActionResult(bytes: Uint8Array): DecodedRecord | undefined {
  const files: Omit<StoredOutput, "mode">[] = [];
  let stdout: { hash: string; size: number } | undefined;
  let stderr: { hash: string; size: number } | undefined;
  let meta: Meta | undefined;
  const sizes = new Map<string, number>();
  readFields(bytes, "ActionResult", (no, type, r) => {
    if (no === 2) {
      expectType(type, WireType.LengthDelimited, "OutputFile");
      files.push(readOutputFile(r.bytes()));
    } else if (no === 6 || no === 8) {
      expectType(type, WireType.LengthDelimited, "ActionResult digest");
      const d = readDigest(r.bytes());
      sizes.set(d.hash, d.size);
      if (no === 6) stdout = d;
      else stderr = d;
    } else if (no === 9) {
      expectType(type, WireType.LengthDelimited, "ExecutedActionMetadata");
      meta = readExecutionMetadata(r.bytes()) ?? meta;
    } else return false;
    return true;
  });
  if (meta === undefined) return undefined;
  if (meta.modes.length !== files.length) throw new MalformedMessage("galley record: modes");
  const result: ActionResult = {
    outputs: files.map((f, i) => ({ ...f, mode: meta!.modes[i]! })),
    compileMs: meta.compileMs,
  };
  const out = stdout?.hash ?? meta.stdout;
  const err = stderr?.hash ?? meta.stderr;
  if (out !== undefined) result.stdout = out;
  if (err !== undefined) result.stderr = err;
  if (stdout) result.stdoutSize = stdout.size;
  if (stderr) result.stderrSize = stderr.size;
  if (meta.signature !== undefined) result.signature = meta.signature;
  if (!isActionResult(result) || [out, err].some((d) => d !== undefined && !isDigest(d)))
    throw new MalformedMessage("galley record");
  if (meta.inline.some((i) => i >= files.length)) throw new MalformedMessage("galley record: inline");
  const inlineMissing = meta.inline.map((i) => result.outputs[i]!).filter((o) => o.inline === undefined);
  for (const o of result.outputs) sizes.set(o.digest, o.size);
  return { result, inlineMissing, sizes };
}

function readOutputFile(bytes: Uint8Array): Omit<StoredOutput, "mode"> {
  let path = "";
  let digest = { hash: "", size: 0 };
  let inline: string | undefined;
  readFields(bytes, "OutputFile", (no, type, r) => {
    if (no === 1) {
      expectType(type, WireType.LengthDelimited, "OutputFile.path");
      path = r.string();
    } else if (no === 2) {
      expectType(type, WireType.LengthDelimited, "OutputFile.digest");
      digest = readDigest(r.bytes());
    } else if (no === 5) {
      expectType(type, WireType.LengthDelimited, "OutputFile.contents");
      inline = Buffer.from(r.bytes()).toString("base64");
    } else return false;
    return true;
  });
  const file: Omit<StoredOutput, "mode"> = { path, digest: digest.hash, size: digest.size };
  if (inline !== undefined) file.inline = inline;
  return file;
}

function readExecutionMetadata(bytes: Uint8Array): Meta | undefined {
  let meta: Meta | undefined;
  readFields(bytes, "ExecutedActionMetadata", (no, type, r) => {
    if (no !== 11) return false;
    expectType(type, WireType.LengthDelimited, "auxiliary_metadata");
    let url = "";
    let value: Uint8Array = new Uint8Array(0);
    readFields(r.bytes(), "Any", (n, t, a) => {
      if (n === 1 && t === WireType.LengthDelimited) url = a.string();
      else if (n === 2 && t === WireType.LengthDelimited) value = a.bytes();
      else return false;
      return true;
    });
    if (url === GALLEY_TYPE_URL) meta = readMeta(value);
    return true;
  });
  return meta;
}

function readMeta(bytes: Uint8Array): Meta {
  const meta: Meta = { compileMs: 0, modes: [], inline: [] };
  readFields(bytes, "galley record", (no, type, r) => {
    if (no === 1) {
      expectType(type, WireType.Varint, "compile_ms");
      meta.compileMs = Number(r.uint64());
    } else if (no === 2 && type === WireType.LengthDelimited) {
      readPacked(r.bytes(), meta.modes, "galley record: modes");
    } else if (no === 2 && type === WireType.Varint) {
      meta.modes.push(r.uint32());
    } else if (no === 6 && type === WireType.LengthDelimited) {
      readPacked(r.bytes(), meta.inline, "galley record: inline");
    } else if (no === 6 && type === WireType.Varint) {
      meta.inline.push(r.uint32());
    } else if (no === 3 || no === 4 || no === 5) {
      expectType(type, WireType.LengthDelimited, "galley record string");
      const s = r.string();
      if (no === 3) meta.signature = s;
      else if (no === 4) meta.stdout = s;
      else meta.stderr = s;
    } else return false;
    return true;
  });
  return meta;
}
