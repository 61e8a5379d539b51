/**
 * What a shared store costs a wrapper process that has no daemon: loading the backend's code, the
 * first request (connecting, TLS, the REAPI capabilities call) and a later one, each in a fresh
 * process, against bazel-remote on 127.0.0.1 over gRPC and HTTP, plain and with TLS.
 *
 *   ./node_modules/.bin/bun bench/store-connect.ts [--runs 15]
 *
 * Prints the medians over --runs processes: `load` (importing the backend module), `first` (one
 * record lookup from a new connection) and `again` (the next lookup on it), in ms, and the CPU time
 * (user+sys) of the whole child process.
 */
import { parseArgs } from "node:util";
import { startBazelRemote } from "../test/integration/store/servers.ts";

const { values: opts } = parseArgs({ options: { runs: { type: "string", default: "15" } } });
const runs = Number(opts.runs);

const child = `
const t0 = performance.now();
const url = process.env.BENCH_STORE_URL;
const ca = process.env.BENCH_STORE_CA;
const { openBackend } = await import("./src/cache/store/open.ts");
const config = { url, source: "bench", readOnly: false, options: ca ? { ca_cert: ca } : {},
  connectTimeoutMs: 2000, requestTimeoutMs: 5000, retryAfterMs: 60000, writeGraceMs: 250, ignored: [] };
const store = await openBackend(config);
const t1 = performance.now();
await store.getAction("0".repeat(64));
const t2 = performance.now();
await store.getAction("1".repeat(64));
const t3 = performance.now();
console.log(JSON.stringify({ load: t1 - t0, first: t2 - t1, again: t3 - t2 }));
store.close?.();
process.exit(0);
`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const [plain, tls] = await Promise.all([startBazelRemote(), startBazelRemote(undefined, true)]);
try {
  const cases: [string, string, string | undefined][] = [
    ["gRPC (REAPI)", plain.grpc, undefined],
    ["gRPC + TLS", tls.grpc, tls.cert],
    ["HTTP (bazel-remote)", plain.http, undefined],
    ["HTTPS (bazel-remote)", tls.http, tls.cert],
  ];
  console.log("| store | load ms | first lookup ms | next lookup ms | child CPU ms (user+sys) |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const [name, url, ca] of cases) {
    const rows: { load: number; first: number; again: number; cpu: number }[] = [];
    for (let i = 0; i < runs; i++) {
      const p = Bun.spawnSync([process.execPath, "-e", child], {
        cwd: `${import.meta.dir}/..`,
        env: { ...process.env, BENCH_STORE_URL: url, BENCH_STORE_CA: ca ?? "" },
        stdout: "pipe",
        stderr: "pipe",
      });
      if (p.exitCode !== 0) throw new Error(`${name}: ${p.stderr.toString()}`);
      const usage = p.resourceUsage;
      const cpu = usage ? Number(usage.cpuTime.user + usage.cpuTime.system) / 1000 : Number.NaN;
      rows.push({ ...JSON.parse(p.stdout.toString()), cpu });
    }
    const m = (k: keyof (typeof rows)[0]) => median(rows.map((r) => r[k])).toFixed(1);
    console.log(`| ${name} | ${m("load")} | ${m("first")} | ${m("again")} | ${m("cpu")} |`);
  }
} finally {
  await Promise.all([plain.stop(), tls.stop()]);
}
