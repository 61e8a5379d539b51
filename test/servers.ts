/**
 * Redis and an S3 server (s3s-fs) for the shared-store tests and bench/remote.ts, installed by
 * scripts/test-servers/ (cached) and started on 127.0.0.1 at a free port; callers stop them.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { removeDir, tempDir } from "./helpers.ts";
import { freePort, install, waitForPort } from "./integration/store/servers.ts";

export { freePort, startSilentServer } from "./integration/store/servers.ts";

async function started(proc: Subprocess, port: number, what: string): Promise<void> {
  await Promise.race([
    waitForPort(port, what),
    proc.exited.then((code) => {
      throw new Error(`${what} exited with ${code}`);
    }),
  ]);
}

export interface RedisServer {
  url: string;
  port: number;
  /** A client for poking at the server's contents. */
  client(): Bun.RedisClient;
  stop(): Promise<void>;
}

export async function startRedis(
  opts: { password?: string; maxmemory?: string; maxBulk?: string } = {},
): Promise<RedisServer> {
  const bin = install("redis");
  const port = await freePort();
  const dir = tempDir("galley-redis-");
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
  ];
  if (opts.password) args.push("--requirepass", opts.password);
  if (opts.maxmemory) args.push("--maxmemory", opts.maxmemory, "--maxmemory-policy", "noeviction");
  if (opts.maxBulk) args.push("--proto-max-bulk-len", opts.maxBulk);
  const proc = Bun.spawn([bin, ...args], { stdout: "ignore", stderr: "inherit" });
  await started(proc, port, "redis-server");
  const url = `redis://${opts.password ? `:${opts.password}@` : ""}127.0.0.1:${port}`;
  return {
    url,
    port,
    client: () => new Bun.RedisClient(url),
    async stop() {
      proc.kill();
      await proc.exited;
      removeDir(dir);
    },
  };
}

export interface S3Server {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The directory behind the bucket: objects are files under it. */
  bucketDir: string;
  stop(): Promise<void>;
}

export async function startS3(): Promise<S3Server> {
  const bin = install("s3s-fs");
  const port = await freePort();
  const dir = tempDir("galley-s3-");
  const bucket = "galley-test";
  mkdirSync(join(dir, bucket));
  const accessKeyId = "galleytest";
  const secretAccessKey = "galleytestsecret";
  const proc = Bun.spawn(
    [
      bin,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--access-key",
      accessKeyId,
      "--secret-key",
      secretAccessKey,
      dir,
    ],
    { stdout: "ignore", stderr: "ignore" },
  );
  await started(proc, port, "s3s-fs");
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId,
    secretAccessKey,
    bucketDir: join(dir, bucket),
    async stop() {
      proc.kill();
      await proc.exited;
      removeDir(dir);
    },
  };
}
