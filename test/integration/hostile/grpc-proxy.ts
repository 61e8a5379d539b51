/**
 * A REAPI proxy on 127.0.0.1: a gRPC server (grpc-js, raw bytes in and out) that forwards each
 * method galley calls to a real bazel-remote and rewrites the answers: garbage protobuf, records
 * with absurd sizes or 100,000 outputs, BatchReadBlobs data that is a zstd bomb or larger than
 * declared, a ByteStream Read that never ends or trickles, stalls. A plain TCP forwarder sits in
 * front of it, so that "reset" can cut the connections themselves mid-answer.
 *
 * GetCapabilities answers are always rewritten to a max batch of MAX_BATCH_BYTES, so that every
 * blob above it (the registry crates' rlibs, the binary) travels through ByteStream.
 */
import { createServer, connect as netConnect, type Socket } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { METHODS } from "../../../src/cache/store/reapi/protocol.ts";
import {
  type Connection,
  type FaultName,
  flipLast,
  GARBAGE,
  GIVE_UP_MS,
  type HostileProxy,
  HUGE_BYTES,
  hugeAllowed,
  isUnitRecord,
  KIB,
  LYING_BYTES,
  MIB,
  newSeen,
  note,
  pause,
  reset,
  Sockets,
  TRICKLE_BYTES,
  TRICKLE_EVERY_MS,
  tryUnpack,
  ZEROS,
  zstdBomb,
} from "./proxy.ts";
import {
  absurdProto,
  type BatchAnswer,
  batchAnswers,
  encodeBatchAnswers,
  readResource,
  readResponse,
  readResponseData,
  unknownFieldHeader,
  updateRequestDigests,
  updateRequestRecord,
  updateResponseAllOk,
  withMaxBatch,
  writeRequestData,
  writeResponse,
} from "./records.ts";

/** The faults this proxy injects. */
export const REAPI_FAULTS: readonly FaultName[] = [
  "bomb",
  "prefillBomb",
  "oversize",
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
];

/**
 * A huge record in one gRPC message: 8 times the largest record galley takes, and cheap enough to
 * make for every connection (grpc-js copies a message twice); a reader that takes it uses a record
 * it must refuse. (Huge blob answers stay HUGE_BYTES: those must show in a reader's memory.)
 */
const HUGE_RECORD_BYTES = 32 * MIB;

/** Huge batch answers made per build (grpc-js copies each twice, in this process). */
const GRPC_HUGE_PER_BUILD = 4;

/** The batch limit the proxy announces: larger blobs go through ByteStream. */
export const MAX_BATCH_BYTES = 256 * KIB;
const ZSTD = 1;
const CHUNK = 64 * KIB;

/** The methods galley calls, under the names its own client gives them. */
const PATHS = METHODS;
type MethodName = keyof typeof PATHS;

const raw = {
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};
const STREAMS: Record<MethodName, [boolean, boolean]> = {
  getCapabilities: [false, false],
  findMissingBlobs: [false, false],
  batchReadBlobs: [false, false],
  batchUpdateBlobs: [false, false],
  getActionResult: [false, false],
  updateActionResult: [false, false],
  read: [false, true],
  write: [true, false],
};
const DEFINITION: grpc.ServiceDefinition = Object.fromEntries(
  (Object.keys(PATHS) as MethodName[]).map((name) => [
    name,
    {
      path: PATHS[name],
      requestStream: STREAMS[name][0],
      responseStream: STREAMS[name][1],
      originalName: name,
      ...raw,
    },
  ]),
);

const buf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const status = (code: grpc.status, details: string): Partial<grpc.ServiceError> => ({ code, details });

export interface GrpcProxy extends HostileProxy {
  port: number;
}

/** A TCP forwarder whose connections can all be reset at once. */
async function tcpFront(port: number, sockets: Sockets): Promise<{ port: number; resetAll(): void }> {
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((client) => {
    const upstream = netConnect(port, "127.0.0.1");
    sockets.track(client);
    sockets.track(upstream);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", close);
    upstream.on("close", close);
  });
  sockets.stopped.then(() => server.close());
  const front = await new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
  );
  return {
    port: front,
    resetAll() {
      for (const [client, upstream] of pairs) {
        reset(client);
        upstream.destroy();
      }
      pairs.clear();
    },
  };
}

export async function startGrpcProxy(upstreamPort: number, instance = "hostile"): Promise<GrpcProxy> {
  const sockets = new Sockets();
  const upstream = new grpc.Client(`127.0.0.1:${upstreamPort}`, grpc.credentials.createInsecure(), {
    "grpc.max_receive_message_length": -1,
    "grpc.max_send_message_length": -1,
  });
  const server = new grpc.Server({
    "grpc.max_receive_message_length": -1,
    "grpc.max_send_message_length": -1,
  });
  const inner = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );
  const front = await tcpFront(inner, sockets);
  const proxy: GrpcProxy = {
    name: "reapi",
    supports: REAPI_FAULTS,
    port: front.port,
    mode: { writes: "forward" },
    injected: 0,
    seen: newSeen(),
    env: () => ({ GALLEY_STORE: `grpc://127.0.0.1:${front.port}/${instance}` }),
    shownAs: () => [`127.0.0.1:${front.port}`],
    stop: async () => {
      sockets.closeAll();
      server.forceShutdown();
      upstream.close();
    },
  };
  server.addService(DEFINITION, handlers(proxy, upstream, sockets, front.resetAll));
  return proxy;
}

const deadline = () => ({ deadline: new Date(Date.now() + GIVE_UP_MS) });

function metadataOf(call: { metadata: grpc.Metadata }): grpc.Metadata {
  const m = new grpc.Metadata();
  for (const v of call.metadata.get("authorization")) m.add("authorization", v);
  return m;
}

function unary(upstream: grpc.Client, path: string, req: Buffer, md: grpc.Metadata): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    upstream.makeUnaryRequest(path, buf, buf, req, md, deadline(), (err, res) =>
      err ? reject(err) : resolve(res ?? Buffer.alloc(0)),
    ),
  );
}

/** The blob's bytes from an answer (unpacked when zstd), and a function to pack like it again. */
function unpacked(
  data: Uint8Array,
  compressed: boolean,
): { bytes: Uint8Array; pack(b: Uint8Array): Uint8Array } {
  if (!compressed) return { bytes: data, pack: (b) => b };
  return { bytes: Bun.zstdDecompressSync(data), pack: (b) => Bun.zstdCompressSync(b) };
}

function handlers(
  proxy: GrpcProxy,
  upstream: grpc.Client,
  sockets: Sockets,
  resetAll: () => void,
): grpc.UntypedServiceImplementation {
  const stopped = sockets.stopped;
  /** Answers a unary call by forwarding it, its answer rewritten by `rewrite` (undefined: as it came). */
  const forward =
    (
      name: MethodName,
      rewrite?: (res: Buffer, req: Buffer) => Promise<Uint8Array | undefined> | Uint8Array | undefined,
    ) =>
    async (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      note(proxy.seen, name);
      let res: Buffer;
      try {
        res = await unary(upstream, PATHS[name], call.request, metadataOf(call));
      } catch (err) {
        callback(err as grpc.ServiceError);
        return;
      }
      try {
        const out = rewrite ? await rewrite(res, call.request) : undefined;
        callback(null, out ? buf(out) : res);
      } catch (err) {
        callback(status(grpc.status.INTERNAL, `hostile proxy: ${(err as Error).message}`));
      }
    };

  /** Per client connection (the TCP front's connection to this server, by its port). */
  const connections = new Map<string, Connection>();
  const connOf = (call: { getPeer(): string }) => {
    const peer = call.getPeer();
    const known = connections.get(peer);
    if (known) return known;
    const c = { huge: 0 };
    connections.set(peer, c);
    return c;
  };

  /** A write: forwarded, acknowledged and dropped, or never answered. */
  const writeUnary =
    (name: MethodName, sunk: (req: Buffer) => Uint8Array) =>
    async (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const writes = proxy.mode.writes;
      if (writes === "forward") return forward(name)(call, callback);
      note(proxy.seen, name);
      if (writes === "sink") return callback(null, buf(sunk(call.request)));
      if (proxy.mode.fault === "hangWrites") proxy.injected++;
      await pause(GIVE_UP_MS, stopped);
      callback(status(grpc.status.UNAVAILABLE, "hostile proxy: gave up hanging"));
    };

  /** Stalls a unary answer (a server that takes its time), then sends it if the client still waits. */
  const stall = async (res: Uint8Array) => {
    proxy.injected++;
    await pause(GIVE_UP_MS, stopped);
    return res;
  };

  return {
    getCapabilities: forward("getCapabilities", (res) => withMaxBatch(res, MAX_BATCH_BYTES)),
    findMissingBlobs: forward("findMissingBlobs"),
    getActionResult: async (
      call: grpc.ServerUnaryCall<Buffer, Buffer>,
      callback: grpc.sendUnaryData<Buffer>,
    ) => {
      const fault = proxy.mode.fault;
      if (fault === "hangWrites") {
        note(proxy.seen, "getActionResult");
        proxy.injected++;
        return callback(status(grpc.status.NOT_FOUND, "not found"));
      }
      return forward("getActionResult", (res) => {
        switch (fault) {
          case "garbageRecord":
            proxy.injected++;
            return GARBAGE;
          case "hugeRecord":
            if (!hugeAllowed(connOf(call))) return undefined;
            proxy.injected++;
            return Buffer.concat([
              res,
              unknownFieldHeader(HUGE_RECORD_BYTES),
              Buffer.alloc(HUGE_RECORD_BYTES),
            ]);
          case "absurdSize":
          case "absurdCount": {
            const out = absurdProto(res, fault === "absurdSize" ? "size" : "count");
            if (out) proxy.injected++;
            return out;
          }
          default:
            return undefined;
        }
      })(call, callback);
    },
    updateActionResult: writeUnary("updateActionResult", updateRequestRecord),
    batchUpdateBlobs: writeUnary("batchUpdateBlobs", (req) => updateResponseAllOk(updateRequestDigests(req))),
    batchReadBlobs: async (
      call: grpc.ServerUnaryCall<Buffer, Buffer>,
      callback: grpc.sendUnaryData<Buffer>,
    ) => {
      const fault = proxy.mode.fault;
      return forward("batchReadBlobs", async (res) => {
        const answers = batchAnswers(res);
        const found = answers?.filter((a) => a.status === undefined || isOk(a.status)) ?? [];
        if (!answers || found.length === 0) return undefined;
        const each = (f: (a: BatchAnswer) => void) => {
          proxy.injected++;
          for (const a of found) f(a);
          return encodeBatchAnswers(answers);
        };
        switch (fault) {
          case "bomb": {
            const bomb = await zstdBomb();
            return each((a) => {
              a.data = bomb;
              a.compressor = ZSTD;
            });
          }
          case "prefillBomb": {
            const bomb = await zstdBomb();
            const outputs = found.filter(
              (a) => !isUnitRecord(a.compressor === ZSTD ? tryUnpack(a.data) : a.data),
            );
            if (outputs.length === 0) return undefined;
            proxy.injected++;
            for (const a of outputs) {
              a.data = bomb;
              a.compressor = ZSTD;
            }
            return encodeBatchAnswers(answers);
          }
          case "oversize":
            // Each of these costs this process two copies of HUGE_BYTES: a few per build.
            if (proxy.injected >= GRPC_HUGE_PER_BUILD || !hugeAllowed(connOf(call))) return undefined;
            // One answer of HUGE_BYTES is enough to be far past what was declared.
            proxy.injected++;
            found[0]!.data = new Uint8Array(HUGE_BYTES);
            found[0]!.compressor = 0;
            return encodeBatchAnswers(answers);
          case "truncate":
            return each((a) => {
              const u = unpacked(a.data, a.compressor === ZSTD);
              a.data = u.pack(u.bytes.subarray(0, Math.floor(u.bytes.length / 2)));
            });
          case "wrongDigest":
            return each((a) => {
              const u = unpacked(a.data, a.compressor === ZSTD);
              a.data = u.pack(flipLast(u.bytes));
            });
          case "garbageBlobs":
            proxy.injected++;
            return GARBAGE;
          case "trickle":
            return await stall(res);
          case "reset":
            proxy.injected++;
            setTimeout(resetAll, 20);
            await pause(GIVE_UP_MS, stopped);
            return res;
          default:
            return undefined;
        }
      })(call, callback);
    },
    read: (call: grpc.ServerWritableStream<Buffer, Buffer>) =>
      read(call, connOf(call), proxy, upstream, stopped, resetAll),
    write: (call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
      write(call, callback, proxy, upstream, stopped),
  };
}

function isOk(statusBytes: Uint8Array): boolean {
  // google.rpc.Status { int32 code = 1 }: OK is code 0, which is not written.
  return statusBytes.length === 0 || !(statusBytes[0] === 0x08 && statusBytes[1] !== 0);
}

/** Writes a message, waiting while the stream's buffer is full; false once the client is gone. */
async function put(call: grpc.ServerWritableStream<Buffer, Buffer>, message: Uint8Array): Promise<boolean> {
  if (call.cancelled || call.destroyed) return false;
  if (call.write(buf(message))) return true;
  return await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), GIVE_UP_MS);
    call.once("drain", () => {
      clearTimeout(timer);
      resolve(!call.cancelled);
    });
    call.once("cancelled", () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

/** The whole upstream answer to a Read, as bytes (the fixture's blobs are a few MiB at most). */
function readAll(upstream: grpc.Client, req: Buffer, md: grpc.Metadata): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const parts: Uint8Array[] = [];
    const stream = upstream.makeServerStreamRequest(PATHS.read, buf, buf, req, md, deadline());
    stream.on("data", (m: Buffer) => parts.push(readResponseData(m)));
    stream.on("error", reject);
    stream.on("end", () => resolve(Buffer.concat(parts)));
  });
}

async function read(
  call: grpc.ServerWritableStream<Buffer, Buffer>,
  conn: Connection,
  proxy: GrpcProxy,
  upstream: grpc.Client,
  stopped: Promise<void>,
  resetAll: () => void,
): Promise<void> {
  note(proxy.seen, "read");
  const fault = proxy.mode.fault;
  const compressed = /(^|\/)compressed-blobs\/zstd\//.test(readResource(call.request));
  const md = metadataOf(call);
  let stop = false;
  stopped.then(() => (stop = true));
  const until = Date.now() + GIVE_UP_MS;
  const alive = () => !stop && !call.cancelled && Date.now() < until;
  const sendChunks = async (bytes: Uint8Array, size = CHUNK) => {
    for (let i = 0; i < bytes.length && alive(); i += size)
      if (!(await put(call, readResponse(bytes.subarray(i, i + size))))) return false;
    return alive();
  };
  const zeros = async (total: number) => {
    const message = readResponse(ZEROS);
    for (let sent = 0; sent < total && alive(); sent += ZEROS.length)
      if (!(await put(call, message))) return false;
    return alive();
  };
  const fail = (details: string): void => void call.emit("error", status(grpc.status.UNAVAILABLE, details));
  try {
    switch (fault) {
      case "bomb":
      case "prefillBomb":
        // ByteStream carries the big blobs only: outputs, never a unit record.
        proxy.injected++;
        if (compressed ? await sendChunks(await zstdBomb()) : await zeros(LYING_BYTES)) call.end();
        return;
      case "oversize":
        if (!hugeAllowed(conn)) break;
        proxy.injected++;
        if (await zeros(HUGE_BYTES)) call.end();
        return;
      case "endless":
        proxy.injected++;
        await zeros(LYING_BYTES);
        return fail("hostile proxy: gave up streaming");
      case "garbageBlobs":
        proxy.injected++;
        if (await put(call, GARBAGE)) call.end();
        return;
      case "truncate":
      case "reset":
      case "trickle":
      case "wrongDigest": {
        const data = await readAll(upstream, call.request, md);
        proxy.injected++;
        if (fault === "truncate") {
          const u = unpacked(data, compressed);
          if (await sendChunks(u.pack(u.bytes.subarray(0, Math.floor(u.bytes.length / 2))))) call.end();
        } else if (fault === "wrongDigest") {
          const u = unpacked(data, compressed);
          if (await sendChunks(u.pack(flipLast(u.bytes)))) call.end();
        } else if (fault === "reset") {
          await sendChunks(data.subarray(0, Math.floor(data.length / 2)));
          await pause(20, stopped);
          resetAll();
        } else {
          for (let i = 0; i < data.length && alive(); i += TRICKLE_BYTES) {
            if (!(await put(call, readResponse(data.subarray(i, i + TRICKLE_BYTES))))) return;
            await pause(TRICKLE_EVERY_MS, stopped);
          }
          if (alive()) call.end();
          else fail("hostile proxy: gave up trickling");
        }
        return;
      }
      default:
        break;
    }
  } catch (err) {
    // The server's own answer (NOT_FOUND) goes on as it came.
    if (typeof (err as grpc.ServiceError).code === "number") return void call.emit("error", err);
    return fail(`hostile proxy: ${(err as Error).message}`);
  }
  // As it came, message by message.
  const stream = upstream.makeServerStreamRequest(PATHS.read, buf, buf, call.request, md, deadline());
  call.on("cancelled", () => stream.cancel());
  stream.on("data", (m: Buffer) => {
    if (!call.write(m)) {
      stream.pause();
      call.once("drain", () => stream.resume());
    }
  });
  stream.on("error", (err: grpc.ServiceError) => call.emit("error", err));
  stream.on("end", () => call.end());
}

async function write(
  call: grpc.ServerReadableStream<Buffer, Buffer>,
  callback: grpc.sendUnaryData<Buffer>,
  proxy: GrpcProxy,
  upstream: grpc.Client,
  stopped: Promise<void>,
): Promise<void> {
  note(proxy.seen, "write");
  const writes = proxy.mode.writes;
  if (writes === "forward") {
    const out = upstream.makeClientStreamRequest(
      PATHS.write,
      buf,
      buf,
      metadataOf(call),
      deadline(),
      (err, res) => (err ? callback(err) : callback(null, res)),
    );
    call.on("data", (m: Buffer) => out.write(m));
    call.on("end", () => out.end());
    call.on("error", () => out.cancel());
    return;
  }
  let committed = 0;
  call.on("data", (m: Buffer) => {
    committed += writeRequestData(m).length;
  });
  if (writes === "hang") {
    if (proxy.mode.fault === "hangWrites") proxy.injected++;
    await pause(GIVE_UP_MS, stopped);
    return callback(status(grpc.status.UNAVAILABLE, "hostile proxy: gave up hanging"));
  }
  call.on("end", () => callback(null, buf(writeResponse(committed))));
}
