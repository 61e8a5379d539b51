/**
 * S3 and the stores that speak its API (AWS, MinIO, R2, GCS's S3 API, Ceph) through Bun's client.
 * s3://bucket/prefix keeps records at <prefix>/ac/<key> (JSON) and blobs at
 * <prefix>/cas-zstd/<digest> (zstd). One GET per record or blob, blobs in parallel.
 * Options: endpoint, region, path_style, anonymous (no credentials: read-only).
 */
import { flag } from "../../util/flag.ts";
import type { StoreConfig } from "../engine/store-config.ts";
import { awsCredentials, awsRegion } from "./aws-credentials.ts";
import { packBlob, parseRecord, unpackBlob } from "./blob-codec.ts";
import { type ActionResult, CorruptEntry, isActionResult, type Store } from "./store.ts";

export class S3Store implements Store {
  readonly name: string;

  constructor(
    private readonly client: Bun.S3Client,
    private readonly prefix: string,
    label: string,
  ) {
    this.name = label;
  }

  async getAction(key: string): Promise<ActionResult | undefined> {
    const path = this.key("ac", key);
    const text = await this.read(path, (f) => f.text());
    if (text === undefined) return undefined;
    const value = parseRecord(text);
    if (!isActionResult(value)) {
      await this.client.delete(path);
      throw new CorruptEntry(`action ${key} in ${this.name}`);
    }
    return value;
  }

  async putAction(key: string, result: ActionResult): Promise<void> {
    await this.client.write(this.key("ac", key), JSON.stringify(result), { type: "application/json" });
  }

  async getBlob(digest: string): Promise<Uint8Array | undefined> {
    const path = this.key("cas-zstd", digest);
    const stored = await this.read(path, (f) => f.bytes());
    if (stored === undefined) return undefined;
    const bytes = unpackBlob(digest, stored);
    if (!bytes) {
      await this.client.delete(path);
      throw new CorruptEntry(`blob ${digest} in ${this.name}`);
    }
    return bytes;
  }

  async putBlob(digest: string, bytes: Uint8Array): Promise<void> {
    await this.client.write(this.key("cas-zstd", digest), packBlob(bytes), { type: "application/zstd" });
  }

  async hasBlob(digest: string): Promise<boolean> {
    return await this.client.exists(this.key("cas-zstd", digest));
  }

  private key(kind: string, name: string): string {
    return this.prefix ? `${this.prefix}/${kind}/${name}` : `${kind}/${name}`;
  }

  /** The object's content, or undefined when there is no such object. */
  private async read<T>(path: string, how: (f: Bun.S3File) => Promise<T>): Promise<T | undefined> {
    try {
      return await how(this.client.file(path));
    } catch (err) {
      if ((err as { code?: string }).code === "NoSuchKey") return undefined;
      throw err;
    }
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
  const client = new Bun.S3Client({
    bucket,
    region: o.region || awsRegion(env) || "us-east-1",
    ...(endpoint ? { endpoint } : {}),
    virtualHostedStyle: !pathStyle,
    // Anonymous reads send no signature at all (empty keys make Bun skip signing).
    ...(credentials ?? { accessKeyId: "", secretAccessKey: "" }),
    retry: 0,
  });
  return new S3Store(client, prefix, `s3://${bucket}${prefix ? `/${prefix}` : ""}`);
}
