/**
 * A cache over HTTP, in two flavours. `bazel`: the protocol of bazel-remote and every Bazel HTTP
 * cache, `GET/PUT /ac/<key>` holding a Remote Execution API ActionResult (bazel-remote checks that
 * it is one) and `/cas/<sha256>` holding the bytes. `webdav`: plain `GET/PUT` on any WebDAV server
 * (nginx's dav module with create_full_put_path), the same paths and record format under the URL's
 * path. Basic auth from the URL's user-info, or a bearer token. Requests for several blobs go out
 * at once over kept-alive connections.
 */

import type { StoreConfig } from "../engine/store-config.ts";
import type { BlobSink } from "./blob-sink.ts";
import {
  blobLimit,
  bodyLength,
  CutShort,
  Oversize,
  readBounded,
  streamBounded,
  transferMs,
} from "./bounded.ts";
import { fetchWithin, type TimedResponse } from "./deadline.ts";
import { MAX_RECORD_BYTES } from "./limits.ts";
import { decodeActionResult, encodeActionResult, WITHDRAWN } from "./reapi/action-result.ts";
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
import { type ActionResult, type BlobSizes, CorruptEntry, getBlobs, type Store } from "./store.ts";

export type HttpFlavor = "bazel" | "webdav";

export interface HttpStoreOptions extends Credentials {
  /** Base URL; credentials in its user-info are sent as basic (or `:token@` as bearer) auth. */
  url: string;
  flavor: HttpFlavor;
  /** A path under the base URL (sccache's SCCACHE_WEBDAV_KEY_PREFIX). */
  prefix?: string;
  /** How long one request may take, connecting included. */
  timeoutMs?: number;
  /** How long the first answer may take to begin (a server that accepts and never answers). */
  connectTimeoutMs?: number;
  /** PEM of a CA to trust for https:// besides the system's (a server with its own certificate). */
  caCert?: string;
}

export class HttpStore implements Store {
  readonly name: string;
  /** Requests sent, by method (for docs/remote-stores.md and the tests that count round trips). */
  readonly requests = { GET: 0, PUT: 0, HEAD: 0, DELETE: 0 };
  private readonly base: string;
  private readonly auth: string | undefined;
  private readonly timeoutMs: number;
  private readonly damaged = new DamagedEntries();
  /** Whether the server has answered this process yet (its first answer has a shorter deadline). */
  private answered = false;
  /** Sizes of blobs this process stored or read: REAPI records name stdout/stderr with their size. */
  private readonly sizes = new Map<string, number>();

  constructor(private readonly options: HttpStoreOptions) {
    const url = new URL(options.url);
    this.auth = authHeader(url, options);
    const prefix = options.prefix?.replace(/^\/+|\/+$/g, "");
    this.base = prefix ? `${displayUrl(url)}/${prefix}` : displayUrl(url);
    this.name = `${options.flavor === "webdav" ? "webdav" : "http"} ${this.base}`;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async getAction(key: string): Promise<ActionResult | undefined> {
    const res = await this.request("GET", `ac/${key}`);
    if (res === undefined) return undefined;
    try {
      const decoded = decodeActionResult(await this.body(res, MAX_RECORD_BYTES, `record ${key}`));
      if (decoded) for (const [d, size] of decoded.sizes) this.sizes.set(d, size);
      return decoded?.result;
    } catch (e) {
      if (e instanceof CutShort) throw new CorruptEntry(`action ${key} in ${this.name} (${e.message})`);
      if (!(e instanceof MalformedMessage || e instanceof Oversize)) throw e;
      await this.withdraw(key);
      throw new CorruptEntry(`action ${key}`);
    }
  }

  async putAction(key: string, result: ActionResult): Promise<void> {
    await this.request(
      "PUT",
      `ac/${key}`,
      encodeActionResult(result, (d) => this.sizes.get(d)),
    );
  }

  async getBlob(digest: string): Promise<Uint8Array | undefined> {
    return (await getBlobs(this, [digest])).get(digest);
  }

  /** One GET per blob, all at once over kept-alive connections; each read no further than declared. */
  async getBlobs(digests: string[], sizes?: BlobSizes): Promise<Map<string, Uint8Array>> {
    const found = new Map<string, Uint8Array>();
    await Promise.all(
      digests.map(async (digest) => {
        const bytes = await this.readBlob(digest, blobLimit(digest, sizes ?? this.sizes));
        if (bytes) found.set(digest, bytes);
      }),
    );
    return found;
  }

  private async readBlob(digest: string, limit: number): Promise<Uint8Array | undefined> {
    if (this.damaged.has(digest)) return undefined;
    const res = await this.request("GET", `cas/${digest}`);
    if (res === undefined) return undefined;
    let bytes: Uint8Array;
    try {
      bytes = await this.body(res, limit, `blob ${digest}`);
      verifiedBlob(digest, bytes, this.damaged);
    } catch (e) {
      if (e instanceof CutShort) throw new CorruptEntry(`blob ${digest} in ${this.name} (${e.message})`);
      if (!(e instanceof CorruptEntry || e instanceof Oversize)) throw e;
      this.damaged.add(digest);
      if (this.options.flavor === "webdav") await this.request("DELETE", `cas/${digest}`).catch(() => {});
      throw new CorruptEntry(`blob ${digest} in ${this.name}`);
    }
    this.sizes.set(digest, bytes.length);
    return bytes;
  }

  /** A big blob streamed to `sink` as it comes, never more than its size. */
  async readBlobTo(digest: string, size: number, sink: BlobSink): Promise<boolean> {
    if (this.damaged.has(digest)) return false;
    const res = await this.request("GET", `cas/${digest}`, undefined, size);
    if (res === undefined) return false;
    try {
      await streamBounded(res.res.body, size, `blob ${digest}`, (chunk) => sink.write(chunk));
    } catch (e) {
      const late = res.late();
      if (late) throw new StoreUnavailable(this.name, late.message);
      if (e instanceof Oversize || e instanceof CutShort)
        throw new CorruptEntry(`blob ${digest} in ${this.name} (${e.message})`);
      throw e;
    }
    this.sizes.set(digest, size);
    return true;
  }

  /** A big blob uploaded from its file, streamed from disk. */
  async writeBlobFrom(digest: string, size: number, file: string): Promise<void> {
    await this.request("PUT", `cas/${digest}`, Bun.file(file), size);
    this.damaged.delete(digest);
    this.sizes.set(digest, size);
  }

  async putBlob(digest: string, bytes: Uint8Array): Promise<void> {
    await this.request("PUT", `cas/${digest}`, bytes);
    this.damaged.delete(digest);
    this.sizes.set(digest, bytes.length);
  }

  async hasBlob(digest: string): Promise<boolean> {
    if (this.damaged.has(digest)) return false;
    return (await this.request("HEAD", `cas/${digest}`)) !== undefined;
  }

  /** A damaged record is deleted (WebDAV) or overwritten with an empty one (Bazel caches keep no DELETE). */
  private async withdraw(key: string): Promise<void> {
    try {
      if (this.options.flavor === "webdav") await this.request("DELETE", `ac/${key}`);
      else await this.request("PUT", `ac/${key}`, WITHDRAWN);
    } catch {
      // The record stays damaged on the server; every reader rejects it the same way.
    }
  }

  /**
   * The body, up to `limit` bytes (Oversize past it; CutShort when it breaks off). One cut off by
   * the request's deadline is the store failing (a trickle), not a damaged entry.
   */
  private async body(t: TimedResponse, limit: number, what: string): Promise<Uint8Array> {
    try {
      return await readBounded(t.res.body, limit, what, bodyLength(t.res));
    } catch (err) {
      const late = t.late();
      if (late) throw new StoreUnavailable(this.name, late.message);
      throw err;
    }
  }

  /** The response when the entry is there; undefined when the server says it is not (404). */
  private async request(
    method: keyof HttpStore["requests"],
    path: string,
    body?: Uint8Array | Blob,
    /** Bytes the request moves: a big one gets longer than the time-out, at a floor rate. */
    bytes = 0,
  ): Promise<TimedResponse | undefined> {
    this.requests[method]++;
    const headers: Record<string, string> = {};
    if (this.auth) headers.authorization = this.auth;
    if (body) headers["content-type"] = "application/octet-stream";
    // The first answer of a process comes within the connect time-out (a PUT's only after its body).
    const first = !this.answered && method !== "PUT";
    let timed: TimedResponse;
    try {
      timed = await fetchWithin(
        `${this.base}/${path}`,
        { method, headers, body, ...(this.options.caCert ? { tls: { ca: this.options.caCert } } : {}) },
        {
          totalMs: this.timeoutMs + transferMs(bytes),
          ...(first ? { headersMs: this.options.connectTimeoutMs ?? this.timeoutMs } : {}),
        },
      );
    } catch (e) {
      throw new StoreUnavailable(this.name, (e as Error).message);
    }
    this.answered = true;
    const res = timed.res;
    if (res.status === 404 && method !== "PUT") {
      await res.body?.cancel();
      return undefined;
    }
    if (res.ok) return timed;
    await res.body?.cancel();
    if (res.status === 401 || res.status === 403)
      throw new StoreUnavailable(this.name, `credentials refused (HTTP ${res.status} on ${method})`);
    throw new StoreUnavailable(this.name, `HTTP ${res.status} on ${method} ${path}`);
  }
}

/**
 * http(s)://host[:port][/path]: bazel-remote's protocol; webdav+http(s)://…, or the option
 * `webdav` (set by SCCACHE_WEBDAV_ENDPOINT): plain WebDAV.
 */
export function openHttpStore(config: StoreConfig): Store {
  const webdavScheme = /^webdav\+/i.test(config.url);
  const url = webdavScheme ? config.url.replace(/^webdav\+/i, "") : config.url;
  const webdav = webdavScheme || ["1", "true", "yes"].includes((config.options.webdav ?? "").toLowerCase());
  return new HttpStore({
    url,
    flavor: webdav ? "webdav" : "bazel",
    prefix: config.options.key_prefix,
    username: config.username,
    password: config.password,
    token: config.token,
    timeoutMs: config.requestTimeoutMs,
    connectTimeoutMs: config.connectTimeoutMs,
    caCert: caCertOption(config),
  });
}
