/**
 * Real cache servers for the store tests, installed by scripts/test-servers/ (cached under
 * ~/.cache/galley-test-servers) and started here on 127.0.0.1 at free ports; each test file stops
 * what it started.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { REPO, removeDir, tempDir } from "../../helpers.ts";

export interface Running {
  dir: string;
  stop(): Promise<void>;
}

/** Installs a test server by its script (idempotent) and returns its executable. */
export function install(name: string): string {
  const p = Bun.spawnSync(["bash", join(REPO, "scripts", "test-servers", `${name}.sh`)], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (p.exitCode !== 0) throw new Error(`installing ${name} failed:\n${p.stderr.toString()}`);
  return p.stdout.toString().trim();
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: {
          open(s) {
            s.end();
            resolve(true);
          },
          data() {},
          error() {
            resolve(false);
          },
          connectError() {
            resolve(false);
          },
        },
      }).catch(() => resolve(false));
    });
    if (ok) return;
    await Bun.sleep(50);
  }
  throw new Error(`${what} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

/** An htpasswd line in the {SHA} scheme, which nginx and bazel-remote both read. */
export function htpasswd(user: string, password: string): string {
  return `${user}:{SHA}${createHash("sha1").update(password).digest("base64")}\n`;
}

function spawnServer(argv: string[], dir: string, logName: string) {
  const log = Bun.file(join(dir, logName));
  return Bun.spawn(argv, { cwd: dir, stdout: log, stderr: log, stdin: "ignore" });
}

async function stopProcess(proc: ReturnType<typeof Bun.spawn>, dir: string): Promise<void> {
  proc.kill("SIGTERM");
  const killer = setTimeout(() => proc.kill("SIGKILL"), 5000);
  await proc.exited;
  clearTimeout(killer);
  if (process.env.GALLEY_TEST_KEEP_SERVERS) console.log(`kept ${dir}`);
  else removeDir(dir);
}

export interface BazelRemote extends Running {
  http: string;
  grpc: string;
  /** Where it keeps its files: cas.v2/<xx>/<hash>-<size>-<n>, ac.v2/… (uncompressed, so tests can damage them). */
  cacheDir: string;
  httpPort: number;
  grpcPort: number;
  /** With TLS: the PEM file of its self-signed certificate. */
  cert?: string;
}

/** A self-signed certificate for 127.0.0.1 (the client trusts it by its PEM). */
export function selfSignedCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const p = Bun.spawnSync(
    [
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=127.0.0.1",
    ].concat(["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert]),
    { stdout: "ignore", stderr: "pipe" },
  );
  if (p.exitCode !== 0) throw new Error(`openssl failed: ${p.stderr.toString()}`);
  return { cert, key };
}

/**
 * bazel-remote serving HTTP and gRPC; with `auth`, both ask for basic auth; with `tls`, both speak
 * TLS with a self-signed certificate (`cert` is its PEM file).
 */
export async function startBazelRemote(
  auth?: { user: string; password: string },
  tls = false,
): Promise<BazelRemote> {
  const bin = install("bazel-remote");
  const dir = tempDir("galley-bazel-remote-");
  const cacheDir = join(dir, "cache");
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const argv = [
    bin,
    "--dir",
    cacheDir,
    "--max_size",
    "1",
    "--storage_mode",
    "uncompressed",
    "--http_address",
    `127.0.0.1:${httpPort}`,
    "--grpc_address",
    `127.0.0.1:${grpcPort}`,
  ];
  if (auth) {
    writeFileSync(join(dir, "htpasswd"), htpasswd(auth.user, auth.password));
    argv.push("--htpasswd_file", join(dir, "htpasswd"));
  }
  let cert: string | undefined;
  if (tls) {
    const pair = selfSignedCert(dir);
    cert = pair.cert;
    argv.push("--tls_cert_file", pair.cert, "--tls_key_file", pair.key);
  }
  const proc = spawnServer(argv, dir, "bazel-remote.log");
  await waitForPort(httpPort, "bazel-remote (HTTP)");
  await waitForPort(grpcPort, "bazel-remote (gRPC)");
  return {
    dir,
    cacheDir,
    httpPort,
    grpcPort,
    http: `${tls ? "https" : "http"}://127.0.0.1:${httpPort}`,
    grpc: `${tls ? "grpcs" : "grpc"}://127.0.0.1:${grpcPort}`,
    cert,
    stop: () => stopProcess(proc, dir),
  };
}

export interface Nginx extends Running {
  url: string;
  /** The directory nginx serves: files under it are the store's entries. */
  root: string;
  port: number;
}

/** nginx with WebDAV PUT/DELETE (create_full_put_path); with `auth`, basic auth. */
export async function startNginx(auth?: { user: string; password: string }): Promise<Nginx> {
  const bin = install("nginx-webdav");
  const dir = tempDir("galley-nginx-");
  const root = join(dir, "root");
  for (const d of [root, join(dir, "tmp")]) mkdirSync(d, { recursive: true });
  const port = await freePort();
  if (auth) writeFileSync(join(dir, "htpasswd"), htpasswd(auth.user, auth.password));
  const t = join(dir, "tmp");
  const conf = `
${process.getuid?.() === 0 ? "user root;" : ""}
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${t}/body; proxy_temp_path ${t}/proxy; fastcgi_temp_path ${t}/fastcgi;
  uwsgi_temp_path ${t}/uwsgi; scgi_temp_path ${t}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    client_max_body_size 0;
    location / {
      dav_methods PUT DELETE;
      create_full_put_path on;
      dav_access user:rw;
      ${auth ? `auth_basic "galley"; auth_basic_user_file ${dir}/htpasswd;` : ""}
    }
  }
}
`;
  writeFileSync(join(dir, "nginx.conf"), conf);
  const proc = spawnServer([bin, "-c", join(dir, "nginx.conf"), "-p", dir], dir, "nginx.log");
  await waitForPort(port, "nginx");
  return { dir, root, port, url: `http://127.0.0.1:${port}`, stop: () => stopProcess(proc, dir) };
}

/** A server that accepts connections and never answers (the store must time out). */
export async function startSilentServer(): Promise<Running & { port: number }> {
  const sockets: Socket[] = [];
  const srv = createServer((s) => {
    sockets.push(s);
    s.on("error", () => {});
  });
  const port = await new Promise<number>((resolve) =>
    srv.listen(0, "127.0.0.1", () => resolve((srv.address() as { port: number }).port)),
  );
  return {
    dir: "",
    port,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => srv.close(r));
    },
  };
}

export interface BuildGrid extends Running {
  /** grpc://127.0.0.1:port/i<n>: instance n of `instances`, each with its own CAS and action cache. */
  grpc(instance: number): string;
  /** Instance n's CAS on disk: cas/objects/<xx>/<rest of hash>. */
  casDir(instance: number): string;
}

/**
 * BuildGrid's server with CAS, ByteStream and action cache services in `instances` separate
 * instances (BuildGrid keeps a damaged blob when it is stored again, so tests that damage one use
 * an instance of their own).
 */
export async function startBuildGrid(instances = 11): Promise<BuildGrid> {
  const bin = install("buildgrid");
  const dir = tempDir("galley-buildgrid-");
  const port = await freePort();
  const ids = Array.from({ length: instances }, (_, i) => i);
  const config = `
thread-pool-size: 100
server:
  - !channel
    address: "127.0.0.1:${port}"
    insecure-mode: true
authorization:
  method: none
storages:
${ids
  .map(
    (i) => `  - !disk-storage &cas${i}
    path: ${join(dir, "store", `i${i}`)}`,
  )
  .join("\n")}
caches:
${ids
  .map(
    (i) => `  - !lru-action-cache &ac${i}
    storage: *cas${i}
    max-cached-refs: 10000
    allow-updates: true`,
  )
  .join("\n")}
instances:
${ids
  .map(
    (i) => `  - name: i${i}
    services:
      - !action-cache
        cache: *ac${i}
      - !cas
        storage: *cas${i}
      - !bytestream
        storage: *cas${i}`,
  )
  .join("\n")}
`;
  writeFileSync(join(dir, "bgd.yml"), config);
  const proc = spawnServer([bin, "server", "start", join(dir, "bgd.yml")], dir, "bgd.log");
  await waitForPort(port, "BuildGrid", 90_000);
  return {
    dir,
    grpc: (i) => `grpc://127.0.0.1:${port}/i${i}`,
    casDir: (i) => join(dir, "store", `i${i}`, "cas", "objects"),
    stop: () => stopProcess(proc, dir),
  };
}
