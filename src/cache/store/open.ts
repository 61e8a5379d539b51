/**
 * From configuration to a store: the local disk store alone, or the local store in front of a
 * shared one (tiered), the shared one wrapped so that it can never slow or poison a build:
 *
 *   tiered(local, read-only?(signed?(untrusted(breaker(backend)))))
 *
 * A backend is one entry of BACKENDS, by URL scheme, loaded only when configured.
 */
import { InputError } from "../../errors.ts";
import type { StoreConfig } from "../engine/store-config.ts";
import { Breaker, BreakerStore } from "./breaker.ts";
import type { DiskStore } from "./disk.ts";
import { LazyStore } from "./lazy.ts";
import { ReadOnlyStore } from "./read-only.ts";
import { displayUrl } from "./remote.ts";
import type { StoreReport } from "./report.ts";
import { SignedStore } from "./signed.ts";
import type { Store } from "./store.ts";
import { TieredStore } from "./tiered.ts";
import { UntrustedStore } from "./untrusted.ts";

/** Makes a backend's store from its configuration; it connects on its first request, not here. */
export type BackendOpener = (config: StoreConfig) => Promise<Store>;

/** One entry per URL scheme (without the colon). */
export const BACKENDS: Record<string, BackendOpener> = {
  s3: async (c) => (await import("./s3.ts")).openS3Store(c),
  redis: async (c) => (await import("./redis.ts")).openRedisStore(c),
  rediss: async (c) => (await import("./redis.ts")).openRedisStore(c),
  grpc: async (c) => openReapi(c),
  grpcs: async (c) => openReapi(c),
  http: async (c) => (await import("./http.ts")).openHttpStore(c),
  https: async (c) => (await import("./http.ts")).openHttpStore(c),
  "webdav+http": async (c) => (await import("./http.ts")).openHttpStore(c),
  "webdav+https": async (c) => (await import("./http.ts")).openHttpStore(c),
};

/** The gRPC client loads at the first request, not for a process the local cache serves. */
function openReapi(config: StoreConfig): Store {
  return new LazyStore(`reapi ${displayUrl(new URL(config.url))}`, async () =>
    (await import("./reapi.ts")).openReapiStore(config),
  );
}

export function schemeOf(config: StoreConfig): string {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(config.url);
  if (!m)
    throw new InputError(`${config.source}=${JSON.stringify(config.url)} is not a store URL`, storeHint());
  return m[1]!.toLowerCase();
}

/** The backend alone (for `galley cache ping` and the tests). */
export async function openBackend(config: StoreConfig): Promise<Store> {
  const scheme = schemeOf(config);
  const open = BACKENDS[scheme];
  if (!open) throw new InputError(`${config.source}: galley has no store for ${scheme}:// URLs`, storeHint());
  return await open(config);
}

/**
 * The store a wrapper process uses. When another process of this build found the shared store
 * failing a moment ago, the backend is not even loaded: the local store serves alone.
 */
export async function openStore(
  config: StoreConfig,
  local: DiskStore,
  cacheDir: string,
  report: StoreReport,
): Promise<Store> {
  const breaker = new Breaker(cacheDir, config);
  if (breaker.isOpen()) {
    report.skipped = true;
    return local;
  }
  let remote: Store = new UntrustedStore(
    new BreakerStore(await openBackend(config), breaker, report),
    report,
  );
  if (config.secret) remote = new SignedStore(remote, config.secret, report);
  if (config.readOnly) remote = new ReadOnlyStore(remote);
  return new TieredStore(local, remote, report, cacheDir, config.writeGraceMs);
}

function storeHint(): string {
  return `use one of ${Object.keys(BACKENDS)
    .map((s) => `${s}://`)
    .join(", ")}`;
}
