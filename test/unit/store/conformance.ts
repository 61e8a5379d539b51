/**
 * The conformance suite every store backend passes: call it from a test file per backend with a
 * factory that gives a fresh, empty store.
 */
import { describe, expect, test } from "bun:test";
import { sha256Hex } from "../../../src/cache/engine/digest.ts";
import { type ActionResult, CorruptEntry, type Store } from "../../../src/cache/store/store.ts";

export interface BackendHooks {
  /** Damages the stored blob's bytes in place (for the verification test). */
  corruptBlob(store: Store, digest: string): void;
  corruptAction(store: Store, key: string): void;
}

export function storeConformance(
  name: string,
  fresh: () => Promise<Store> | Store,
  hooks: BackendHooks,
): void {
  const blob = new TextEncoder().encode("fn main() {}\n".repeat(100));
  const digest = sha256Hex(blob);
  const key = sha256Hex("action");
  const result: ActionResult = {
    outputs: [{ path: "libfoo-0123.rlib", digest, size: blob.length, mode: 0o644 }],
    stderr: sha256Hex("warning"),
    compileMs: 1234,
  };

  describe(`store conformance: ${name}`, () => {
    test("a missing action and blob read as undefined", async () => {
      const store = await fresh();
      expect(await store.getAction(key)).toBeUndefined();
      expect(await store.getBlob(digest)).toBeUndefined();
      expect(await store.hasBlob(digest)).toBe(false);
    });

    test("round-trips actions and blobs", async () => {
      const store = await fresh();
      await store.putBlob(digest, blob);
      await store.putAction(key, result);
      expect(await store.hasBlob(digest)).toBe(true);
      expect(Buffer.from((await store.getBlob(digest))!)).toEqual(Buffer.from(blob));
      expect(await store.getAction(key)).toEqual(result);
    });

    test("storing the same blob twice is harmless", async () => {
      const store = await fresh();
      await store.putBlob(digest, blob);
      await store.putBlob(digest, blob);
      expect(Buffer.from((await store.getBlob(digest))!)).toEqual(Buffer.from(blob));
    });

    test("a damaged blob is never returned, and is removed", async () => {
      const store = await fresh();
      await store.putBlob(digest, blob);
      hooks.corruptBlob(store, digest);
      await expect(store.getBlob(digest)).rejects.toBeInstanceOf(CorruptEntry);
      expect(await store.hasBlob(digest)).toBe(false);
    });

    test("a damaged action record is never returned, and is removed", async () => {
      const store = await fresh();
      await store.putAction(key, result);
      hooks.corruptAction(store, key);
      await expect(store.getAction(key)).rejects.toBeInstanceOf(CorruptEntry);
      expect(await store.getAction(key)).toBeUndefined();
    });

    test("concurrent writers of the same entries leave a whole entry", async () => {
      const store = await fresh();
      await Promise.all(
        Array.from({ length: 20 }, () =>
          Promise.all([store.putBlob(digest, blob), store.putAction(key, result)]),
        ),
      );
      expect(await store.getAction(key)).toEqual(result);
      expect(sha256Hex((await store.getBlob(digest))!)).toBe(digest);
    });
  });
}
