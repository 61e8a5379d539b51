import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../../../src/cache/engine/digest.ts";
import { openS3Store } from "../../../src/cache/store/s3.ts";
import { removeDir, tempDir } from "../../helpers.ts";
import { type S3Server, startS3 } from "../../servers.ts";
import { storeConformance, testConfig } from "../../unit/store/conformance.ts";

let server: S3Server;
let n = 0;
beforeAll(async () => {
  server = await startS3();
});
afterAll(async () => await server?.stop());

const env = () => ({ AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey });
const open = (prefix: string, extra: Record<string, string> = {}, credentials = env()) =>
  openS3Store(
    { ...testConfig(`s3://${server.bucket}/${prefix}`), options: { endpoint: server.endpoint, ...extra } },
    { HOME: "/nonexistent", ...credentials },
  );

storeConformance(
  "s3",
  // A fresh prefix per test: an empty store on the same server.
  () => open(`t${n++}`),
  {
    corruptBlob(_store, digest) {
      writeFileSync(join(server.bucketDir, `t${n - 1}`, "cas-zstd", digest), "damaged");
    },
    corruptAction(_store, key) {
      writeFileSync(join(server.bucketDir, `t${n - 1}`, "ac", key), '{"outputs": [');
    },
  },
);

test("wrong credentials are refused by the server (it checks signatures)", async () => {
  const store = await open(
    "creds",
    {},
    { AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: "wrong" },
  );
  await expect(store.getAction(sha256Hex("k"))).rejects.toThrow();
});

test("anonymous: no credentials sent (refused by a server that wants them)", async () => {
  const store = await open("anon", { anonymous: "1" });
  await expect(store.putBlob(sha256Hex("x"), new TextEncoder().encode("x"))).rejects.toThrow();
  expect(readdirSync(server.bucketDir)).not.toContain("anon");
});

test("credentials from a shared credentials file reach the server", async () => {
  const home = tempDir("galley-s3-home-");
  try {
    mkdirSync(join(home, ".aws"));
    writeFileSync(
      join(home, ".aws", "credentials"),
      `[default]\naws_access_key_id = ${server.accessKeyId}\naws_secret_access_key = ${server.secretAccessKey}\n`,
    );
    const store = await openS3Store(
      { ...testConfig(`s3://${server.bucket}/from-file`), options: { endpoint: server.endpoint } },
      { HOME: home },
    );
    const bytes = new TextEncoder().encode("from the credentials file");
    await store.putBlob(sha256Hex(bytes), bytes);
    expect(Buffer.from((await store.getBlob(sha256Hex(bytes)))!).toString()).toBe(
      "from the credentials file",
    );
  } finally {
    removeDir(home);
  }
});
