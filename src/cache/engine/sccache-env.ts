/**
 * sccache's store variables, read as galley settings, so a CI set-up made for sccache works with
 * only RUSTC_WRAPPER changed. Backends galley does not have (GCS's own API, GitHub Actions cache,
 * Azure, memcached, OSS, COS, Redis cluster) are listed as ignored, and the local cache is used.
 */
import { flag } from "../../util/flag.ts";
import type { StoreSettings } from "./store-settings.ts";

type Env = Record<string, string | undefined>;

const UNSUPPORTED: [prefix: string, what: string][] = [
  ["SCCACHE_GCS_", "Google Cloud Storage's own API (use its S3 API: s3:// with an endpoint)"],
  ["SCCACHE_GHA_", "the GitHub Actions cache"],
  ["SCCACHE_AZURE_", "Azure Blob Storage"],
  ["SCCACHE_MEMCACHED", "memcached"],
  ["SCCACHE_OSS_", "Alibaba OSS"],
  ["SCCACHE_COS_", "Tencent COS"],
  ["SCCACHE_REDIS_CLUSTER_ENDPOINTS", "Redis cluster"],
];

export function sccacheStoreSettings(env: Env): StoreSettings {
  const ignored: string[] = [];
  for (const name of Object.keys(env)
    .filter((n) => n.startsWith("SCCACHE_"))
    .sort()) {
    if (!env[name]) continue;
    const u = UNSUPPORTED.find(([p]) => name.startsWith(p));
    if (u) ignored.push(`${name} (galley does not support ${u[1]})`);
  }
  if (
    env.SCCACHE_S3_SERVER_SIDE_ENCRYPTION &&
    flag(env.SCCACHE_S3_SERVER_SIDE_ENCRYPTION, "SCCACHE_S3_SERVER_SIDE_ENCRYPTION")
  )
    ignored.push("SCCACHE_S3_SERVER_SIDE_ENCRYPTION (set default encryption on the bucket instead)");
  const s = env.SCCACHE_BUCKET
    ? s3(env)
    : env.SCCACHE_REDIS_ENDPOINT || env.SCCACHE_REDIS
      ? redis(env)
      : env.SCCACHE_WEBDAV_ENDPOINT
        ? webdav(env)
        : {};
  return { ...s, ignored };
}

function s3(env: Env): StoreSettings {
  const prefix = trimSlashes(env.SCCACHE_S3_KEY_PREFIX ?? "");
  const options: Record<string, string> = {};
  if (env.SCCACHE_ENDPOINT) {
    const useSsl = env.SCCACHE_S3_USE_SSL ? flag(env.SCCACHE_S3_USE_SSL, "SCCACHE_S3_USE_SSL") : true;
    options.endpoint = /^https?:\/\//.test(env.SCCACHE_ENDPOINT)
      ? env.SCCACHE_ENDPOINT
      : `${useSsl ? "https" : "http"}://${env.SCCACHE_ENDPOINT}`;
  }
  if (env.SCCACHE_REGION) options.region = env.SCCACHE_REGION;
  const anonymous =
    env.SCCACHE_S3_NO_CREDENTIALS !== undefined &&
    flag(env.SCCACHE_S3_NO_CREDENTIALS, "SCCACHE_S3_NO_CREDENTIALS");
  if (anonymous) options.anonymous = "1";
  return {
    url: `s3://${env.SCCACHE_BUCKET}${prefix ? `/${prefix}` : ""}`,
    source: "SCCACHE_BUCKET",
    options,
    // sccache reads and never writes without credentials; so does galley.
    ...(anonymous ? { readOnly: true } : {}),
  };
}

function redis(env: Env): StoreSettings {
  const source = env.SCCACHE_REDIS_ENDPOINT ? "SCCACHE_REDIS_ENDPOINT" : "SCCACHE_REDIS";
  const raw = env.SCCACHE_REDIS_ENDPOINT || env.SCCACHE_REDIS!;
  const url = /^rediss?:\/\//.test(raw) ? raw : `redis://${raw}`;
  const options: Record<string, string> = {};
  if (env.SCCACHE_REDIS_DB) options.db = env.SCCACHE_REDIS_DB;
  const ttl = env.SCCACHE_REDIS_EXPIRATION || env.SCCACHE_REDIS_TTL;
  if (ttl) options.ttl = ttl;
  if (env.SCCACHE_REDIS_KEY_PREFIX) options.key_prefix = env.SCCACHE_REDIS_KEY_PREFIX;
  return {
    url,
    source,
    options,
    username: env.SCCACHE_REDIS_USERNAME || undefined,
    password: env.SCCACHE_REDIS_PASSWORD || undefined,
  };
}

function webdav(env: Env): StoreSettings {
  const options: Record<string, string> = { webdav: "1" };
  if (env.SCCACHE_WEBDAV_KEY_PREFIX) options.key_prefix = env.SCCACHE_WEBDAV_KEY_PREFIX;
  return {
    url: env.SCCACHE_WEBDAV_ENDPOINT!,
    source: "SCCACHE_WEBDAV_ENDPOINT",
    options,
    username: env.SCCACHE_WEBDAV_USERNAME || undefined,
    password: env.SCCACHE_WEBDAV_PASSWORD || undefined,
    token: env.SCCACHE_WEBDAV_TOKEN || undefined,
  };
}

function trimSlashes(s: string): string {
  return s.replace(/^\/+|\/+$/g, "");
}
