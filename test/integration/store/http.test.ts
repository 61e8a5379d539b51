/** The HTTP stores against real servers: bazel-remote's HTTP protocol and nginx's WebDAV. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../../../src/cache/engine/digest.ts";
import { HttpStore } from "../../../src/cache/store/http.ts";
import { getBlobs, type Store } from "../../../src/cache/store/store.ts";
import { storeConformance } from "../../unit/store/conformance.ts";
import { bazelRemoteHooks, damage, damagedRecord } from "./damage.ts";
import { type BazelRemote, type Nginx, startBazelRemote, startNginx } from "./servers.ts";

let bazel: BazelRemote;
let nginx: Nginx;
beforeAll(async () => {
  [bazel, nginx] = await Promise.all([startBazelRemote(), startNginx()]);
});
afterAll(async () => {
  await Promise.all([bazel?.stop(), nginx?.stop()]);
});

/** Every store gets its own path on the server, so each test starts empty. */
let n = 0;
const fresh = (base: () => string, flavor: "bazel" | "webdav") => () => {
  n++;
  // bazel-remote has one namespace (no path prefix): fresh keys come from the suite's own names per
  // test, so a prefix is not needed there; WebDAV stores get a directory each.
  return new HttpStore({ url: flavor === "webdav" ? `${base()}/s${n}` : base(), flavor });
};

storeConformance(
  "bazel-remote HTTP",
  fresh(() => bazel.http, "bazel"),
  {
    ...bazelRemoteHooks(() => bazel),
  },
);

storeConformance(
  "nginx WebDAV",
  fresh(() => nginx.url, "webdav"),
  {
    corruptBlob(store: Store, digest: string) {
      damage(join(nginx.root, `s${n}`, "cas", digest));
      void store;
    },
    corruptAction(_store: Store, key: string) {
      writeFileSync(join(nginx.root, `s${n}`, "ac", key), damagedRecord());
    },
  },
);

test("bazel-remote keeps galley's record as a valid ActionResult (it validates /ac/ entries)", async () => {
  const store = new HttpStore({ url: bazel.http, flavor: "bazel" });
  const blob = new TextEncoder().encode("an rlib");
  const digest = sha256Hex(blob);
  await store.putBlob(digest, blob);
  const key = sha256Hex("validated");
  await store.putAction(key, {
    outputs: [{ path: "a.rlib", digest, size: blob.length, mode: 0o755 }],
    compileMs: 7,
  });
  // bazel-remote refuses bytes that are not an ActionResult:
  const bad = await fetch(`${bazel.http}/ac/${sha256Hex("not a record")}`, {
    method: "PUT",
    body: "not a protobuf",
  });
  expect(bad.ok).toBe(false);
  expect(await store.getAction(key)).toEqual({
    outputs: [{ path: "a.rlib", digest, size: blob.length, mode: 0o755 }],
    compileMs: 7,
  });
});

test("a hit costs two record reads and one GET per blob (sent at once); a miss one record read", async () => {
  const writer = new HttpStore({ url: `${nginx.url}/count`, flavor: "webdav" });
  const blobs = new Map(
    ["a", "b", "c"]
      .map((t) => new TextEncoder().encode(`output ${t}`))
      .map((b) => [sha256Hex(b), b] as const),
  );
  for (const [d, b] of blobs) await writer.putBlob(d, b);
  const outputs = [...blobs].map(([digest, b], i) => ({
    path: `o${i}`,
    digest,
    size: b.length,
    mode: 0o644,
  }));
  await writer.putAction(sha256Hex("full"), { outputs, compileMs: 1 });
  const manifest = new TextEncoder().encode("{}");
  await writer.putAction(sha256Hex("base"), {
    outputs: [{ path: "m", digest: sha256Hex(manifest), size: 2, mode: 0o644, inline: "e30=" }],
    compileMs: 0,
  });
  expect(writer.requests).toEqual({ GET: 0, PUT: 5, HEAD: 0, DELETE: 0 });

  const reader = new HttpStore({ url: `${nginx.url}/count`, flavor: "webdav" });
  expect((await reader.getAction(sha256Hex("base")))?.outputs[0]?.inline).toBe("e30=");
  const record = await reader.getAction(sha256Hex("full"));
  const read = await getBlobs(
    reader,
    record!.outputs.map((o) => o.digest),
  );
  expect(read.size).toBe(3);
  expect(reader.requests).toEqual({ GET: 5, PUT: 0, HEAD: 0, DELETE: 0 });

  const missing = new HttpStore({ url: `${nginx.url}/count`, flavor: "webdav" });
  expect(await missing.getAction(sha256Hex("never"))).toBeUndefined();
  expect(missing.requests.GET).toBe(1);
});

test("sccache's SCCACHE_WEBDAV_* variables open a WebDAV store, with basic auth and the key prefix", async () => {
  const { storeConfig } = await import("../../../src/cache/engine/store-config.ts");
  const { openBackend } = await import("../../../src/cache/store/open.ts");
  const config = await storeConfig({
    HOME: "/nonexistent",
    GALLEY_STORE_SECRETS_FILE: "/nonexistent",
    SCCACHE_WEBDAV_ENDPOINT: nginx.url,
    SCCACHE_WEBDAV_KEY_PREFIX: "sccache-prefix",
  });
  const store = await openBackend(config!);
  expect(store.name).toBe(`webdav ${nginx.url}/sccache-prefix`);
  const blob = new TextEncoder().encode("through sccache's names");
  await store.putBlob(sha256Hex(blob), blob);
  expect(readFileSync(join(nginx.root, "sccache-prefix", "cas", sha256Hex(blob)), "utf8")).toBe(
    "through sccache's names",
  );
});
