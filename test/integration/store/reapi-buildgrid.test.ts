/** The Remote Execution API store against BuildGrid, a second, independent REAPI implementation. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { sha256Hex } from "../../../src/cache/engine/digest.ts";
import { METHODS, updateActionRequest } from "../../../src/cache/store/reapi/protocol.ts";
import { ReapiStore } from "../../../src/cache/store/reapi.ts";
import { storeConformance } from "../../unit/store/conformance.ts";
import { damage, damagedRecord } from "./damage.ts";
import { type BuildGrid, startBuildGrid } from "./servers.ts";

let server: BuildGrid;
const opened: ReapiStore[] = [];
beforeAll(async () => {
  server = await startBuildGrid(16);
}, 120_000);
afterAll(async () => {
  for (const s of opened) s.close();
  await server?.stop();
});

/** Each store its own instance: a fresh, empty cache. */
let instance = 0;
async function open(): Promise<ReapiStore> {
  const store = await ReapiStore.open({ url: server.grpc(++instance) });
  opened.push(store);
  return store;
}

/** Stores raw bytes as a record, past galley's encoder (a damaged record the server accepts). */
async function putRawRecord(key: string, record: Uint8Array): Promise<void> {
  const url = new URL(server.grpc(instance));
  const client = new grpc.Client(url.host, grpc.credentials.createInsecure());
  await new Promise<void>((resolve, reject) =>
    client.makeUnaryRequest(
      METHODS.updateActionResult,
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => b,
      updateActionRequest(`i${instance}`, key, record),
      (err) => (err ? reject(err) : resolve()),
    ),
  );
  client.close();
}

storeConformance("BuildGrid (REAPI)", open, {
  corruptBlob(_store, digest) {
    damage(join(server.casDir(instance), digest.slice(0, 2), digest.slice(2)));
  },
  corruptAction: (_store, key) => putRawRecord(key, damagedRecord()),
});

test("the server's capabilities are read once, at the first request", async () => {
  const store = new ReapiStore({ url: server.grpc(0) });
  opened.push(store);
  expect(await store.getAction(sha256Hex("nothing"))).toBeUndefined();
  expect(await store.getAction(sha256Hex("nothing either"))).toBeUndefined();
  expect(store.calls).toEqual({ GetCapabilities: 1, GetActionResult: 2 });
  expect(store.capabilities.digestFunctions).toContain(1);
});
