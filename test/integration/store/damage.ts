/** Damaging entries on a server's disk, for the tests that check a store never restores them. */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GALLEY_TYPE_URL } from "../../../src/cache/store/reapi/action-result.ts";
import { BinaryWriter, WireType } from "../../../src/cache/store/reapi/wire.ts";
import type { BackendHooks } from "../../unit/store/conformance.ts";
import type { BazelRemote } from "./servers.ts";

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

/** The conformance hooks for any store on bazel-remote: damage a blob on its disk, a record through its HTTP side. */
export function bazelRemoteHooks(server: () => BazelRemote): BackendHooks {
  return {
    corruptBlob(_store, digest) {
      damage(bazelBlobFile(server(), digest));
    },
    corruptAction(_store, key) {
      const p = Bun.spawnSync(["curl", "-sf", "-XPUT", "--data-binary", "@-", `${server().http}/ac/${key}`], {
        stdin: damagedRecord(),
      });
      if (p.exitCode !== 0) throw new Error("bazel-remote refused the damaged record");
    },
  };
}
