import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { storeConfig } from "../../src/cache/engine/store-config.ts";
import { removeDir, tempDir } from "../helpers.ts";

const home = tempDir("galley-config-");
afterAll(() => removeDir(home));
/** An environment with no config file and no secrets file of the machine's. */
const env = (vars: Record<string, string>) => ({
  HOME: home,
  GALLEY_STORE_SECRETS_FILE: join(home, "none"),
  ...vars,
});

describe("store configuration", () => {
  test("no store configured: the local cache alone", async () => {
    expect(await storeConfig(env({}))).toBeUndefined();
  });

  test("GALLEY_STORE and its companions", async () => {
    const c = await storeConfig(
      env({
        GALLEY_STORE: "redis://cache:6379/2",
        GALLEY_STORE_READ_ONLY: "1",
        GALLEY_STORE_SECRET: "k",
        GALLEY_STORE_TIMEOUT_MS: "800",
      }),
    );
    expect(c).toMatchObject({
      url: "redis://cache:6379/2",
      source: "GALLEY_STORE",
      readOnly: true,
      secret: "k",
      requestTimeoutMs: 800,
    });
  });

  test("sccache's S3 names", async () => {
    const c = await storeConfig(
      env({
        SCCACHE_BUCKET: "ci-cache",
        SCCACHE_S3_KEY_PREFIX: "/rust/",
        SCCACHE_ENDPOINT: "minio:9000",
        SCCACHE_S3_USE_SSL: "false",
        SCCACHE_REGION: "eu-west-1",
        SCCACHE_S3_NO_CREDENTIALS: "true",
      }),
    );
    expect(c).toMatchObject({
      url: "s3://ci-cache/rust",
      source: "SCCACHE_BUCKET",
      readOnly: true,
      options: { endpoint: "http://minio:9000", region: "eu-west-1", anonymous: "1" },
    });
  });

  test("sccache's Redis names, the deprecated one too", async () => {
    const c = await storeConfig(
      env({
        SCCACHE_REDIS_ENDPOINT: "rediss://cache:6380",
        SCCACHE_REDIS_USERNAME: "u",
        SCCACHE_REDIS_PASSWORD: "p",
        SCCACHE_REDIS_DB: "3",
        SCCACHE_REDIS_TTL: "3600",
        SCCACHE_REDIS_KEY_PREFIX: "sc/",
      }),
    );
    expect(c).toMatchObject({
      url: "rediss://cache:6380",
      username: "u",
      password: "p",
      options: { db: "3", ttl: "3600", key_prefix: "sc/" },
    });
    expect((await storeConfig(env({ SCCACHE_REDIS: "redis://:pw@old:6379" })))?.url).toBe(
      "redis://:pw@old:6379",
    );
  });

  test("sccache's WebDAV names", async () => {
    const c = await storeConfig(
      env({
        SCCACHE_WEBDAV_ENDPOINT: "http://dav:8080/cache",
        SCCACHE_WEBDAV_TOKEN: "t",
        SCCACHE_WEBDAV_KEY_PREFIX: "x",
      }),
    );
    expect(c).toMatchObject({
      url: "http://dav:8080/cache",
      token: "t",
      options: { webdav: "1", key_prefix: "x" },
    });
  });

  test("sccache backends galley lacks are named as ignored", async () => {
    const c = await storeConfig(
      env({ GALLEY_STORE: "s3://b", SCCACHE_GHA_ENABLED: "on", SCCACHE_GCS_BUCKET: "g" }),
    );
    expect(c?.ignored.join("\n")).toContain("SCCACHE_GHA_ENABLED");
    expect(c?.ignored.join("\n")).toContain("SCCACHE_GCS_BUCKET");
  });

  test("galley's names win over sccache's, and both over the config file", async () => {
    const file = join(home, "config.toml");
    writeFileSync(
      file,
      '[store]\nurl = "s3://from-file"\nregion = "us-west-2"\nread_only = true\ntimeout_ms = 900\n',
    );
    const fromFile = await storeConfig(env({ GALLEY_CONFIG: file }));
    expect(fromFile).toMatchObject({
      url: "s3://from-file",
      source: file,
      readOnly: true,
      requestTimeoutMs: 900,
      options: { region: "us-west-2" },
    });
    expect((await storeConfig(env({ GALLEY_CONFIG: file, SCCACHE_BUCKET: "sc" })))?.url).toBe("s3://sc");
    expect(
      (await storeConfig(env({ GALLEY_CONFIG: file, SCCACHE_BUCKET: "sc", GALLEY_STORE: "redis://r" })))?.url,
    ).toBe("redis://r");
  });

  test("a secrets file (a BuildKit secret) fills in what the environment lacks", async () => {
    const secrets = join(home, "secrets");
    writeFileSync(
      secrets,
      "# store credentials\nGALLEY_STORE=redis://cache:6379\nexport GALLEY_STORE_PASSWORD='pw'\n",
    );
    const c = await storeConfig({ HOME: home, GALLEY_STORE_SECRETS_FILE: secrets });
    expect(c).toMatchObject({ url: "redis://cache:6379", password: "pw" });
  });

  test("bad settings say what and where", async () => {
    await expect(
      storeConfig(env({ GALLEY_STORE: "s3://b", GALLEY_STORE_READ_ONLY: "maybe" })),
    ).rejects.toThrow('GALLEY_STORE_READ_ONLY="maybe" is not a yes/no value');
    const file = join(home, "bad.toml");
    writeFileSync(file, "[store\n");
    await expect(storeConfig(env({ GALLEY_CONFIG: file }))).rejects.toThrow(file);
  });
});
