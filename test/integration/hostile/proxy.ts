/**
 * The hostile-server harness: a proxy per protocol (redis-proxy.ts, http-proxy.ts, grpc-proxy.ts)
 * sits on 127.0.0.1 in front of a real server the store tests already start, forwards what galley
 * sends, and rewrites the answers by the fault it is switched to. In pass-through mode it changes
 * nothing, so machine 1 fills the real store through it; machine 2 then builds with a fault on.
 *
 * Every answer the proxy makes up is bounded: a stalled, trickled or endless answer gives up after
 * GIVE_UP_MS or when the client goes away, and nothing is held in the proxy's memory beyond one
 * real answer of the server (a huge answer is streamed from one buffer of zeros).
 */
import type { Socket } from "node:net";
import { createZstdCompress } from "node:zlib";

/** The faults a proxy can inject; each proxy lists those its protocol has (`supports`). */
export const FAULT_NAMES = [
  "bomb",
  "prefillBomb",
  "oversize",
  "lyingLength",
  "endless",
  "truncate",
  "reset",
  "trickle",
  "wrongDigest",
  "garbageBlobs",
  "garbageRecord",
  "hugeRecord",
  "absurdSize",
  "absurdCount",
  "hangWrites",
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

/** What each fault does to an answer (the same words for every protocol). */
export const FAULTS: Record<FaultName, string> = {
  bomb: "blob reads answer a small zstd frame without a content size that unpacks to 4 GiB of zeros",
  prefillBomb:
    "blob reads of build outputs answer the zstd bomb, while the prefill index and its unit records come through whole, so the first probe restores through it",
  oversize: "blob reads answer 256 MiB, far more than the record or digest declares",
  lyingLength:
    "blob reads answer with a Content-Length of 8 GiB and stream zeros for as long as the client reads",
  endless: "blob reads answer a stream that never ends (chunked HTTP body, ByteStream Read)",
  truncate: "blob reads answer a well-formed value cut to half of the blob",
  reset: "blob reads answer half of the value, then the connection is reset",
  trickle: "blob reads answer 4 bytes every 250 ms",
  wrongDigest: "blob reads answer validly encoded bytes of another blob of the same size",
  garbageBlobs: "blob reads answer garbage protocol messages",
  garbageRecord: "record reads answer garbage bytes (neither protobuf nor JSON)",
  hugeRecord:
    "record reads answer the real record padded to 256 MiB, still valid JSON or protobuf (the first 3 reads)",
  absurdSize: "record reads answer the real record with every output claiming 1 TiB",
  absurdCount: "record reads answer the real record with 100,000 (well-formed) outputs instead of its own",
  hangWrites: "record lookups answer 'not found' at once; every write hangs",
};

/** How the proxy treats writes: forwarded (filling the store), acknowledged and dropped, or left hanging. */
export type Writes = "forward" | "sink" | "hang";

export interface Mode {
  fault?: FaultName;
  writes: Writes;
}

export interface HostileProxy {
  readonly name: string;
  readonly supports: readonly FaultName[];
  /** Where galley finds the store through the proxy. */
  env(): Record<string, string>;
  mode: Mode;
  /** Answers the current fault rewrote since the last reset. */
  injected: number;
  /** How galley's messages name this store (each warning about it names it). */
  shownAs(): string[];
  /** Requests seen by kind, for the tests that check the proxy saw traffic at all. */
  seen: Record<string, number>;
  stop(): Promise<void>;
}

export const KIB = 1024;
export const MIB = 1024 * KIB;
export const GIB = 1024 * MIB;

/** How much a bomb unpacks to. */
export const BOMB_BYTES = 4 * GIB;
/** An answer far larger than any blob of the fixture, and than a wrapper's memory budget. */
export const HUGE_BYTES = 256 * MIB;
/**
 * Answers of HUGE_BYTES are made for the first read of each connection (each galley process has
 * its own) that a fault meets, then reads pass: enough to take an unbounded reader over its
 * budget, and the proxy (in the tests' own process) stays quick.
 */
export const HUGE_ANSWERS = 1;

/** What a proxy keeps per client connection. */
export interface Connection {
  huge: number;
}

/** Whether one more huge answer may go out on this connection (and counts it). */
export function hugeAllowed(conn: Connection): boolean {
  if (conn.huge >= HUGE_ANSWERS) return false;
  conn.huge++;
  return true;
}
/** What a lying Content-Length claims, and how far an endless stream goes at most. */
export const LYING_BYTES = 8 * GIB;
/** The size every output of an absurd record claims. */
export const ABSURD_SIZE = 2 ** 40;
/** The outputs of an absurd record. */
export const ABSURD_COUNT = 100_000;
export const TRICKLE_BYTES = 4;
export const TRICKLE_EVERY_MS = 250;
/** No made-up answer lasts longer than this: a hang or a trickle then ends with a closed connection. */
export const GIVE_UP_MS = 60_000;

/** 64 KiB of zeros, the buffer every huge answer is streamed from. */
export const ZEROS = new Uint8Array(64 * KIB);

/**
 * Bytes that are neither a protobuf message (field 1 with wire type 7 does not exist) nor JSON,
 * nor a zstd frame.
 */
export const GARBAGE = new Uint8Array([
  0x0f, 0xff, 0xfe, 0x7b, 0x22, 0x6f, 0x75, 0x74, 0x70, 0x75, 0x74, 0x73, 0x22, 0x3a, 0x5b, 0x0f, 0x00, 0xff,
]);

let bomb: Promise<Uint8Array> | undefined;

/**
 * A zstd bomb: one frame, compressed from a stream (so its header carries no content size) of
 * BOMB_BYTES zeros, fed through a buffer of 1 MiB (never allocated whole). About 128 KiB.
 */
export function zstdBomb(): Promise<Uint8Array> {
  bomb ??= new Promise((resolve, reject) => {
    const z = createZstdCompress();
    const chunks: Buffer[] = [];
    const zero = Buffer.alloc(MIB);
    let fed = 0;
    z.on("data", (c: Buffer) => chunks.push(c));
    z.on("error", reject);
    z.on("end", () => resolve(new Uint8Array(Buffer.concat(chunks))));
    const pump = () => {
      while (fed < BOMB_BYTES) {
        fed += zero.length;
        if (!z.write(zero)) {
          z.once("drain", pump);
          return;
        }
      }
      z.end();
    };
    pump();
  });
  return bomb;
}

/** Whether a zstd frame header declares its content size (a bomb's must not). */
export function declaresContentSize(frame: Uint8Array): boolean {
  const fhd = frame[4]!;
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  return fcsFlag !== 0 || singleSegment === 1;
}

/**
 * Whether a blob is one of prefill's unit records (JSON naming a profile dir and fingerprints):
 * the prefillBomb fault lets those through so that the probe goes on to the outputs they name.
 */
export function isUnitRecord(bytes: Uint8Array | undefined): boolean {
  if (bytes?.[0] !== 0x7b) return false;
  const text = Buffer.from(bytes).toString("latin1");
  return text.includes('"profileDir"') && text.includes('"fingerprint"');
}

/** zstd-packed bytes unpacked, or undefined (only for real answers of the server, which are small). */
export function tryUnpack(packed: Uint8Array): Uint8Array | undefined {
  try {
    return Bun.zstdDecompressSync(packed);
  } catch {
    return undefined;
  }
}

/** The same bytes with the last one changed: same size, another digest. */
export function flipLast(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes);
  if (out.length > 0) out[out.length - 1] = out[out.length - 1]! ^ 0x5a;
  return out;
}

/** zstd-packed bytes of a blob replaced by the packing of another blob of the same size. */
export function otherPackedBlob(packed: Uint8Array): Uint8Array | undefined {
  try {
    return Bun.zstdCompressSync(flipLast(Bun.zstdDecompressSync(packed)));
  } catch {
    return undefined;
  }
}

export class Deferred<T> {
  resolve!: (value: T) => void;
  reject!: (err: unknown) => void;
  readonly promise = new Promise<T>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });
}

/** Resolves after `ms`, or at once when `stopped` settles (so no made-up wait outlives its proxy). */
export function pause(ms: number, stopped: Promise<void>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([new Promise<void>((r) => (timer = setTimeout(r, ms))), stopped]).finally(() =>
    clearTimeout(timer),
  );
}

/** A byte buffer that grows as data arrives and is consumed from the front (for the parsers). */
export class Incoming {
  private buf = new Uint8Array(64 * KIB);
  private start = 0;
  private end = 0;

  push(chunk: Uint8Array): void {
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start;
      const size = Math.max(this.buf.length, (live + chunk.length) * 2);
      const next = size > this.buf.length ? new Uint8Array(size) : this.buf;
      next.set(this.buf.subarray(this.start, this.end), 0);
      this.buf = next;
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** What has arrived and is not consumed (a view: copy what must outlive the next push). */
  view(): Uint8Array {
    return this.buf.subarray(this.start, this.end);
  }

  consume(n: number): void {
    this.start += n;
    if (this.start === this.end) this.start = this.end = 0;
  }
}

/** Index of CRLF in `b` at or after `from`, or -1. */
export function crlf(b: Uint8Array, from: number): number {
  for (let i = from; i + 1 < b.length; i++) if (b[i] === 13 && b[i + 1] === 10) return i;
  return -1;
}

export const ascii = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");
export const bytesOf = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));

/** Writes to a socket, waiting while its buffer is full; false when the socket closed first. */
export async function send(sock: Socket, bytes: Uint8Array): Promise<boolean> {
  if (sock.destroyed || !sock.writable) return false;
  if (sock.write(bytes)) return true;
  return await new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => {
      sock.off("drain", onDrain);
      sock.off("close", onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    sock.on("drain", onDrain);
    sock.on("close", onClose);
  });
}

/** 64 KiB of spaces: JSON whitespace, to pad a record that stays valid. */
export const SPACES = new Uint8Array(64 * KIB).fill(0x20);

/** Sends `total` bytes repeated from `chunk` (zeros by default), until the socket closes or GIVE_UP_MS. */
export async function sendFill(
  sock: Socket,
  total: number,
  stopped: Promise<void>,
  chunk: Uint8Array = ZEROS,
): Promise<boolean> {
  const end = Date.now() + GIVE_UP_MS;
  let stop = false;
  stopped.then(() => (stop = true));
  for (let sent = 0; sent < total; ) {
    if (stop || Date.now() > end) return false;
    const n = Math.min(chunk.length, total - sent);
    if (!(await send(sock, chunk.subarray(0, n)))) return false;
    sent += n;
  }
  return true;
}

/** Sends bytes TRICKLE_BYTES at a time every TRICKLE_EVERY_MS, within GIVE_UP_MS. */
export async function trickle(sock: Socket, bytes: Uint8Array, stopped: Promise<void>): Promise<boolean> {
  const end = Date.now() + GIVE_UP_MS;
  for (let i = 0; i < bytes.length; i += TRICKLE_BYTES) {
    if (Date.now() > end || sock.destroyed) return false;
    if (!(await send(sock, bytes.subarray(i, i + TRICKLE_BYTES)))) return false;
    await pause(TRICKLE_EVERY_MS, stopped);
  }
  return true;
}

/** Resets a connection (RST where the runtime can), as a server that died mid-answer. */
export function reset(sock: Socket): void {
  try {
    sock.resetAndDestroy();
  } catch {
    sock.destroy();
  }
}

/** The sockets of a listening proxy, destroyed when it stops. */
export class Sockets {
  private readonly open = new Set<Socket>();
  private readonly stop = new Deferred<void>();
  /** Settles when the proxy stops: every made-up wait races it. */
  readonly stopped = this.stop.promise;

  track(sock: Socket): void {
    this.open.add(sock);
    sock.on("close", () => this.open.delete(sock));
    sock.on("error", () => {});
    // Nothing this proxy serves is idle for long: a forgotten connection closes by itself.
    sock.setTimeout(GIVE_UP_MS * 2, () => sock.destroy());
  }

  closeAll(): void {
    this.stop.resolve();
    for (const s of this.open) s.destroy();
    this.open.clear();
  }
}

export function newSeen(): Record<string, number> {
  return {};
}

export function note(seen: Record<string, number>, what: string): void {
  seen[what] = (seen[what] ?? 0) + 1;
}
