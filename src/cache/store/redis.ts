/**
 * Redis (redis:// and rediss:// with TLS; AUTH from the URL or the store's username/password).
 * Records at <prefix>ac:<key> (JSON), blobs at <prefix>cas-zstd:<digest> (zstd), each with the TTL
 * if one is set. Requests of one lookup are pipelined on one connection: a batch of blobs costs
 * one round trip. Every read is bounded: a record by MAX_RECORD_BYTES, a blob by the packed size
 * its declared size allows; a big blob is read in ranges and unpacked to a file as it comes, and
 * written in ranges too (APPEND to a temporary key, renamed into place when whole).
 * Options: key_prefix (default "galley:"), ttl (seconds), db, ca_cert.
 */
import { sha256Hex } from "../engine/digest.ts";
import type { StoreConfig } from "../engine/store-config.ts";
import { packBlob, packFileChunks, parseRecord } from "./blob-codec.ts";
import { type BlobSink, UnpackingSink } from "./blob-sink.ts";
import { blobLimit, Oversize, packedLimit, unpackBounded } from "./bounded.ts";
import { WriteRefused } from "./breaker.ts";
import { MAX_RECORD_BYTES } from "./limits.ts";
import { caCertOption, StoreUnavailable } from "./remote.ts";
import { RedisConnectionError, RedisError, type Reply, RespClient } from "./resp.ts";
import { type ActionResult, type BlobSizes, CorruptEntry, isActionResult, type Store } from "./store.ts";

/** A big blob travels in ranges of this many bytes (read) or packed chunks of this many (written). */
const RANGE_BYTES = 4 * 1024 * 1024;
/** A temporary key of an upload that died goes away by itself after this. */
const UPLOAD_TTL_SECONDS = 3600;

export class RedisStore implements Store {
  readonly name: string;

  constructor(
    private readonly client: RespClient,
    private readonly prefix: string,
    private readonly ttlSeconds: number | undefined,
    label: string,
  ) {
    this.name = label;
  }

  async getAction(key: string): Promise<ActionResult | undefined> {
    const k = `${this.prefix}ac:${key}`;
    let value: unknown;
    try {
      const bytes = await this.ask(["GET", k], MAX_RECORD_BYTES, `record ${key}`);
      if (bytes === null) return undefined;
      value = parseRecord(Buffer.from(bytesOf(bytes)).toString("utf8"));
    } catch (err) {
      if (!(err instanceof Oversize)) throw err;
      value = undefined;
    }
    if (!isActionResult(value)) {
      await this.ask(["DEL", k]).catch(() => {});
      throw new CorruptEntry(`action ${key} in ${this.name}`);
    }
    return value;
  }

  async putAction(key: string, result: ActionResult): Promise<void> {
    await this.set(`${this.prefix}ac:${key}`, JSON.stringify(result), key);
  }

  async getBlob(digest: string): Promise<Uint8Array | undefined> {
    return (await this.getBlobs([digest])).get(digest);
  }

  async getBlobs(digests: string[], sizes?: BlobSizes): Promise<Map<string, Uint8Array>> {
    const keys = digests.map((d) => this.blobKey(d));
    // Sent together: pipelined, one round trip for the batch.
    const stored = await Promise.all(
      digests.map((d, i) =>
        this.ask(["GET", keys[i]!], packedLimit(blobLimit(d, sizes)), `blob ${d}`).catch((err: unknown) => {
          if (err instanceof Oversize) return err;
          throw err;
        }),
      ),
    );
    const found = new Map<string, Uint8Array>();
    for (const [i, packed] of stored.entries()) {
      if (packed === null) continue;
      const digest = digests[i]!;
      const bytes =
        packed instanceof Oversize
          ? undefined
          : unpackBounded(bytesOf(packed), blobLimit(digest, sizes), sizes?.has(digest) ?? false);
      if (!bytes || sha256Hex(bytes) !== digest) {
        await this.ask(["DEL", keys[i]!]).catch(() => {});
        throw new CorruptEntry(`blob ${digest} in ${this.name}`);
      }
      found.set(digest, bytes);
    }
    return found;
  }

  /** A big blob, read a range at a time (never more than its size allows) and unpacked to `sink`. */
  async readBlobTo(digest: string, size: number, sink: BlobSink): Promise<boolean> {
    const key = this.blobKey(digest);
    const length = (await this.ask(["STRLEN", key])) as number;
    if (length === 0) return false;
    if (typeof length !== "number" || length > packedLimit(size))
      throw new CorruptEntry(`blob ${digest} in ${this.name} (${length} bytes stored)`);
    const unpacking = new UnpackingSink(sink, size, `blob ${digest} in ${this.name}`);
    for (let at = 0; at < length; at += RANGE_BYTES) {
      const end = Math.min(at + RANGE_BYTES, length) - 1;
      const chunk = await this.ask(["GETRANGE", key, String(at), String(end)], RANGE_BYTES, `blob ${digest}`);
      const bytes = chunk === null ? new Uint8Array(0) : bytesOf(chunk);
      if (bytes.length !== end - at + 1)
        throw new CorruptEntry(`blob ${digest} in ${this.name} (changed while read)`);
      await unpacking.write(bytes);
    }
    await unpacking.end();
    return true;
  }

  async putBlob(digest: string, bytes: Uint8Array): Promise<void> {
    await this.putBlobs(new Map([[digest, bytes]]));
  }

  async putBlobs(blobs: Map<string, Uint8Array>): Promise<void> {
    await Promise.all([...blobs].map(([d, b]) => this.set(this.blobKey(d), packBlob(b), d)));
  }

  /**
   * A big blob from its file: packed a chunk at a time (a zstd stream may be several frames one
   * after another), appended to a temporary key, and renamed onto the blob's key once whole, so no
   * reader sees part of it.
   */
  async writeBlobFrom(digest: string, _size: number, file: string): Promise<void> {
    const key = this.blobKey(digest);
    const tmp = `${this.prefix}upload:${digest}:${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
      let first = true;
      await packFileChunks(file, async (frame) => {
        if (first) await this.set(tmp, frame, digest, UPLOAD_TTL_SECONDS);
        else await this.write(["APPEND", tmp, frame], digest, frame.length);
        first = false;
      });
      await this.write(["RENAME", tmp, key], digest, 0);
      await this.write(
        this.ttlSeconds ? ["EXPIRE", key, String(this.ttlSeconds)] : ["PERSIST", key],
        digest,
        0,
      );
    } catch (err) {
      await this.ask(["DEL", tmp]).catch(() => {});
      throw err;
    }
  }

  async hasBlob(digest: string): Promise<boolean> {
    return (await this.ask(["EXISTS", this.blobKey(digest)])) === 1;
  }

  close(): void {
    this.client.close();
  }

  private blobKey(digest: string): string {
    return `${this.prefix}cas-zstd:${digest}`;
  }

  /** One command; a connection that fails is the store unavailable. */
  private async ask(args: (string | Uint8Array)[], limit?: number, what?: string): Promise<Reply> {
    try {
      return await this.client.command(args, limit, what);
    } catch (err) {
      if (err instanceof RedisConnectionError) throw new StoreUnavailable(this.name, err.message);
      throw err;
    }
  }

  private async set(
    key: string,
    value: string | Uint8Array,
    what: string,
    ttl = this.ttlSeconds,
  ): Promise<void> {
    await this.write(ttl ? ["SET", key, value, "EX", String(ttl)] : ["SET", key, value], what, value.length);
  }

  private async write(args: (string | Uint8Array)[], what: string, bytes: number): Promise<void> {
    try {
      await this.ask(args);
    } catch (err) {
      if (!(err instanceof RedisError)) throw err;
      if (/OOM|maxmemory/i.test(err.message))
        throw new WriteRefused(
          `${this.name} is full (maxmemory reached and its maxmemory-policy evicts nothing): set maxmemory-policy allkeys-lru`,
        );
      if (/bulk|too (big|large)|max.*(length|size)/i.test(err.message))
        throw new WriteRefused(
          `${this.name} refused ${what.slice(0, 12)} (${bytes} bytes): larger than its proto-max-bulk-len`,
        );
      throw new StoreUnavailable(this.name, `${args[0]}: ${err.message}`);
    }
  }
}

/** A bulk reply's bytes (a status reply where bytes were expected reads as its text). */
function bytesOf(reply: Reply): Uint8Array {
  if (reply instanceof Uint8Array) return reply;
  return new TextEncoder().encode(String(reply));
}

export async function openRedisStore(config: StoreConfig): Promise<Store> {
  const url = new URL(config.url);
  const o = { ...Object.fromEntries(url.searchParams), ...config.options };
  const tls = url.protocol === "rediss:";
  const db = o.db ?? url.pathname.replace(/^\/+/, "");
  const client = new RespClient({
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: Number(url.port) || 6379,
    tls,
    ca: caCertOption(config),
    username: config.username ?? (decodeURIComponent(url.username) || undefined),
    password: config.password ?? (decodeURIComponent(url.password) || undefined),
    db: db ? dbNumber(db) : undefined,
    connectTimeoutMs: config.connectTimeoutMs,
  });
  const ttl = o.ttl ? Number(o.ttl) : undefined;
  const label = `${url.protocol}//${url.host}${db ? `/${db}` : ""}`;
  return new RedisStore(client, o.key_prefix ?? "galley:", ttl && ttl > 0 ? ttl : undefined, label);
}

function dbNumber(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new StoreUnavailable("redis", `db ${JSON.stringify(text)} is not a number`);
  return n;
}
