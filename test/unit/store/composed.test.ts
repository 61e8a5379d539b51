/** The stores that wrap stores pass the one conformance suite, composed as `galley` composes them. */
import { afterAll } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Breaker, BreakerStore } from "../../../src/cache/store/breaker.ts";
import { DiskStore } from "../../../src/cache/store/disk.ts";
import { ReadOnlyStore } from "../../../src/cache/store/read-only.ts";
import { newReport } from "../../../src/cache/store/report.ts";
import { SignedStore } from "../../../src/cache/store/signed.ts";
import type { Store } from "../../../src/cache/store/store.ts";
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
});
