/** The stores that wrap stores pass the one conformance suite, composed as `galley` composes them. */
import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../../../src/cache/engine/digest.ts";
import { Breaker, BreakerStore } from "../../../src/cache/store/breaker.ts";
import { DiskStore } from "../../../src/cache/store/disk.ts";
import { ReadOnlyStore } from "../../../src/cache/store/read-only.ts";
import { newReport } from "../../../src/cache/store/report.ts";
import { SignedStore } from "../../../src/cache/store/signed.ts";
import { type ActionResult, carriedBytes, putResults, type Store } from "../../../src/cache/store/store.ts";
import { TieredStore } from "../../../src/cache/store/tiered.ts";
import { UntrustedStore } from "../../../src/cache/store/untrusted.ts";
import { removeDir, tempDir } from "../../helpers.ts";
import { type BackendHooks, storeConformance, testConfig } from "./conformance.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) removeDir(d);
});

function disk(): DiskStore {
  const d = tempDir("galley-composed-");
  dirs.push(d);
  return new DiskStore(d);
}

/** Every DiskStore under a composed store, found through the wrappers' fields. */
function disks(store: Store): DiskStore[] {
  if (store instanceof DiskStore) return [store];
  const inner = store as unknown as Record<string, unknown>;
  return ["local", "remote", "inner"].flatMap((f) =>
    inner[f] && typeof inner[f] === "object" ? disks(inner[f] as Store) : [],
  );
}
const file = (s: DiskStore, kind: string, key: string) => join(s.dir, "v1", kind, key.slice(0, 2), key);

/** Damages the entry in every tier that holds it. */
const everywhere: BackendHooks = {
  corruptBlob(store, digest) {
    for (const d of disks(store)) {
      try {
        const bytes = readFileSync(file(d, "cas", digest));
        bytes[10] = bytes[10]! ^ 0xff;
        writeFileSync(file(d, "cas", digest), bytes);
      } catch {}
    }
  },
  corruptAction(store, key) {
    for (const d of disks(store)) {
      try {
        writeFileSync(file(d, "ac", key), '{"outputs": [');
      } catch {} // not in this tier (a read-only one)
    }
  },
};

/** What a shared store becomes before it is put behind the local one. */
function guarded(remote: Store, report = newReport()): Store {
  const dir = tempDir("galley-breaker-");
  dirs.push(dir);
  return new UntrustedStore(
    new BreakerStore(remote, new Breaker(dir, testConfig("test://")), report),
    report,
  );
}

storeConformance(
  "tiered (disk in front of disk)",
  () => new TieredStore(disk(), guarded(disk()), newReport()),
  everywhere,
);
storeConformance(
  "tiered with a read-only shared store",
  () => new TieredStore(disk(), new ReadOnlyStore(guarded(disk())), newReport()),
  everywhere,
);
storeConformance(
  "tiered with a signed shared store",
  () => new TieredStore(disk(), new SignedStore(guarded(disk()), "secret", newReport()), newReport()),
  everywhere,
);
storeConformance("signed", () => new SignedStore(disk(), "secret", newReport()), {
  ...everywhere,
  signs: true,
  local: true,
});

test("the local store carries a result's small blobs in its record; the shared store gets every blob as its own entry", async () => {
  const local = disk();
  const shared = disk();
  const store = new TieredStore(local, guarded(shared), newReport());
  const small = new TextEncoder().encode("warning: unused variable\n");
  const big = new Uint8Array(64 * 1024).map((_, i) => i % 249);
  const result: ActionResult = {
    outputs: [{ path: "libbig.rlib", digest: sha256Hex(big), size: big.length, mode: 0o644 }],
    stderr: sha256Hex(small),
    compileMs: 3,
  };
  const key = sha256Hex("carried");
  await putResults(
    store,
    new Map([
      [sha256Hex(small), small],
      [sha256Hex(big), big],
    ]),
    [{ key, result }],
  );
  expect(await local.hasBlob(sha256Hex(small))).toBe(false);
  expect(await local.hasBlob(sha256Hex(big))).toBe(true);
  expect(carriedBytes((await local.getAction(key))!, sha256Hex(small))).toEqual(Buffer.from(small));
  for (const d of [sha256Hex(small), sha256Hex(big)]) expect(await shared.hasBlob(d)).toBe(true);
  // What another machine reads from the shared store names no carried blobs.
  expect(await shared.getAction(key)).toEqual(result);
});
