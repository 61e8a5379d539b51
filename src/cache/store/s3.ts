/**
 * S3 and the stores that speak its API (AWS, MinIO, R2, GCS's S3 API, Ceph). s3://bucket/prefix
 * keeps records at <prefix>/ac/<key> (JSON) and blobs at <prefix>/cas-zstd/<digest> (zstd). Writes
 * go through Bun's client; reads are presigned GETs read with a limit (a record by MAX_RECORD_BYTES,
 * a blob by the packed size its declared size allows), so an object larger than that, or a body that
 * does not end, is never held: it is a damaged entry. A big blob streams to a file as it comes and
 * is uploaded from one.
 * Options: endpoint, region, path_style, anonymous (no credentials: read-only).
 */
import { rmSync, writeFileSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flag } from "../../util/flag.ts";
import { sha256Hex } from "../engine/digest.ts";
import type { StoreConfig } from "../engine/store-config.ts";
import { awsCredentials, awsRegion } from "./aws-credentials.ts";
import { packBlob, packFileChunks, parseRecord } from "./blob-codec.ts";
import { type BlobSink, UnpackingSink } from "./blob-sink.ts";
import {
  blobLimit,
  bodyLength,
  CutShort,
  Oversize,
  packedLimit,
  readBounded,
  streamBounded,
  transferMs,
  unpackBounded,
} from "./bounded.ts";
import { fetchWithin, type TimedResponse } from "./deadline.ts";
import { MAX_RECORD_BYTES } from "./limits.ts";
import { DEFAULT_TIMEOUT_MS, StoreUnavailable } from "./remote.ts";
import {
  type ActionResult,
  type BlobSizes,
  CorruptEntry,
  getBlobs,
  isActionResult,
  type Store,
} from "./store.ts";

export class S3Store implements Store {
  readonly name: string;

  constructor(
    private readonly client: Bun.S3Client,
    private readonly prefix: string,
    label: string,
    /** The object's URL to GET: presigned, or plain for anonymous reads. */
    private readonly urlOf: (path: string) => string,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
    /** How long the first answer may take to begin (a server that accepts and never answers). */
    private readonly connectTimeoutMs = timeoutMs,
  ) {
    this.name = label;
  }

  /** Whether the server has answered this process yet (its first answer has a shorter deadline). */
  private answered = false;

  async getAction(key: string): Promise<ActionResult | undefined> {
    const path = this.key("ac", key);
    let value: unknown;
    try {
      const bytes = await this.read(path, MAX_RECORD_BYTES, `record ${key}`);
      if (bytes === undefined) return undefined;
      value = parseRecord(Buffer.from(bytes).toString("utf8"));
    } catch (err) {
      if (err instanceof CutShort) throw new CorruptEntry(`action ${key} in ${this.name} (${err.message})`);
      if (!(err instanceof Oversize)) throw err;
    }
    if (!isActionResult(value)) {
      await this.client.delete(path).catch(() => {});
      throw new CorruptEntry(`action ${key} in ${this.name}`);
    }
    return value;
  }

  async putAction(key: string, result: ActionResult): Promise<void> {
    await this.client.write(this.key("ac", key), JSON.stringify(result), { type: "application/json" });
  }

  async getBlob(digest: string): Promise<Uint8Array | undefined> {
    return (await getBlobs(this, [digest])).get(digest);
  }

  /** One GET per blob, all at once; each read no further than its declared size allows. */
  async getBlobs(digests: string[], sizes?: BlobSizes): Promise<Map<string, Uint8Array>> {
    const found = new Map<string, Uint8Array>();
    await Promise.all(
      digests.map(async (digest) => {
        const path = this.key("cas-zstd", digest);
        const size = blobLimit(digest, sizes);
        let bytes: Uint8Array | undefined;
        try {
          const stored = await this.read(path, packedLimit(size), `blob ${digest}`);
          if (stored === undefined) return;
          bytes = unpackBounded(stored, size, sizes?.has(digest) ?? false);
        } catch (err) {
          if (err instanceof CutShort)
            throw new CorruptEntry(`blob ${digest} in ${this.name} (${err.message})`);
          if (!(err instanceof Oversize)) throw err;
        }
        if (!bytes || sha256Hex(bytes) !== digest) {
          await this.client.delete(path).catch(() => {});
          throw new CorruptEntry(`blob ${digest} in ${this.name}`);
        }
        found.set(digest, bytes);
      }),
    );
    return found;
  }

  async readBlobTo(digest: string, size: number, sink: BlobSink): Promise<boolean> {
    const t = await this.get(this.key("cas-zstd", digest), packedLimit(size));
    if (!t) return false;
    const unpacking = new UnpackingSink(sink, size, `blob ${digest} in ${this.name}`);
    try {
      await streamBounded(t.res.body, packedLimit(size), `blob ${digest}`, (chunk) => unpacking.write(chunk));
    } catch (err) {
      if (t.late()) throw this.lateOr(t, err);
      if (err instanceof Oversize || err instanceof CutShort)
        throw new CorruptEntry(`blob ${digest} in ${this.name} (${err.message})`);
      throw err;
    }
    await unpacking.end();
    return true;
  }

  async putBlob(digest: string, bytes: Uint8Array): Promise<void> {
    await this.client.write(this.key("cas-zstd", digest), packBlob(bytes), { type: "application/zstd" });
  }

  /** A big blob: packed a chunk at a time into a temporary file, which is uploaded from disk. */
  async writeBlobFrom(digest: string, _size: number, file: string): Promise<void> {
    const packed = join(tmpdir(), `galley-s3-${process.pid}-${Math.random().toString(36).slice(2)}`);
    try {
      writeFileSync(packed, "");
      await packFileChunks(file, (frame) => appendFile(packed, frame));
      await this.client.write(this.key("cas-zstd", digest), Bun.file(packed), { type: "application/zstd" });
    } finally {
      rmSync(packed, { force: true });
    }
  }

  async hasBlob(digest: string): Promise<boolean> {
    return await this.client.exists(this.key("cas-zstd", digest));
  }

  private key(kind: string, name: string): string {
    return this.prefix ? `${this.prefix}/${kind}/${name}` : `${kind}/${name}`;
  }

  /** The object's bytes up to `limit` (Oversize past it), or undefined when there is no such object. */
  private async read(path: string, limit: number, what: string): Promise<Uint8Array | undefined> {
    const t = await this.get(path, limit);
    if (!t) return undefined;
    try {
      return await readBounded(t.res.body, limit, what, bodyLength(t.res));
    } catch (err) {
      throw this.lateOr(t, err);
    }
  }

  /** A body cut off by the request's deadline is the store failing (a trickle), not a damaged entry. */
  private lateOr(t: TimedResponse, err: unknown): unknown {
    const late = t.late();
    return late ? new StoreUnavailable(this.name, late.message) : err;
  }

  /** A GET of the object (undefined for 404), asking for no more than `limit` bytes of it. */
  private async get(path: string, limit: number): Promise<TimedResponse | undefined> {
    const first = !this.answered;
    let t: TimedResponse;
    try {
      t = await fetchWithin(
        this.urlOf(path),
        // A range one byte past the limit: a larger object shows itself without being sent whole.
        { headers: { range: `bytes=0-${limit}` } },
        {
          totalMs: this.timeoutMs + transferMs(limit),
          ...(first ? { headersMs: this.connectTimeoutMs } : {}),
        },
      );
    } catch (e) {
      throw new StoreUnavailable(this.name, (e as Error).message);
    }
    this.answered = true;
    const res = t.res;
    if (res.status === 404) {
      await res.body?.cancel().catch(() => {});
      return undefined;
    }
    // An empty object answers a range with 416: it is no blob and no record.
    if (res.status === 416) {
      await res.body?.cancel().catch(() => {});
      return { res: new Response(new Uint8Array(0)), late: () => undefined };
    }
    if (res.ok) return t;
    await res.body?.cancel().catch(() => {});
    if (res.status === 401 || res.status === 403)
      throw new StoreUnavailable(this.name, `credentials refused (HTTP ${res.status} on GET)`);
    throw new StoreUnavailable(this.name, `HTTP ${res.status} on GET ${path}`);
  }
}

export async function openS3Store(config: StoreConfig, env = process.env): Promise<Store> {
  const url = new URL(config.url);
  const bucket = decodeURIComponent(url.hostname);
  const prefix = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, "");
  const o = { ...Object.fromEntries(url.searchParams), ...config.options };
  const endpoint = o.endpoint || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  const anonymous = o.anonymous ? flag(o.anonymous, "store option anonymous") : false;
  const credentials = anonymous ? undefined : awsCredentials(env);
  const pathStyle = o.path_style ? flag(o.path_style, "store option path_style") : Boolean(endpoint);
  const common = {
    bucket,
    region: o.region || awsRegion(env) || "us-east-1",
    ...(endpoint ? { endpoint } : {}),
    virtualHostedStyle: !pathStyle,
  };
  const client = new Bun.S3Client({
    ...common,
    // Anonymous reads send no signature at all (empty keys make Bun skip signing).
    ...(credentials ?? { accessKeyId: "", secretAccessKey: "" }),
    retry: 0,
  });
  // Reads are presigned URLs (computed here, no request); anonymous ones the same URL unsigned.
  const signer = credentials
    ? client
    : new Bun.S3Client({ ...common, accessKeyId: "anonymous", secretAccessKey: "anonymous" });
  const urlOf = (path: string) => {
    const signed = signer.presign(path, { method: "GET", expiresIn: 3600 });
    return credentials ? signed : signed.slice(0, signed.indexOf("?"));
  };
  return new S3Store(
    client,
    prefix,
    `s3://${bucket}${prefix ? `/${prefix}` : ""}`,
    urlOf,
    config.requestTimeoutMs,
    config.connectTimeoutMs,
  );
}
