import { afterAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { expandDirGlob, hasGlobMeta } from "../../src/cargo/glob.ts";
import { removeDir, tempDir } from "../helpers.ts";

const root = tempDir();
for (const d of ["crates/a", "crates/b2", "crates/.hidden", "tools/x/inner", "tools/y", "crates/a/nested"]) {
  mkdirSync(join(root, d), { recursive: true });
}
afterAll(() => removeDir(root));

test("star, question mark, classes and ** match directories like cargo's glob", () => {
  expect(expandDirGlob(root, "crates/*")).toEqual(["crates/a", "crates/b2"]);
  expect(expandDirGlob(root, "crates/?")).toEqual(["crates/a"]);
  expect(expandDirGlob(root, "crates/[ab]*")).toEqual(["crates/a", "crates/b2"]);
  expect(expandDirGlob(root, "crates/[!a]*")).toEqual(["crates/b2"]);
  expect(expandDirGlob(root, "tools/**")).toEqual(["tools", "tools/x", "tools/x/inner", "tools/y"]);
  expect(expandDirGlob(root, "nothing/*")).toEqual([]);
  expect(hasGlobMeta("crates/a")).toBe(false);
});
