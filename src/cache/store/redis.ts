/**
 * Redis (redis:// and rediss:// with TLS; AUTH from the URL or the store's username/password)
 * through Bun's client. Records at <prefix>ac:<key> (JSON), blobs at <prefix>cas-zstd:<digest>
 * (zstd), each with the TTL if one is set. Requests of one lookup are pipelined on one connection:
 * a batch of blobs costs one round trip.
 * Options: key_prefix (default "galley:"), ttl (seconds), db.
 */
import type { StoreConfig } from "../engine/store-config.ts";
import { packBlob, parseRecord, unpackBlob } from "./blob-codec.ts";
import { WriteRefused } from "./breaker.ts";
import { type ActionResult, CorruptEntry, isActionResult, type Store } from "./store.ts";

export class RedisStore implements Store {
  readonly name: string;

  constructor(
    private readonly client: Bun.RedisClient,
    private readonly prefix: string,
    private readonly ttlSeconds: number | undefined,
    label: string,
  ) {
    this.name = label;
  }

  async getAction(key: string): Promise<ActionResult | undefined> {
    const k = `${this.prefix}ac:${key}`;
    const text = await this.client.get(k);
    if (text === null) return undefined;
    const value = parseRecord(text);
    if (!isActionResult(value)) {
      await this.client.del(k);
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

  async getBlobs(digests: string[]): Promise<Map<string, Uint8Array>> {
    const keys = digests.map((d) => `${this.prefix}cas-zstd:${d}`);
    // Sent together: the client pipelines them, one round trip for the batch.
    const stored = await Promise.all(keys.map((k) => this.client.getBuffer(k)));
    const found = new Map<string, Uint8Array>();
    for (const [i, packed] of stored.entries()) {
      if (packed === null) continue;
      const bytes = unpackBlob(digests[i]!, packed);
      if (!bytes) {
        await this.client.del(keys[i]!);
        throw new CorruptEntry(`blob ${digests[i]} in ${this.name}`);
      }
      found.set(digests[i]!, bytes);
    }
    return found;
  }

  async putBlob(digest: string, bytes: Uint8Array): Promise<void> {
    await this.putBlobs(new Map([[digest, bytes]]));
  }

  async putBlobs(blobs: Map<string, Uint8Array>): Promise<void> {
    await Promise.all([...blobs].map(([d, b]) => this.set(`${this.prefix}cas-zstd:${d}`, packBlob(b), d)));
  }

  async hasBlob(digest: string): Promise<boolean> {
    return await this.client.exists(`${this.prefix}cas-zstd:${digest}`);
  }

  close(): void {
    this.client.close();
  }

  private async set(key: string, value: string | Uint8Array, what: string): Promise<void> {
    try {
      if (this.ttlSeconds) await this.client.set(key, value, "EX", this.ttlSeconds);
      else await this.client.set(key, value);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (/OOM|maxmemory/i.test(message))
        throw new WriteRefused(
          `${this.name} is full (maxmemory reached and its maxmemory-policy evicts nothing): set maxmemory-policy allkeys-lru`,
        );
      if (/bulk|too (big|large)|max.*length/i.test(message))
        throw new WriteRefused(
          `${this.name} refused ${what.slice(0, 12)} (${value.length} bytes): larger than its proto-max-bulk-len`,
        );
      throw err;
    }
  }
}

export async function openRedisStore(config: StoreConfig): Promise<Store> {
  const url = new URL(config.url);
  if (config.username) url.username = encodeURIComponent(config.username);
  if (config.password) url.password = encodeURIComponent(config.password);
  const o = { ...Object.fromEntries(url.searchParams), ...config.options };
  if (o.db) url.pathname = `/${o.db}`;
  for (const name of ["key_prefix", "ttl", "db"]) url.searchParams.delete(name);
  const client = new Bun.RedisClient(url.toString(), {
    connectionTimeout: config.connectTimeoutMs,
    autoReconnect: false,
    maxRetries: 0,
    enableAutoPipelining: true,
    ...(url.protocol === "rediss:" ? { tls: true } : {}),
  });
  const ttl = o.ttl ? Number(o.ttl) : undefined;
  const label = `${url.protocol}//${url.host}${url.pathname === "/" ? "" : url.pathname}`;
  return new RedisStore(client, o.key_prefix ?? "galley:", ttl && ttl > 0 ? ttl : undefined, label);
}
