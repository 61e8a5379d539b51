import { expect, test } from "bun:test";
import { sha256Hex } from "../../../src/cache/engine/digest.ts";
import { DiskStore } from "../../../src/cache/store/disk.ts";
import { newReport } from "../../../src/cache/store/report.ts";
import { SignedStore, signatureOf } from "../../../src/cache/store/signed.ts";
import type { ActionResult } from "../../../src/cache/store/store.ts";
import { recordProblem } from "../../../src/cache/store/untrusted.ts";
import { tempDir } from "../../helpers.ts";

const digest = sha256Hex("x");
const record = (path: string, extra: Partial<ActionResult["outputs"][0]> = {}): ActionResult => ({
  outputs: [{ path, digest, size: 1, mode: 0o644, ...extra }],
  compileMs: 1,
});

test("records with unsafe outputs are refused with the reason", () => {
  expect(recordProblem(record("deps/libfoo.rlib"))).toBeUndefined();
  expect(recordProblem(record("../../.bashrc"))).toContain("climbs out");
  expect(recordProblem(record("deps/../../x"))).toContain("climbs out");
  expect(recordProblem(record("/etc/passwd"))).toContain("not relative");
  expect(recordProblem(record("a\\..\\b"))).toContain("not relative");
  expect(recordProblem(record("big", { size: 2 ** 40 }))).toContain("size");
  expect(recordProblem(record("suid", { mode: 0o4755 }))).toContain("mode");
  expect(recordProblem({ outputs: "x", compileMs: 1 })).toBe("malformed fields");
  expect(recordProblem({ ...record("a"), compileMs: -1 })).toContain("compile time");
});

test("a signing store ignores unsigned records and records signed with another secret, and counts them", async () => {
  const disk = new DiskStore(tempDir("galley-signed-"));
  const report = newReport();
  const store = new SignedStore(disk, "ours", report);
  const key = sha256Hex("k");
  await disk.putAction(key, record("a"));
  expect(await store.getAction(key)).toBeUndefined();
  await disk.putAction(key, { ...record("a"), signature: signatureOf("theirs", key, record("a")) });
  expect(await store.getAction(key)).toBeUndefined();
  expect(report.unsigned).toBe(2);
  await store.putAction(key, record("a"));
  expect(await store.getAction(key)).toEqual(record("a"));
  // The signature covers the key: a record copied under another key is refused.
  const other = sha256Hex("other");
  await disk.putAction(other, (await disk.getAction(key))!);
  expect(await store.getAction(other)).toBeUndefined();
});
