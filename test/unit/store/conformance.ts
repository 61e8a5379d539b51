/**
 * The conformance suite every store backend passes: call it from a test file per backend with a
 * factory that gives a fresh, empty store.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256Hex } from "../../../src/cache/engine/digest.ts";
import type { StoreConfig } from "../../../src/cache/engine/store-config.ts";
import { FileBlobSink } from "../../../src/cache/store/blob-sink.ts";
import {
  type ActionResult,
  CorruptEntry,
  carriedBytes,
  getBlobs,
  namedBlobs,
  putBlobs,
  putResults,
  type Store,
} from "../../../src/cache/store/store.ts";

/** A shared store's configuration for tests: short time-outs, no retry within a test. */
export function testConfig(url: string, options: Record<string, string> = {}): StoreConfig {
  return {
    url,
    source: "test",
    readOnly: false,
    options,
    connectTimeoutMs: 1000,
    requestTimeoutMs: 5000,
    retryAfterMs: 60_000,
    writeGraceMs: 250,
    ignored: [],
  };
}

export interface BackendHooks {
  /** Damages the stored blob's bytes in place (for the verification test). */
  corruptBlob(store: Store, digest: string): void | Promise<void>;
  corruptAction(store: Store, key: string): void | Promise<void>;
  /** The store signs what it writes: a record comes back checked, without a signature. */
  signs?: boolean;
  /** Local disk underneath: what it holds this machine checked, and reads are not bounded by sizes. */
  local?: boolean;
}

/**
 * What a promise rejects with. (bun's `expect(promise).rejects` holds back the I/O of libraries
 * built on node:http2, such as gRPC's, until their deadline: awaited here instead.)
 */
async function failureOf(p: Promise<unknown>): Promise<unknown> {
  return await p.then(
    () => undefined,
    (e: unknown) => e,
  );
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

    test("blobs stored and read in a batch; missing ones are absent", async () => {
      const store = await fresh();
      const many = new Map(
        Array.from({ length: 5 }, (_, i) => new TextEncoder().encode(`blob ${i}\n`.repeat(i + 1))).map(
          (b) => [sha256Hex(b), b] as const,
        ),
      );
      await putBlobs(store, many);
      const absent = sha256Hex("never stored");
      const read = await getBlobs(store, [...many.keys(), absent]);
      expect(read.has(absent)).toBe(false);
      expect(read.size).toBe(many.size);
      for (const [d, b] of many) expect(Buffer.from(read.get(d)!)).toEqual(Buffer.from(b));
    });

    test("a record keeps an output's inline bytes", async () => {
      const store = await fresh();
      const inline: ActionResult = {
        outputs: [{ ...result.outputs[0]!, inline: Buffer.from(blob).toString("base64") }],
        compileMs: 0,
      };
      await store.putBlob(digest, blob);
      await store.putAction(key, inline);
      expect(await store.getAction(key)).toEqual(inline);
    });

    test("results stored with their blobs read back whole: every blob a record names is there", async () => {
      const store = await fresh();
      const stderr = new TextEncoder().encode("warning: unused\n");
      const big = new Uint8Array(40 * 1024).map((_, i) => i % 251);
      const named: ActionResult = {
        outputs: [
          { path: "libsmall.rmeta", digest, size: blob.length, mode: 0o644 },
          { path: "libbig.rlib", digest: sha256Hex(big), size: big.length, mode: 0o644 },
        ],
        stderr: sha256Hex(stderr),
        stderrSize: stderr.length,
        compileMs: 7,
      };
      const blobs = new Map([
        [digest, blob],
        [sha256Hex(big), big],
        [sha256Hex(stderr), stderr],
      ]);
      await putResults(store, blobs, [{ key, result: named }]);
      const read = (await store.getAction(key))!;
      const { carried, signature: _, ...rest } = read;
      expect(rest).toEqual(named);
      const fetched = await getBlobs(
        store,
        namedBlobs(read).filter((d) => !carried?.[d]),
      );
      for (const [d, b] of blobs)
        expect(Buffer.from(carriedBytes(read, d) ?? fetched.get(d)!)).toEqual(Buffer.from(b));
    });

    test("a record keeps its signature", async () => {
      const store = await fresh();
      const signed: ActionResult = { ...result, signature: sha256Hex("a signature") };
      await store.putBlob(digest, blob);
      await store.putAction(key, signed);
      const read = await store.getAction(key);
      // A signing store checks its own signature and hands the record on without it.
      expect(read).toEqual(hooks.signs ? result : signed);
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
      await hooks.corruptBlob(store, digest);
      // The damaged bytes never come back: the store finds the damage (CorruptEntry), or a server
      // that checks what it serves (bazel-remote under load) no longer has the blob.
      const read = await store.getBlob(digest).then(
        (bytes) => bytes,
        (err: unknown) => err,
      );
      expect(read instanceof CorruptEntry || read === undefined).toBe(true);
      expect(await store.hasBlob(digest)).toBe(false);
    });

    test("a damaged action record is never returned, and is removed", async () => {
      const store = await fresh();
      await store.putAction(key, result);
      await hooks.corruptAction(store, key);
      expect(await failureOf(store.getAction(key))).toBeInstanceOf(CorruptEntry);
      expect(await store.getAction(key)).toBeUndefined();
    });

    test("a blob larger than the size declared for it is never returned", async () => {
      const store = await fresh();
      // A local store holds what this machine checked: only what comes over the wire is bounded.
      if (store.localBlobPath || hooks.local) return;
      await store.putBlob(digest, blob);
      const read = await getBlobs(store, [digest], new Map([[digest, 100]])).then(
        (found) => found.get(digest),
        (err: unknown) => err,
      );
      expect(read instanceof CorruptEntry || read === undefined).toBe(true);
    });

    test("a big blob streams in from its file and out to a file, checked on the way", async () => {
      const store = await fresh();
      if (!store.writeBlobFrom || !store.readBlobTo) return;
      const dir = mkdtempSync(join(tmpdir(), "galley-stream-"));
      try {
        // 9 MiB, half random (zstd cannot shrink it) and half repeated: several ranges and frames.
        const big = new Uint8Array(9 * 2 ** 20);
        for (let i = 0; i < big.length / 2; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
        const bigDigest = sha256Hex(big);
        writeFileSync(join(dir, "in"), big);
        await store.writeBlobFrom(bigDigest, big.length, join(dir, "in"));
        const sink = new FileBlobSink(bigDigest, big.length, join(dir, "tmp"), () => {});
        expect(await store.readBlobTo(bigDigest, big.length, sink)).toBe(true);
        sink.commit("test");
        expect(sha256Hex(readFileSync(join(dir, "tmp")))).toBe(bigDigest);
        // Declared smaller than it is: the read stops there (a REAPI server addresses blobs by hash
        // and size: it has no such blob, or sends that many bytes) and nothing is kept.
        const short = new FileBlobSink(bigDigest, 2 ** 20, join(dir, "short"), () => {});
        const outcome = await store.readBlobTo(bigDigest, 2 ** 20, short).catch((e: unknown) => e);
        if (outcome === true) expect(() => short.commit("test")).toThrow(CorruptEntry);
        else {
          expect(outcome === false || outcome instanceof Error).toBe(true);
          short.abort();
        }
        const missing = new FileBlobSink(sha256Hex("none"), 10, join(dir, "none"), () => {});
        expect(await store.readBlobTo(sha256Hex("none"), 10, missing)).toBe(false);
        missing.abort();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
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
