/**
 * Real servers for the shared-store tests, started on 127.0.0.1 on a free port and stopped by the
 * tests: Redis and an S3 server (s3s-fs), installed by scripts/test-servers.sh (cached).
 */
import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { REPO, removeDir, tempDir } from "./helpers.ts";

const ROOT = process.env.GALLEY_TEST_SERVERS || join(homedir(), ".cache", "galley-test-servers");
const S3S = join(ROOT, "s3s-fs-0.14.1", "bin", "s3s-fs");
const installed = new Set<string>();

/** Installs a server if it is not there yet (once per test process). */
export function ensureServer(name: "redis" | "s3"): void {
  if (installed.has(name)) return;
  const p = Bun.spawnSync(["bash", join(REPO, "scripts", "test-servers.sh"), name], {
    stdout: "inherit",
    stderr: "inherit",
  });
  if (p.exitCode !== 0) throw new Error(`scripts/test-servers.sh ${name} failed`);
  installed.add(name);
}

export async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

async function waitForPort(port: number, proc: Subprocess, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}`);
    try {
      const sock = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      sock.end();
      return;
    } catch {
      await Bun.sleep(50);
    }
  }
  throw new Error(`${what} did not listen on ${port}`);
}

export interface RedisServer {
  url: string;
  port: number;
  /** A client for poking at the server's contents. */
  client(): Bun.RedisClient;
  stop(): Promise<void>;
}

export async function startRedis(opts: { password?: string; maxmemory?: string } = {}): Promise<RedisServer> {
  ensureServer("redis");
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
  const proc = Bun.spawn(["redis-server", ...args], { stdout: "ignore", stderr: "inherit" });
  await waitForPort(port, proc, "redis-server");
  const auth = opts.password ? `:${opts.password}@` : "";
  const url = `redis://${auth}127.0.0.1:${port}`;
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
  ensureServer("s3");
  const port = await freePort();
  const dir = tempDir("galley-s3-");
  const bucket = "galley-test";
  mkdirSync(join(dir, bucket));
  const accessKeyId = "galleytest";
  const secretAccessKey = "galleytestsecret";
  const proc = Bun.spawn(
    [
      S3S,
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
  await waitForPort(port, proc, "s3s-fs");
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

/** A server that accepts connections and never answers. */
export function silentServer(): { port: number; stop(): void } {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  return { port: s.port, stop: () => s.stop(true) };
}
