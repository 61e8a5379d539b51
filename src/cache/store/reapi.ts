/**
 * A Remote Execution API cache over gRPC (bazel-remote, BuildGrid, Buildbarn, BuildBuddy,
 * NativeLink, EngFlow): records through ActionCache Get/UpdateActionResult as REAPI ActionResults,
 * small blobs in BatchReadBlobs/BatchUpdateBlobs requests within the server's max batch size, large
 * ones through ByteStream Read/Write. GetCapabilities is asked once at open: the server must hash
 * with SHA-256. URL: grpc://host:port/instance (grpcs:// for TLS); basic auth from the user-info,
 * or a bearer token. This file loads the gRPC library, so it is imported only when such a store is
 * configured.
 *
 * A REAPI CAS addresses a blob by hash and size; galley asks for blobs named by a record it read (or
 * stored) in the same process, which gives the size. A blob of unknown size reads as missing.
 */
import { randomUUID } from "node:crypto";
import { isIP } from "node:net";
import { checkServerIdentity } from "node:tls";
import * as grpc from "@grpc/grpc-js";
import type { StoreConfig } from "../engine/store-config.ts";
import { LeftToQueue, uploadsLeftToQueue } from "./abandon.ts";
import { packBlob, packFileChunks } from "./blob-codec.ts";
import { type BlobSink, UnpackingSink } from "./blob-sink.ts";
import { batchesBySize, packedLimit, transferMs, unpackBounded } from "./bounded.ts";
import { MAX_RECORD_BYTES } from "./limits.ts";
import {
  type DecodedRecord,
  decodeActionResult,
  encodeActionResult,
  WITHDRAWN,
} from "./reapi/action-result.ts";
import {
  batchReadRequest,
  batchUpdateRequest,
  type CacheCapabilities,
  capabilitiesRequest,
  findMissingRequest,
  getActionRequest,
  METHODS,
  readBatchAnswers,
  readCapabilities,
  readFindMissing,
  readReadResponse,
  readRequest,
  readWriteResponse,
  supportsSha256,
  updateActionRequest,
  writeRequest,
  ZSTD,
} from "./reapi/protocol.ts";
import { MalformedMessage } from "./reapi/wire.ts";
import {
  authHeader,
  type Credentials,
  caCertOption,
  DamagedEntries,
  DEFAULT_TIMEOUT_MS,
  displayUrl,
  StoreUnavailable,
  verifiedBlob,
} from "./remote.ts";
import {
  type ActionResult,
  type BlobSizes,
  CorruptEntry,
  getBlobs,
  MANIFEST_OUTPUT,
  type Store,
} from "./store.ts";

export interface ReapiStoreOptions extends Credentials {
  /** grpc://host:port[/instance] or grpcs://…; user-info gives basic auth (`:token@` bearer). */
  url: string;
  /** The instance name, instead of the URL's path. */
  instance?: string;
  /** How long connecting may take (the first call waits for it). */
  connectTimeoutMs?: number;
  /** How long one call may take. */
  timeoutMs?: number;
  /** PEM of a CA to trust for grpcs:// instead of the system's (a server with its own certificate). */
  caCert?: string;
  /** Lower the batch limit below the server's (tests use it to send blobs through ByteStream). */
  maxBatchBytes?: number;
}

/** gRPC's default largest message; the batch limit when the server names none. */
const GRPC_MAX_MESSAGE = 4 * 1024 * 1024;
/**
 * The largest message galley takes from a server: a batch answer within the limit it asked for, a
 * record, a ByteStream chunk. gRPC refuses a longer one from its length prefix, before reading it.
 */
const MAX_RECEIVED_MESSAGE = Math.max(GRPC_MAX_MESSAGE, MAX_RECORD_BYTES) + 64 * 1024;
/** Room for each blob's digest and framing inside a batch message. */
const PER_BLOB_OVERHEAD = 100;
const WRITE_CHUNK = 64 * 1024;

const bytesOut = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const bytesIn = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

const NOT_FOUND = grpc.status.NOT_FOUND;

export class ReapiStore implements Store {
  readonly name: string;
  /** Calls made, by method (docs/remote-stores.md counts a hit and a miss with these). */
  readonly calls: Record<string, number> = {};
  private readonly damaged = new DamagedEntries();
  private readonly sizes = new Map<string, number>();

  private maxBatch = GRPC_MAX_MESSAGE;
  /** What the server said of itself at open. */
  capabilities: CacheCapabilities = {
    digestFunctions: [],
    updateEnabled: true,
    maxBatchTotalSizeBytes: 0,
    compressors: [],
    batchUpdateCompressors: [],
  };
  /** Blob bytes on the wire (compressed where the server takes zstd), sent and received. */
  readonly wire = { sent: 0, received: 0 };

  private readonly client: grpc.Client;
  private readonly instance: string;
  private readonly metadata = new grpc.Metadata();
  private readonly timeoutMs: number;
  private connected: Promise<void> | undefined;
  private checked: Promise<void> | undefined;

  /** Nothing is sent until the first request, which connects and checks the server's capabilities. */
  constructor(private readonly options: ReapiStoreOptions) {
    const url = new URL(options.url);
    if (url.protocol !== "grpc:" && url.protocol !== "grpcs:")
      throw new Error(`store URL ${displayUrl(url)}: expected grpc:// or grpcs://`);
    this.name = `reapi ${displayUrl(url)}`;
    const tls = url.protocol === "grpcs:";
    const port = url.port || (tls ? "443" : "80");
    const host = url.hostname.replace(/^\[|\]$/g, "");
    // An IP address may not be sent as the TLS server name: send none that matters and check the
    // certificate against the address itself.
    const ipHost = isIP(host) !== 0;
    const creds = tls
      ? grpc.credentials.createSsl(
          options.caCert ? Buffer.from(options.caCert) : null,
          null,
          null,
          ipHost ? { checkServerIdentity: (_name, cert) => checkServerIdentity(host, cert) } : {},
        )
      : grpc.credentials.createInsecure();
    this.client = new grpc.Client(`${url.hostname}:${port}`, creds, {
      "grpc.max_receive_message_length": MAX_RECEIVED_MESSAGE,
      "grpc.max_send_message_length": -1,
      "grpc.initial_reconnect_backoff_ms": 100,
      ...(tls && ipHost ? { "grpc.ssl_target_name_override": "localhost" } : {}),
    });
    const auth = authHeader(url, options);
    if (auth) this.metadata.set("authorization", auth);
    this.instance = options.instance ?? decodeURIComponent(url.pathname.replace(/^\/+|\/+$/g, ""));
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Connects and checks the server's capabilities now (the tests and `galley cache ping`). */
  static async open(options: ReapiStoreOptions): Promise<ReapiStore> {
    const store = new ReapiStore(options);
    try {
      await store.start();
    } catch (e) {
      store.close();
      throw e;
    }
    return store;
  }

  /**
   * The connection, with the capabilities call sent on it at once. A record lookup waits only for
   * the connection (the check travels beside it, so a hit costs no extra round trip); blob calls
   * wait for the check, which gives the batch limit.
   */
  private start(needCapabilities = true): Promise<void> {
    this.connected ??= this.connect();
    this.checked ??= this.connected.then(() => this.check());
    if (needCapabilities) return this.checked;
    this.checked.catch(() => {});
    return this.connected;
  }

  private async connect(): Promise<void> {
    const connectMs = this.options.connectTimeoutMs ?? this.timeoutMs;
    await new Promise<void>((resolve, reject) =>
      this.client.waitForReady(new Date(Date.now() + connectMs), (err) =>
        err ? reject(new StoreUnavailable(this.name, `no connection within ${connectMs} ms`)) : resolve(),
      ),
    );
  }

  private async check(): Promise<void> {
    const caps = readCapabilities(
      await this.call(METHODS.getCapabilities, capabilitiesRequest(this.instance)),
    );
    if (!caps) throw new StoreUnavailable(this.name, "the server offers no cache (no cache_capabilities)");
    if (!supportsSha256(caps)) throw new StoreUnavailable(this.name, "the server does not hash with SHA-256");
    this.capabilities = caps;
    const server = caps.maxBatchTotalSizeBytes || GRPC_MAX_MESSAGE;
    this.maxBatch = Math.min(
      server,
      GRPC_MAX_MESSAGE,
      this.options.maxBatchBytes ?? Number.POSITIVE_INFINITY,
    );
  }

  close(): void {
    this.client.close();
  }

  async getAction(key: string): Promise<ActionResult | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = await this.unary(
        METHODS.getActionResult,
        getActionRequest(this.instance, key, [MANIFEST_OUTPUT]),
        false,
      );
    } catch (e) {
      if (isCode(e, NOT_FOUND)) return undefined;
      // A record past the message limit is as damaged as one the server says it lost.
      if (!isCode(e, grpc.status.DATA_LOSS) && !isCode(e, grpc.status.RESOURCE_EXHAUSTED)) throw e;
      await this.withdraw(key);
      throw new CorruptEntry(`action ${key}`);
    }
    let decoded: DecodedRecord | undefined;
    try {
      decoded = decodeActionResult(bytes);
    } catch (e) {
      if (!(e instanceof MalformedMessage)) throw e;
      await this.withdraw(key);
      throw new CorruptEntry(`action ${key}`);
    }
    if (!decoded) return undefined;
    for (const [digest, size] of decoded.sizes) this.sizes.set(digest, size);
    // A server that keeps inline contents in its CAS and did not send them: one batch read.
    if (decoded.inlineMissing.length > 0) {
      const bytes = await getBlobs(
        this,
        decoded.inlineMissing.map((o) => o.digest),
      );
      for (const out of decoded.inlineMissing) {
        const b = bytes.get(out.digest);
        if (!b) return undefined;
        out.inline = Buffer.from(b).toString("base64");
      }
    }
    return decoded.result;
  }

  async putAction(key: string, result: ActionResult): Promise<void> {
    const record = encodeActionResult(result, (d) => this.sizes.get(d));
    await this.unary(METHODS.updateActionResult, updateActionRequest(this.instance, key, record));
  }

  async getBlob(digest: string): Promise<Uint8Array | undefined> {
    return (await this.getBlobs([digest])).get(digest);
  }

  async putBlob(digest: string, bytes: Uint8Array): Promise<void> {
    await this.upload([[digest, bytes]]);
  }

  async hasBlob(digest: string): Promise<boolean> {
    const size = this.sizes.get(digest);
    if (size === undefined || this.damaged.has(digest)) return false;
    const missing = readFindMissing(
      await this.unary(METHODS.findMissingBlobs, findMissingRequest(this.instance, [{ hash: digest, size }])),
    );
    return !missing.includes(digest);
  }

  /** Small blobs in batches within the server's limit, large ones by ByteStream, all at once. */
  async getBlobs(digests: string[], sizes?: BlobSizes): Promise<Map<string, Uint8Array>> {
    const found = new Map<string, Uint8Array>();
    // The sizes the caller's record declares: the server is asked for exactly those blobs.
    for (const [digest, size] of sizes ?? []) this.sizes.set(digest, size);
    const known = digests.filter((d) => this.sizes.has(d) && !this.damaged.has(d));
    if (known.length === 0) return found;
    await this.start(); // the batch limit
    const large = known.filter((d) => this.sizes.get(d)! + PER_BLOB_OVERHEAD > this.maxBatch);
    const batches = this.batches(known.filter((d) => !large.includes(d)));
    const keep = (digest: string, data: Uint8Array) =>
      found.set(digest, verifiedBlob(digest, data, this.damaged));
    await Promise.all([
      ...batches.map(async (batch) => {
        const req = batchReadRequest(
          this.instance,
          batch.map((hash) => ({ hash, size: this.sizes.get(hash)! })),
          this.zstd() ? [ZSTD] : [],
        );
        let answers: ReturnType<typeof readBatchAnswers>;
        try {
          answers = readBatchAnswers(await this.unary(METHODS.batchReadBlobs, req));
        } catch (e) {
          // An answer past the message limit, or one that is not a batch answer: these blobs are damaged.
          if (!(e instanceof MalformedMessage) && !isCode(e, grpc.status.RESOURCE_EXHAUSTED)) throw e;
          for (const d of batch) this.damaged.add(d);
          throw new CorruptEntry(`BatchReadBlobs answer from ${this.name}`);
        }
        for (const a of answers) {
          if (a.status.code === NOT_FOUND) continue;
          if (a.status.code !== 0)
            throw new StoreUnavailable(
              this.name,
              `BatchReadBlobs: ${a.status.message || `code ${a.status.code}`}`,
            );
          this.wire.received += a.data.length;
          if (batch.includes(a.hash))
            keep(a.hash, this.unpack(a.hash, a.data, a.compressor === ZSTD, this.sizes.get(a.hash)!));
        }
      }),
      ...large.map(async (digest) => {
        const data = await this.readStream(digest, this.sizes.get(digest)!);
        if (data) keep(digest, data);
      }),
    ]);
    return found;
  }

  /** Asks which blobs the server lacks (one call), then sends those: batched, or streamed when large. */
  async putBlobs(blobs: Map<string, Uint8Array>): Promise<void> {
    for (const [d, b] of blobs) this.sizes.set(d, b.length);
    const digests = [...blobs.keys()].map((hash) => ({ hash, size: blobs.get(hash)!.length }));
    const missing = new Set(
      readFindMissing(await this.unary(METHODS.findMissingBlobs, findMissingRequest(this.instance, digests))),
    );
    // A blob this process found damaged is sent again even when the server says it has it.
    await this.upload([...blobs].filter(([d]) => missing.has(d) || this.damaged.has(d)));
  }

  private async upload(blobs: [string, Uint8Array][]): Promise<void> {
    for (const [d, b] of blobs) this.sizes.set(d, b.length);
    if (blobs.length === 0) return;
    await this.start(); // the batch limit
    const large = blobs.filter(([, b]) => b.length + PER_BLOB_OVERHEAD > this.maxBatch);
    const small = new Map(blobs.filter(([, b]) => b.length + PER_BLOB_OVERHEAD <= this.maxBatch));
    await Promise.all([
      ...this.batches([...small.keys()]).map(async (batch) => {
        const zstd = this.capabilities.batchUpdateCompressors.includes(ZSTD);
        const req = batchUpdateRequest(
          this.instance,
          batch.map((hash) => {
            const bytes = small.get(hash)!;
            const data = zstd ? packBlob(bytes) : bytes;
            this.wire.sent += data.length;
            return { hash, size: bytes.length, data, compressor: zstd ? ZSTD : 0 };
          }),
        );
        for (const a of readBatchAnswers(await this.unary(METHODS.batchUpdateBlobs, req)))
          if (a.status.code !== 0)
            throw new StoreUnavailable(
              this.name,
              `BatchUpdateBlobs: ${a.status.message || `code ${a.status.code}`}`,
            );
      }),
      ...large.map(([d, b]) => this.writeStream(d, b)),
    ]);
    for (const [d] of blobs) this.damaged.delete(d);
  }

  /** Groups digests so that each group's blobs fit in one batch message. */
  private batches(digests: string[]): string[][] {
    return batchesBySize(digests, (d) => this.sizes.get(d)! + PER_BLOB_OVERHEAD, this.maxBatch);
  }

  /** Whether blobs travel zstd-compressed (the server lists ZSTD among its compressors). */
  private zstd(): boolean {
    return this.capabilities.compressors.includes(ZSTD);
  }

  /**
   * The blob's bytes from what the server sent, no more than its digest's size: compressed data is
   * unpacked only that far; anything else is a damaged blob.
   */
  private unpack(digest: string, data: Uint8Array, compressed: boolean, size: number): Uint8Array {
    const bytes = compressed ? unpackBounded(data, size) : data.length === size ? data : undefined;
    if (bytes) return bytes;
    this.damaged.add(digest);
    throw new CorruptEntry(`blob ${digest} from ${this.name}`);
  }

  /** ByteStream names: {instance}/[uploads/{uuid}/](blobs|compressed-blobs/zstd)/{hash}/{size} */
  private resource(digest: string, size: number, upload?: string): string {
    const blob = this.zstd() ? `compressed-blobs/zstd/${digest}/${size}` : `blobs/${digest}/${size}`;
    const tail = upload ? `uploads/${upload}/${blob}` : blob;
    return this.instance ? `${this.instance}/${tail}` : tail;
  }

  /** A blob read by ByteStream into memory, no more bytes than its size allows. */
  private async readStream(digest: string, size: number): Promise<Uint8Array | undefined> {
    const chunks: Uint8Array[] = [];
    const found = await this.streamRead(digest, size, async (chunk) => {
      chunks.push(chunk);
    });
    if (found === undefined) return undefined;
    return this.unpack(digest, Buffer.concat(chunks), this.zstd(), size);
  }

  /** A big blob by ByteStream, unpacked to `sink` as it comes. */
  async readBlobTo(digest: string, size: number, sink: BlobSink): Promise<boolean> {
    if (this.damaged.has(digest)) return false;
    this.sizes.set(digest, size);
    if (!this.zstd()) {
      const received = await this.streamRead(digest, size, (chunk) => sink.write(chunk));
      if (received === undefined) return false;
      if (received !== size) {
        this.damaged.add(digest);
        throw new CorruptEntry(`blob ${digest} from ${this.name} (${received} of ${size} bytes)`);
      }
      return true;
    }
    const unpacking = new UnpackingSink(sink, size, `blob ${digest} from ${this.name}`);
    if ((await this.streamRead(digest, size, (chunk) => unpacking.write(chunk))) === undefined) return false;
    await unpacking.end();
    return true;
  }

  /**
   * ByteStream.Read of a blob, each chunk to `each` in order (the stream paused while it works), the
   * call cancelled as soon as more arrives than a blob of `size` can take on the wire. Returns the
   * bytes received, or undefined when the server has no such blob.
   */
  private async streamRead(
    digest: string,
    size: number,
    each: (chunk: Uint8Array) => Promise<void>,
  ): Promise<number | undefined> {
    await this.start();
    this.count(METHODS.read);
    const limit = this.zstd() ? packedLimit(size) : size;
    const call = this.client.makeServerStreamRequest(
      METHODS.read,
      bytesOut,
      bytesIn,
      readRequest(this.resource(digest, size)),
      this.metadata,
      { deadline: this.deadline(size) },
    );
    let received = 0;
    let failure: Error | undefined;
    let work = Promise.resolve();
    try {
      await new Promise<void>((resolve, reject) => {
        call.on("data", (msg: Uint8Array) => {
          if (failure) return;
          let chunk: Uint8Array;
          try {
            chunk = readReadResponse(msg);
          } catch {
            failure = new CorruptEntry(`blob ${digest} from ${this.name} (malformed ByteStream answer)`);
            call.cancel();
            return;
          }
          received += chunk.length;
          if (received > limit) {
            failure = new CorruptEntry(`blob ${digest} from ${this.name} (more than ${limit} bytes)`);
            call.cancel();
            return;
          }
          call.pause();
          work = work
            .then(() => each(chunk))
            .then(
              () => {
                call.resume();
              },
              (e: Error) => {
                failure = e;
                call.cancel();
              },
            );
        });
        call.on("error", (e: Error) => (failure ? resolve() : reject(e)));
        call.on("end", resolve);
      });
      await work;
    } catch (e) {
      if (isCode(e, NOT_FOUND)) return undefined;
      if (isCode(e, grpc.status.RESOURCE_EXHAUSTED))
        failure = new CorruptEntry(`blob ${digest} from ${this.name}`);
      else throw this.unavailable(e, "ByteStream.Read");
    }
    if (failure) {
      if (failure instanceof CorruptEntry) this.damaged.add(digest);
      throw failure;
    }
    this.wire.received += received;
    return received;
  }

  private async writeStream(digest: string, blob: Uint8Array): Promise<void> {
    const zstd = this.zstd();
    await this.streamWrite(digest, blob.length, async (send) => send(zstd ? packBlob(blob) : blob));
  }

  /** A big blob by ByteStream from its file: packed (or read) a chunk at a time, never whole. */
  async writeBlobFrom(digest: string, size: number, file: string): Promise<void> {
    await this.start();
    this.sizes.set(digest, size);
    await this.streamWrite(digest, size, async (send) => {
      if (this.zstd()) return await packFileChunks(file, send);
      const stream = Bun.file(file).stream();
      for await (const chunk of stream) {
        if (uploadsLeftToQueue()) throw new LeftToQueue();
        await send(chunk);
      }
    });
    this.damaged.delete(digest);
  }

  /**
   * ByteStream.Write of a blob of `size` bytes whose wire bytes `produce` hands over in order; each
   * goes out in WRITE_CHUNK messages, waiting whenever the stream asks to (its buffer is full).
   */
  private async streamWrite(
    digest: string,
    size: number,
    produce: (send: (bytes: Uint8Array) => Promise<void>) => Promise<void>,
  ): Promise<void> {
    await this.start();
    this.count(METHODS.write);
    const resource = this.resource(digest, size, randomUUID());
    let offset = 0;
    let call: grpc.ClientWritableStream<Uint8Array> | undefined;
    const done = new Promise<void>((resolve, reject) => {
      call = this.client.makeClientStreamRequest(
        METHODS.write,
        bytesOut,
        bytesIn,
        this.metadata,
        { deadline: this.deadline(size) },
        (err, res) => {
          const committed = res ? readWriteResponse(res) : 0;
          if (err) reject(this.unavailable(err, "ByteStream.Write"));
          // Compressed uploads may report the compressed size, the blob's, or -1 (already there).
          else if (committed !== offset && committed !== size && committed !== -1)
            reject(
              new StoreUnavailable(this.name, `ByteStream.Write committed ${committed} of ${offset} bytes`),
            );
          else resolve();
        },
      );
    });
    done.catch(() => {});
    // The last message carries finish_write: each slice is sent once the next one is known.
    let held: Uint8Array | undefined;
    // A call that ended early (refused, timed out) takes no more: its error comes from `done`.
    let finished = false;
    const settled = done.then(
      () => {
        finished = true;
      },
      () => {
        finished = true;
      },
    );
    const put = async (slice: Uint8Array, last: boolean) => {
      if (finished) return;
      const req = writeRequest(offset === 0 ? resource : undefined, offset, slice, last);
      offset += slice.length;
      if (!call!.write(req)) await Promise.race([new Promise((r) => call!.once("drain", r)), settled]);
    };
    // Once the call has ended, the rest of the blob is not even read.
    const stop = new Error("ByteStream.Write ended");
    await produce(async (bytes) => {
      if (finished) throw stop;
      for (let at = 0; at < bytes.length; at += WRITE_CHUNK) {
        if (held) await put(held, false);
        held = bytes.subarray(at, at + WRITE_CHUNK);
      }
    }).catch((err: unknown) => {
      if (err === stop) return;
      // Stopped here (a read failed, or the upload was left to the queue): the call goes too.
      call!.cancel();
      throw err;
    });
    await put(held ?? new Uint8Array(0), true);
    this.wire.sent += offset;
    call!.end();
    await done;
  }

  /** A damaged record is overwritten with an empty ActionResult (REAPI has no delete). */
  private async withdraw(key: string): Promise<void> {
    try {
      await this.unary(METHODS.updateActionResult, updateActionRequest(this.instance, key, WITHDRAWN));
    } catch {
      // It stays damaged on the server; every reader rejects it the same way.
    }
  }

  /** A call's deadline: the time-out, and more for a transfer of `bytes`. */
  private deadline(bytes = 0): Date {
    return new Date(Date.now() + this.timeoutMs + transferMs(bytes));
  }

  private count(method: string): void {
    const name = method.slice(method.lastIndexOf("/") + 1);
    this.calls[name] = (this.calls[name] ?? 0) + 1;
  }

  private unavailable(e: unknown, what: string): Error {
    const err = e as grpc.ServiceError;
    if (typeof err?.code !== "number") return e as Error;
    const why =
      err.code === grpc.status.DEADLINE_EXCEEDED
        ? `no answer within ${this.timeoutMs} ms`
        : err.code === grpc.status.UNAUTHENTICATED || err.code === grpc.status.PERMISSION_DENIED
          ? `credentials refused (${err.details || grpc.status[err.code]})`
          : err.details || grpc.status[err.code];
    const out = new StoreUnavailable(this.name, `${what}: ${why}`);
    (out as Error & { code?: number }).code = err.code;
    return out;
  }

  private async unary(method: string, request: Uint8Array, needCapabilities = true): Promise<Uint8Array> {
    await this.start(needCapabilities);
    return await this.call(method, request);
  }

  private async call(method: string, request: Uint8Array): Promise<Uint8Array> {
    this.count(method);
    return await new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        method,
        bytesOut,
        bytesIn,
        request,
        this.metadata,
        { deadline: this.deadline() },
        (err, res) => {
          if (err) reject(this.unavailable(err, method.slice(method.lastIndexOf("/") + 1)));
          else resolve(res ?? new Uint8Array(0));
        },
      );
    });
  }
}

function isCode(e: unknown, code: grpc.status): boolean {
  return (e as { code?: number })?.code === code;
}

/** grpc://host:port[/instance], grpcs://…; the option instance_name names the instance instead. */
export function openReapiStore(config: StoreConfig): Store {
  return new ReapiStore({
    url: config.url,
    instance: config.options.instance_name,
    username: config.username,
    password: config.password,
    token: config.token,
    connectTimeoutMs: config.connectTimeoutMs,
    timeoutMs: config.requestTimeoutMs,
    caCert: caCertOption(config),
  });
}
