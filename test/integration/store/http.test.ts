/** The HTTP stores against real servers: bazel-remote's HTTP protocol and nginx's WebDAV. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../../../src/cache/engine/digest.ts";
import { HttpStore } from "../../../src/cache/store/http.ts";
import { GALLEY_TYPE_URL } from "../../../src/cache/store/reapi/action-result.ts";
import { BinaryWriter, WireType } from "../../../src/cache/store/reapi/wire.ts";
import type { Store } from "../../../src/cache/store/store.ts";
import { storeConformance } from "../../unit/store/conformance.ts";
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

/** Flips the last byte of a file in place. */
export function damage(path: string): void {
  const bytes = readFileSync(path);
  bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
  writeFileSync(path, bytes);
}

/** bazel-remote's file for a CAS blob (uncompressed storage mode). */
export function bazelBlobFile(server: BazelRemote, digest: string): string {
  const dir = join(server.cacheDir, "cas.v2", digest.slice(0, 2));
  const name = readdirSync(dir).find((f) => f.startsWith(digest));
  if (!name) throw new Error(`no file for ${digest} in ${dir}`);
  return join(dir, name);
}

/** A valid REAPI ActionResult (the server takes it) whose galley entry is cut short. */
export function damagedRecord(): Uint8Array {
  const w = new BinaryWriter();
  w.tag(9, WireType.LengthDelimited).fork();
  w.tag(11, WireType.LengthDelimited).fork();
  w.tag(1, WireType.LengthDelimited).string(GALLEY_TYPE_URL);
  w.tag(2, WireType.LengthDelimited).bytes(new Uint8Array([0x08]));
  w.join().join();
  return w.finish();
}

storeConformance(
  "bazel-remote HTTP",
  fresh(() => bazel.http, "bazel"),
  {
    corruptBlob(_store: Store, digest: string) {
      damage(bazelBlobFile(bazel, digest));
    },
    corruptAction(_store: Store, key: string) {
      const p = Bun.spawnSync(["curl", "-sf", "-XPUT", "--data-binary", "@-", `${bazel.http}/ac/${key}`], {
        stdin: damagedRecord(),
      });
      if (p.exitCode !== 0) throw new Error("bazel-remote refused the damaged record");
    },
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
