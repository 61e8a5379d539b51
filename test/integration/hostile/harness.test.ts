/**
 * The harness itself, without cargo: the bomb is what it claims, the proxies keep replies in order
 * under pipelining and keep-alive, and the faults they inject reach a client as described.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createZstdDecompress } from "node:zlib";
import { type RedisServer, startRedis } from "../../servers.ts";
import { type Nginx, startNginx } from "../store/servers.ts";
import { type HttpProxy, startHttpProxy } from "./http-proxy.ts";
import { declaresContentSize, LYING_BYTES, MIB, zstdBomb } from "./proxy.ts";
import { absurdJson, absurdProto, encode, fields } from "./records.ts";
import { type RedisProxy, startRedisProxy } from "./redis-proxy.ts";

test("the bomb is a small zstd frame without a content size that unpacks to zeros", async () => {
  const bomb = await zstdBomb();
  expect(bomb.length).toBeLessThan(MIB);
  expect(Array.from(bomb.subarray(0, 4))).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
  expect(declaresContentSize(bomb)).toBe(false);
  // Its first 16 MiB, unpacked by a stream that stops there: all zeros.
  const unpacked = await new Promise<number>((resolve, reject) => {
    const z = createZstdDecompress();
    let n = 0;
    z.on("data", (c: Buffer) => {
      if (c.some((b) => b !== 0)) reject(new Error("not zeros"));
      n += c.length;
      if (n >= 16 * MIB) {
        z.destroy();
        resolve(n);
      }
    });
    z.on("error", reject);
    z.end(bomb);
  });
  expect(unpacked).toBeGreaterThanOrEqual(16 * MIB);
});

describe("records", () => {
  const json = JSON.stringify({
    outputs: [{ path: "deps/liba.rlib", digest: "a".repeat(64), size: 10, mode: 0o644 }],
    compileMs: 5,
  });

  test("an absurd JSON record keeps its fields and claims what the fault says", () => {
    const size = JSON.parse(absurdJson(json, "size")!);
    expect(size.outputs[0].size).toBe(2 ** 40);
    expect(size.compileMs).toBe(5);
    const count = JSON.parse(absurdJson(json, "count")!);
    expect(count.outputs.length).toBe(100_000);
    expect(new Set(count.outputs.map((o: { path: string }) => o.path)).size).toBe(100_000);
    expect(count.compileMs).toBe(5);
  });

  test("an absurd ActionResult keeps galley's entry, with one mode per output", () => {
    const te = new TextEncoder();
    const digest = encode([
      { no: 1, type: 2, value: te.encode("b".repeat(64)) },
      { no: 2, type: 0, value: 10n },
    ]);
    const file = encode([
      { no: 1, type: 2, value: te.encode("deps/libb.rlib") },
      { no: 2, type: 2, value: digest },
    ]);
    const record = encode([
      { no: 1, type: 0, value: 5n },
      { no: 2, type: 2, value: new Uint8Array([0x80, 0x03]) },
    ]);
    const any = encode([
      { no: 1, type: 2, value: te.encode("type.googleapis.com/galley.cache.v1.Record") },
      { no: 2, type: 2, value: record },
    ]);
    const meta = encode([{ no: 11, type: 2, value: any }]);
    const result = encode([
      { no: 2, type: 2, value: file },
      { no: 9, type: 2, value: meta },
    ]);
    const many = fields(absurdProto(result, "count")!)!;
    expect(many.filter((f) => f.no === 2).length).toBe(100_000);
    const galley = fields(
      fields(fields(many.find((f) => f.no === 9)!.value as Uint8Array)![0]!.value as Uint8Array)![1]!
        .value as Uint8Array,
    )!;
    const modes = galley.find((f) => f.no === 2)!.value as Uint8Array;
    // 0o644 is two varint bytes.
    expect(modes.length).toBe(2 * 100_000);
    const big = fields(absurdProto(result, "size")!)!;
    const size = fields(fields(big[0]!.value as Uint8Array)![1]!.value as Uint8Array)!.find(
      (f) => f.no === 2,
    )!;
    expect(size.value).toBe(2n ** 40n);
  });
});

describe("redis proxy", () => {
  let server: RedisServer;
  let proxy: RedisProxy;
  beforeAll(async () => {
    server = await startRedis();
    proxy = await startRedisProxy(server.port);
  });
  afterAll(async () => {
    await proxy?.stop();
    await server?.stop();
  });

  test("pipelined replies keep their order; sunk writes are answered in place; faults hit blob reads only", async () => {
    const c = new Bun.RedisClient(`redis://127.0.0.1:${proxy.port}`, { enableAutoPipelining: true });
    const blobKey = `galley:cas-zstd:${"c".repeat(64)}`;
    await c.set(blobKey, Buffer.from(Bun.zstdCompressSync(Buffer.from("the blob"))));
    const asked = Array.from({ length: 200 }, (_, i) =>
      i % 3 === 0 ? c.set(`k${i}`, `v${i}`) : c.get(`k${i - (i % 3)}`),
    );
    const got = await Promise.all(asked);
    expect(got).toEqual(got.map((_, i) => (i % 3 === 0 ? "OK" : `v${i - (i % 3)}`)));

    proxy.mode = { fault: "truncate", writes: "sink" };
    proxy.injected = 0;
    const [a, , b] = await Promise.all([c.getBuffer(blobKey), c.set("sunk", "x"), c.get("k0")]);
    expect(proxy.injected).toBe(1);
    expect(a!.length).toBe(Math.floor(Bun.zstdCompressSync(Buffer.from("the blob")).length / 2));
    expect(b).toBe("v0");
    proxy.mode = { writes: "forward" };
    expect(await c.get("sunk")).toBeNull();
    c.close();
  });
});

describe("http proxy", () => {
  let nginx: Nginx;
  let proxy: HttpProxy;
  beforeAll(async () => {
    nginx = await startNginx();
    proxy = await startHttpProxy({
      name: "nginx",
      upstreamPort: nginx.port,
      records: "proto",
      env: (base) => ({ GALLEY_STORE: `webdav+${base}` }),
    });
  });
  afterAll(async () => {
    await proxy?.stop();
    await nginx?.stop();
  });

  test("requests on one kept-alive connection pass through; a lying length reaches the client as sent", async () => {
    const base = `http://127.0.0.1:${proxy.port}`;
    const blob = new TextEncoder().encode("some blob bytes");
    const path = `${base}/g/cas/${"d".repeat(64)}`;
    expect((await fetch(path, { method: "PUT", body: blob })).ok).toBe(true);
    for (let i = 0; i < 5; i++) expect(new Uint8Array(await (await fetch(path)).arrayBuffer())).toEqual(blob);
    expect((await fetch(`${base}/g/cas/${"e".repeat(64)}`)).status).toBe(404);

    proxy.mode = { fault: "lyingLength", writes: "sink" };
    proxy.injected = 0;
    const res = await fetch(path);
    expect(res.headers.get("content-length")).toBe(String(LYING_BYTES));
    const reader = res.body!.getReader();
    let n = 0;
    while (n < 4 * MIB) n += (await reader.read()).value?.length ?? 0;
    await reader.cancel();
    expect(proxy.injected).toBe(1);
    // A write in sink mode is answered and dropped.
    expect((await fetch(`${base}/g/cas/${"f".repeat(64)}`, { method: "PUT", body: blob })).ok).toBe(true);
    proxy.mode = { writes: "forward" };
    expect((await fetch(`${base}/g/cas/${"f".repeat(64)}`)).status).toBe(404);
  });
});
