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
