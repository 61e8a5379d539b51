/**
 * Restores from the local store: big outputs are copied from blobs whose digest is memoised by the
 * blob's stamp, so a hit need not hash them; damage to a blob changes its stamp and is still found.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ActionCache, type ActionSpec } from "../../src/cache/engine/action-cache.ts";
import { sha256Hex } from "../../src/cache/engine/digest.ts";
import { FileDigests } from "../../src/cache/engine/file-digest.ts";
import type { StatEvent } from "../../src/cache/engine/stats.ts";
import { DiskStore } from "../../src/cache/store/disk.ts";
import { removeDir, tempDir } from "../helpers.ts";

const dir = tempDir("galley-action-cache-");
afterAll(() => removeDir(dir));
const cacheDir = join(dir, "cache");
const out = join(dir, "out");
mkdirSync(out);

const spec: ActionSpec = { label: "big", base: { format: "test", args: "1" }, root: out };
/** 3 MiB: over the size whose digest is memoised. */
const big = new Uint8Array(3 << 20).map((_, i) => (i * 7919) % 251);
const small = new TextEncoder().encode("#!/bin/sh\necho hi\n");

function fresh(): { cache: ActionCache; event: StatEvent } {
  const event: StatEvent = { outcome: "miss" };
  const cache = new ActionCache(new DiskStore(cacheDir), cacheDir, new FileDigests(cacheDir), dir, {}, event);
  return { cache, event };
}

test("a hit restores big and small outputs whole, with their modes", async () => {
  await fresh().cache.save(
    spec,
    { files: [], env: [] },
    [
      { name: "libbig.rlib", bytes: big, mode: 0o644 },
      { name: "tool", bytes: small, mode: 0o755 },
    ],
    { stdout: new Uint8Array(), stderr: new Uint8Array() },
  );
  rmSync(join(out, "libbig.rlib"), { force: true });
  rmSync(join(out, "tool"), { force: true });
  expect(await fresh().cache.lookup(spec)).toBe("hit");
  expect(sha256Hex(readFileSync(join(out, "libbig.rlib")))).toBe(sha256Hex(big));
  expect(readFileSync(join(out, "tool"))).toEqual(Buffer.from(small));
  expect(statSync(join(out, "tool")).mode & 0o777).toBe(0o755);
  expect(statSync(join(out, "libbig.rlib")).mode & 0o777).toBe(0o644);
});

test("a big blob damaged in place after its digest was memoised is never restored, and is removed", async () => {
  const cas = join(cacheDir, "v1", "cas");
  const blob = readdirSync(cas)
    .flatMap((shard) => readdirSync(join(cas, shard)).map((f) => join(cas, shard, f)))
    .find((f) => statSync(f).size === big.length)!;
  Bun.sleepSync(20); // the damage lands on a later clock tick than the memoised stamp, as any later write does
  const bytes = readFileSync(blob);
  bytes[1 << 20] = bytes[1 << 20]! ^ 0xff;
  writeFileSync(blob, bytes);
  rmSync(join(out, "libbig.rlib"), { force: true });
  const { cache, event } = fresh();
  expect(await cache.lookup(spec)).toBe("inputs-changed");
  expect(event.corrupt).toBe(1);
  expect(existsSync(blob)).toBe(false);
  // All or nothing: no output of the damaged entry was written.
  expect(existsSync(join(out, "libbig.rlib"))).toBe(false);
});

/** Every file under the store's `kind` directory (`ac` or `cas`). */
const entries = (kind: string) => {
  const root = join(cacheDir, "v1", kind);
  return existsSync(root) ? readdirSync(root).flatMap((s) => readdirSync(join(root, s))) : [];
};

test("small outputs, stderr and the manifest travel inside the records; a hit restores them byte for byte", async () => {
  rmSync(cacheDir, { recursive: true, force: true });
  const smallSpec: ActionSpec = { label: "small", base: { format: "test", args: "2" }, root: out };
  const lib = new Uint8Array(12 * 1024).map((_, i) => i % 253);
  const stderr = new TextEncoder().encode('{"$message_type":"artifact"}\n');
  await fresh().cache.save(
    smallSpec,
    { files: [], env: [] },
    [
      { name: "libsmall.rlib", bytes: lib, mode: 0o644 },
      { name: "libbig.rlib", bytes: big, mode: 0o644 },
    ],
    { stdout: new Uint8Array(), stderr },
  );
  // One blob file (the big output) and two records (the result, and the direct-mode manifest).
  expect(entries("cas")).toEqual([sha256Hex(big)]);
  expect(entries("ac")).toHaveLength(2);
  rmSync(join(out, "libsmall.rlib"), { force: true });
  rmSync(join(out, "libbig.rlib"), { force: true });
  expect(await fresh().cache.lookup(smallSpec)).toBe("hit");
  expect(readFileSync(join(out, "libsmall.rlib"))).toEqual(Buffer.from(lib));
  expect(sha256Hex(readFileSync(join(out, "libbig.rlib")))).toBe(sha256Hex(big));
});

test("a record whose carried blob is damaged is never restored, and is removed", async () => {
  const smallSpec: ActionSpec = { label: "small", base: { format: "test", args: "2" }, root: out };
  const ac = join(cacheDir, "v1", "ac");
  const record = readdirSync(ac)
    .flatMap((s) => readdirSync(join(ac, s)).map((f) => join(ac, s, f)))
    .find(
      (f) => readFileSync(f, "utf8").includes('"carried"') && readFileSync(f, "utf8").includes("libsmall"),
    )!;
  const value = JSON.parse(readFileSync(record, "utf8")) as { carried: Record<string, string> };
  const [digest, b64] = Object.entries(value.carried).find(([, b]) => b.length > 1000)!;
  const bytes = Buffer.from(b64, "base64");
  bytes[5] = bytes[5]! ^ 0xff;
  value.carried[digest] = bytes.toString("base64");
  writeFileSync(record, JSON.stringify(value));
  rmSync(join(out, "libsmall.rlib"), { force: true });
  const { cache, event } = fresh();
  expect(await cache.lookup(smallSpec)).toBe("inputs-changed");
  expect(event.corrupt).toBe(1);
  expect(existsSync(record)).toBe(false);
  expect(existsSync(join(out, "libsmall.rlib"))).toBe(false);
});
