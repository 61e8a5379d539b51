/**
 * Prefill records through a shared store (a disk store stands in for the server here: the same
 * Store interface every backend implements, conformance-tested elsewhere; real servers in
 * test/integration/store/shared-build.test.ts): what one machine
 * publishes another takes, with its blobs, and a record that would write outside the cargo
 * command's places is refused.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { sha256Hex } from "../../src/cache/engine/digest.ts";
import type { CargoCall } from "../../src/cache/prefill/cargo-call.ts";
import { fetchIndex, publishIndex } from "../../src/cache/prefill/shared-index.ts";
import { readRecords, type UnitRecord, writeRecordText } from "../../src/cache/prefill/unit-record.ts";
import { DiskStore } from "../../src/cache/store/disk.ts";
import { newReport } from "../../src/cache/store/report.ts";
import { TieredStore } from "../../src/cache/store/tiered.ts";
import { removeDir, tempDir } from "../helpers.ts";

const work = tempDir("galley-prefill-index-");
afterAll(() => removeDir(work));

const KEY = sha256Hex("a cargo command");
const RLIB = new Uint8Array(64 * 1024).fill(7);

function record(profileDir: string): UnitRecord {
  return {
    v: 1,
    unit: "itoa-0123456789abcdef",
    profileDir,
    fingerprint: { "lib-itoa": Buffer.from("0123456789abcdef").toString("base64") },
    files: [
      { path: "deps/libitoa-0123456789abcdef.rlib", mode: 0o644, size: RLIB.length, digest: sha256Hex(RLIB) },
    ],
    dirs: [],
    label: "itoa",
    compileMs: 100,
  };
}

/** Machine A records a unit and publishes; returns the shared store. */
async function published(profileDir: string): Promise<DiskStore> {
  const a = join(tempDir("galley-machine-a-"), "cache");
  const shared = new DiskStore(join(tempDir("galley-shared-"), "store"));
  await shared.putBlob(sha256Hex(RLIB), RLIB);
  const rec = record(profileDir);
  const text = JSON.stringify(rec);
  await shared.putBlob(sha256Hex(text), Buffer.from(text));
  writeRecordText(a, KEY, rec.unit, text);
  await publishIndex(a, KEY, shared);
  return shared;
}

/** What a wrapper uses: the machine's local store in front of the shared one. */
const tiered = (cacheDir: string, shared: DiskStore) =>
  new TieredStore(new DiskStore(cacheDir), shared, newReport());

const call = (cwd: string, targetDirs: string[] = []): CargoCall => ({
  key: KEY,
  cargoPid: 0,
  cwd,
  targetDirs,
});

describe("prefill records in a shared store", () => {
  test("a fresh machine takes the records and the blobs they name", async () => {
    const shared = await published("/ws/target/release");
    const b = join(tempDir("galley-machine-b-"), "cache");
    expect(await fetchIndex(b, call("/ws"), tiered(b, shared))).toBe(1);
    expect(readRecords(b, KEY).map((r) => r.unit)).toEqual(["itoa-0123456789abcdef"]);
    expect(new DiskStore(b).localBlobPath(sha256Hex(RLIB))).toBeDefined();
  });

  test("a target dir the command names is one of its places", async () => {
    const shared = await published("/builds/t/release");
    const b = join(tempDir("galley-machine-b-"), "cache");
    expect(await fetchIndex(b, call("/ws", ["/builds/t"]), shared)).toBe(1);
  });

  test("a record that would write outside the command's places is refused", async () => {
    for (const profileDir of ["/etc/release", "/ws/../etc/release", "relative/release"]) {
      const shared = await published(profileDir);
      const b = join(tempDir("galley-machine-b-"), "cache");
      expect(await fetchIndex(b, call("/ws"), shared)).toBe(0);
      expect(readRecords(b, KEY)).toEqual([]);
    }
  });

  test("no index for the command: nothing taken", async () => {
    const shared = await published("/ws/target/release");
    const b = join(tempDir("galley-machine-b-"), "cache");
    expect(await fetchIndex(b, { ...call("/ws"), key: sha256Hex("another command") }, shared)).toBe(0);
  });
});
