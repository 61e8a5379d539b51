/** The Remote Execution API store against real servers: bazel-remote's gRPC side (and BuildGrid's in reapi-buildgrid). */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { sha256Hex } from "../../../src/cache/engine/digest.ts";
import { ReapiStore } from "../../../src/cache/store/reapi.ts";
import { storeConformance } from "../../unit/store/conformance.ts";
import { bazelRemoteHooks } from "./damage.ts";
import { type BazelRemote, startBazelRemote } from "./servers.ts";

let bazel: BazelRemote;
const opened: ReapiStore[] = [];
beforeAll(async () => {
  bazel = await startBazelRemote();
});
afterAll(async () => {
  for (const s of opened) s.close();
  await bazel?.stop();
});

async function open(options: Partial<Parameters<typeof ReapiStore.open>[0]> = {}): Promise<ReapiStore> {
  const store = await ReapiStore.open({ url: bazel.grpc, ...options });
  opened.push(store);
  return store;
}

storeConformance("bazel-remote gRPC (REAPI)", () => open(), {
  ...bazelRemoteHooks(() => bazel),
});

test("large blobs go through ByteStream, small ones in batches; a hit costs one call per batch", async () => {
  const store = await open({ maxBatchBytes: 64 * 1024 });
  const large = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 7) & 0xff);
  const small = Array.from({ length: 4 }, (_, i) => new TextEncoder().encode(`small ${i}`));
  const blobs = new Map([large, ...small].map((b) => [sha256Hex(b), b] as const));
  await store.putBlobs(blobs);
  expect(store.calls).toMatchObject({ FindMissingBlobs: 1, BatchUpdateBlobs: 1, Write: 1 });

  const reader = await open({ maxBatchBytes: 64 * 1024 });
  const key = sha256Hex("bytestream action");
  await store.putAction(key, {
    outputs: [...blobs].map(([digest, b], i) => ({ path: `out${i}`, digest, size: b.length, mode: 0o644 })),
    compileMs: 1,
  });
  const record = await reader.getAction(key);
  const read = await reader.getBlobs([...blobs.keys()]);
  expect(read.size).toBe(blobs.size);
  for (const [d, b] of blobs) expect(Buffer.from(read.get(d)!).equals(Buffer.from(b))).toBe(true);
  expect(record?.outputs.length).toBe(5);
  expect(reader.calls).toEqual({ GetCapabilities: 1, GetActionResult: 1, BatchReadBlobs: 1, Read: 1 });
});

test("records are valid REAPI ActionResults that bazel-remote checks: outputs must be in the CAS", async () => {
  const store = await open();
  const blob = new TextEncoder().encode("never uploaded");
  const key = sha256Hex("incomplete");
  await store.putAction(key, {
    outputs: [{ path: "x", digest: sha256Hex(blob), size: blob.length, mode: 0o644 }],
    compileMs: 1,
  });
  // bazel-remote's completeness check: a record whose output blob is missing is not served.
  expect(await store.getAction(key)).toBeUndefined();
  await store.putBlob(sha256Hex(blob), blob);
  expect((await store.getAction(key))?.outputs[0]?.path).toBe("x");
});

test("an instance name keeps records apart only where the server separates instances", async () => {
  const store = await open({ url: `${bazel.grpc}/team-a` });
  expect(store.name).toBe(`reapi ${bazel.grpc}/team-a`);
  const blob = new TextEncoder().encode("instance");
  await store.putBlob(sha256Hex(blob), blob);
  expect(Buffer.from((await store.getBlob(sha256Hex(blob)))!).toString()).toBe("instance");
});

test("another process reads a record's stdout and stderr blobs (their sizes travel in the record)", async () => {
  const writer = await open();
  const [out, err] = ["warning: unused\n", "note: see\n"].map((t) => new TextEncoder().encode(t));
  const blobs = new Map([out!, err!].map((b) => [sha256Hex(b), b] as const));
  await writer.putBlobs(blobs);
  const key = sha256Hex("with stdout and stderr");
  await writer.putAction(key, {
    outputs: [],
    stdout: sha256Hex(out!),
    stderr: sha256Hex(err!),
    compileMs: 2,
  });
  const reader = await open();
  const record = await reader.getAction(key);
  const read = await reader.getBlobs([record!.stdout!, record!.stderr!]);
  expect(Buffer.from(read.get(sha256Hex(out!))!).toString()).toBe("warning: unused\n");
  expect(Buffer.from(read.get(sha256Hex(err!))!).toString()).toBe("note: see\n");
});

test("a single large blob stored before any other call still goes through ByteStream", async () => {
  const store = new ReapiStore({ url: bazel.grpc, maxBatchBytes: 64 * 1024 });
  opened.push(store);
  const big = new Uint8Array(200_000).map((_, i) => (i * 13) & 0xff);
  await store.putBlob(sha256Hex(big), big);
  expect(store.calls).toEqual({ GetCapabilities: 1, Write: 1 });
});

test("blobs travel zstd-compressed when the server offers it (bazel-remote does)", async () => {
  const store = await open({ maxBatchBytes: 64 * 1024 });
  expect(store.capabilities.compressors).toContain(1);
  const text = new TextEncoder().encode("pub fn generated() -> u32 { 42 }\n".repeat(40_000));
  const small = new TextEncoder().encode("small and compressible ".repeat(100));
  await store.putBlobs(new Map([text, small].map((b) => [sha256Hex(b), b] as const)));
  expect(store.wire.sent).toBeLessThan((text.length + small.length) / 20);
  const reader = await open({ maxBatchBytes: 64 * 1024 });
  const key = sha256Hex("compressed");
  await store.putAction(key, {
    outputs: [text, small].map((b, i) => ({
      path: `f${i}`,
      digest: sha256Hex(b),
      size: b.length,
      mode: 0o644,
    })),
    compileMs: 1,
  });
  await reader.getAction(key);
  const read = await reader.getBlobs([sha256Hex(text), sha256Hex(small)]);
  expect(Buffer.from(read.get(sha256Hex(text))!).equals(Buffer.from(text))).toBe(true);
  expect(Buffer.from(read.get(sha256Hex(small))!).equals(Buffer.from(small))).toBe(true);
  expect(reader.wire.received).toBeLessThan((text.length + small.length) / 20);
});
