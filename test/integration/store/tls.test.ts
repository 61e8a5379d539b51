/** TLS: grpcs:// and https:// stores on bazel-remote with its own certificate, trusted by ca_cert. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { sha256Hex } from "../../../src/cache/engine/digest.ts";
import type { StoreConfig } from "../../../src/cache/engine/store-config.ts";
import { openBackend } from "../../../src/cache/store/open.ts";
import type { ReapiStore } from "../../../src/cache/store/reapi.ts";
import { type BazelRemote, startBazelRemote } from "./servers.ts";

let server: BazelRemote;
beforeAll(async () => {
  server = await startBazelRemote(undefined, true);
});
afterAll(async () => {
  await server?.stop();
});

const config = (url: string, options: Record<string, string> = {}): StoreConfig => ({
  url,
  source: "test",
  readOnly: false,
  options,
  connectTimeoutMs: 500,
  requestTimeoutMs: 5000,
  retryAfterMs: 60_000,
  writeGraceMs: 250,
  ignored: [],
});

for (const side of ["grpc", "http"] as const) {
  test(`${side} over TLS: round trip with the server's certificate trusted, refused without it`, async () => {
    const url = side === "grpc" ? server.grpc : server.http;
    const store = await openBackend(config(url, { ca_cert: server.cert! }));
    const blob = new TextEncoder().encode(`over TLS ${side}`);
    await store.putBlob(sha256Hex(blob), blob);
    expect(Buffer.from((await store.getBlob(sha256Hex(blob)))!).toString()).toBe(`over TLS ${side}`);
    (store as Partial<ReapiStore>).close?.();

    const untrusted = await openBackend(config(url));
    const failed = await untrusted.getAction(sha256Hex("any")).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(failed?.message).toMatch(/certificate|self.signed|SSL|TLS|no connection/i);
    (untrusted as Partial<ReapiStore>).close?.();
  });
}
