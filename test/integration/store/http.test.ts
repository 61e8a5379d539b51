/** The HTTP stores against real servers: bazel-remote's HTTP protocol and nginx's WebDAV. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../../../src/cache/engine/digest.ts";
import { HttpStore } from "../../../src/cache/store/http.ts";
import type { Store } from "../../../src/cache/store/store.ts";
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
