/**
 * Protocol-buffer wire helpers for the few Remote Execution API messages galley speaks. The
 * message layouts are written from the specification (build.bazel.remote.execution.v2, google
 * bytestream and rpc): field numbers are the protocol, so they are spelled out where used.
 */
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

export { BinaryReader, BinaryWriter, WireType };

/** Raised for bytes that are not the message they claim to be. */
export class MalformedMessage extends Error {
  constructor(what: string) {
    super(`malformed ${what}`);
    this.name = "MalformedMessage";
  }
}

/** Calls `field` for each field of a message; fields it does not take (returns false) are skipped. */
export function readFields(
  bytes: Uint8Array,
  what: string,
  field: (no: number, type: WireType, reader: BinaryReader) => boolean,
): void {
  const reader = new BinaryReader(bytes);
  try {
    while (reader.pos < reader.len) {
      const [no, type] = reader.tag();
      if (!field(no, type, reader)) reader.skip(type, no);
    }
  } catch (e) {
    if (e instanceof MalformedMessage) throw e;
    throw new MalformedMessage(what);
  }
}

/** A packed repeated varint field (uint32 or enum): varints one after another, without tags. */
export function readPacked(bytes: Uint8Array, into: number[], what: string): void {
  const r = new BinaryReader(bytes);
  try {
    while (r.pos < r.len) into.push(r.uint32());
  } catch {
    throw new MalformedMessage(what);
  }
}

/** Checks that a field has the wire type its declaration gives it. */
export function expectType(type: WireType, want: WireType, what: string): void {
  if (type !== want) throw new MalformedMessage(what);
}

export interface Digest {
  hash: string;
  size: number;
}

/** `Digest { string hash = 1; int64 size_bytes = 2; }` */
export function writeDigest(w: BinaryWriter, fieldNo: number, d: Digest): void {
  w.tag(fieldNo, WireType.LengthDelimited).fork();
  w.tag(1, WireType.LengthDelimited).string(d.hash);
  if (d.size > 0) w.tag(2, WireType.Varint).int64(d.size);
  w.join();
}

export function readDigest(bytes: Uint8Array): Digest {
  const d: Digest = { hash: "", size: 0 };
  readFields(bytes, "Digest", (no, type, r) => {
    if (no === 1) {
      expectType(type, WireType.LengthDelimited, "Digest.hash");
      d.hash = r.string();
    } else if (no === 2) {
      expectType(type, WireType.Varint, "Digest.size_bytes");
      d.size = Number(r.int64());
    } else return false;
    return true;
  });
  if (!Number.isSafeInteger(d.size) || d.size < 0) throw new MalformedMessage("Digest.size_bytes");
  return d;
}

/** `google.rpc.Status { int32 code = 1; string message = 2; }` */
export interface RpcStatus {
  code: number;
  message: string;
}

export function readStatus(bytes: Uint8Array): RpcStatus {
  const s: RpcStatus = { code: 0, message: "" };
  readFields(bytes, "Status", (no, type, r) => {
    if (no === 1 && type === WireType.Varint) s.code = r.int32();
    else if (no === 2 && type === WireType.LengthDelimited) s.message = r.string();
    else return false;
    return true;
  });
  return s;
}
