import { afterAll, expect, test } from "bun:test";
import { readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../../src/cache/engine/digest.ts";
import { FileDigests } from "../../src/cache/engine/file-digest.ts";
import { removeDir, tempDir } from "../helpers.ts";

const dir = tempDir("galley-digests-");
afterAll(() => removeDir(dir));
const cacheDir = join(dir, "cache");

function inGroup(name: string, path: string): string | undefined {
  const d = new FileDigests(cacheDir);
  d.openGroup(name);
  const digest = d.sourceDigest(path);
  d.closeGroup();
  return digest;
}

const memoOf = (name: string): Record<string, string> =>
  JSON.parse(readFileSync(join(cacheDir, "v1", "digests", "units", name), "utf8"));

test("a unit's sources are memoised together, and a same-size edit is still seen", () => {
  const src = join(dir, "lib.rs");
  writeFileSync(src, "fn a() {}");
  const old = new Date(Date.now() - 60_000);
  utimesSync(src, old, old);
  Bun.sleepSync(150); // its ctime is the moment of utimes: wait until the file is not racy
  expect(inGroup("unit-a", src)).toBe(sha256Hex("fn a() {}"));
  expect(Object.keys(memoOf("unit-a"))).toEqual([src]);
  // Same size, same mtime: the ctime (and, for a rename, the inode) still tell the edit apart.
  writeFileSync(src, "fn b() {}");
  utimesSync(src, old, old);
  expect(inGroup("unit-a", src)).toBe(sha256Hex("fn b() {}"));
  Bun.sleepSync(150);
  expect(inGroup("unit-a", src)).toBe(sha256Hex("fn b() {}"));
  expect(memoOf("unit-a")[src]).toEndWith(sha256Hex("fn b() {}"));
});

test("a file changed a moment ago is hashed but not memoised (its stamp may not change yet)", () => {
  const src = join(dir, "fresh.rs");
  writeFileSync(src, "fn fresh() {}");
  expect(inGroup("unit-fresh", src)).toBe(sha256Hex("fn fresh() {}"));
  const units = readdirSync(join(cacheDir, "v1", "digests", "units"));
  expect(units.includes("unit-fresh") ? memoOf("unit-fresh") : {}).toEqual({});
});

test("a missing source reads as missing, and a damaged memo is ignored", () => {
  expect(inGroup("unit-gone", join(dir, "nope.rs"))).toBeUndefined();
  const src = join(dir, "kept.rs");
  writeFileSync(src, "fn kept() {}");
  const old = new Date(Date.now() - 60_000);
  utimesSync(src, old, old);
  Bun.sleepSync(150);
  writeFileSync(join(cacheDir, "v1", "digests", "units", "unit-torn"), '{"oops": ');
  expect(inGroup("unit-torn", src)).toBe(sha256Hex("fn kept() {}"));
});

test("a dependency's output of 64 KiB or more is memoised on its own", () => {
  const rmeta = join(dir, "libdep.rmeta");
  const bytes = new Uint8Array(300 * 1024).map((_, i) => (i * 7) % 251);
  writeFileSync(rmeta, bytes);
  const old = new Date(Date.now() - 60_000);
  utimesSync(rmeta, old, old);
  Bun.sleepSync(150);
  // Hashed once, then answered by its memo: a memo whose digest was swapped for another is what a
  // second process sees.
  expect(new FileDigests(cacheDir).digest(rmeta)).toBe(sha256Hex(bytes));
  const memoDir = join(cacheDir, "v1", "digests");
  const memo = readdirSync(memoDir, { recursive: true, encoding: "utf8" })
    .map((f) => join(memoDir, f))
    .find((f) => /\/[0-9a-f]{64}$/.test(f) && readFileSync(f, "utf8").endsWith(sha256Hex(bytes)));
  expect(memo).toBeDefined();
  const swapped = sha256Hex("another");
  writeFileSync(memo!, readFileSync(memo!, "utf8").replace(sha256Hex(bytes), swapped));
  expect(new FileDigests(cacheDir).digest(rmeta)).toBe(swapped);
  // A small one is hashed every time, never memoised.
  const small = join(dir, "libsmall.rmeta");
  writeFileSync(small, "tiny");
  utimesSync(small, old, old);
  Bun.sleepSync(150);
  const before = readdirSync(memoDir, { recursive: true }).length;
  expect(new FileDigests(cacheDir).digest(small)).toBe(sha256Hex("tiny"));
  expect(readdirSync(memoDir, { recursive: true }).length).toBe(before);
});

test("a big file a group does not know yet is answered by its own memo, which the group then keeps", () => {
  const blob = join(dir, "blob.rlib");
  const bytes = new Uint8Array(200 * 1024).map((_, i) => (i * 13) % 251);
  writeFileSync(blob, bytes);
  const old = new Date(Date.now() - 60_000);
  utimesSync(blob, old, old);
  Bun.sleepSync(150);
  // Its own memo, as the store writes one for a big blob it stores; swapped, to see it is used.
  expect(new FileDigests(cacheDir).digest(blob)).toBe(sha256Hex(bytes));
  const memoDir = join(cacheDir, "v1", "digests");
  const memo = readdirSync(memoDir, { recursive: true, encoding: "utf8" })
    .map((f) => join(memoDir, f))
    .find((f) => /\/[0-9a-f]{64}$/.test(f) && readFileSync(f, "utf8").endsWith(sha256Hex(bytes)))!;
  const swapped = sha256Hex("swapped");
  writeFileSync(memo, readFileSync(memo, "utf8").replace(sha256Hex(bytes), swapped));
  expect(inGroup("unit-blob", blob)).toBe(swapped);
  expect(memoOf("unit-blob")[blob]).toEndWith(swapped);
});
