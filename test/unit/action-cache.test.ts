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
