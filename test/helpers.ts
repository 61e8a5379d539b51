/** Shared test helpers: temp projects, running the built galley, and running real cargo. */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

export const REPO = resolve(import.meta.dir, "..");
export const GALLEY = join(REPO, "dist", "galley");
export const FIXTURES = join(REPO, "test", "fixtures");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A fresh temp directory, removed by the returned cleanup. */
export function tempDir(prefix = "galley-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Copies a fixture from test/fixtures into a new temp directory and returns its path. */
export function copyFixture(name: string, into?: string): string {
  const dest = into ?? join(tempDir(), name);
  cpSync(join(FIXTURES, name), dest, { recursive: true });
  return dest;
}

/** Writes a tree of files: { "Cargo.toml": "...", "src/main.rs": "..." }. */
export function writeTree(root: string, files: Record<string, string>): string {
  for (const [rel, contents] of Object.entries(files)) {
    const p = join(root, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, contents);
  }
  return root;
}

export function run(argv: string[], opts: { cwd: string; env?: Record<string, string | undefined> }): RunResult {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", ...opts.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const p = Bun.spawnSync(argv, { cwd: opts.cwd, env: env as Record<string, string>, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

export function galley(args: string[], opts: { cwd: string; env?: Record<string, string | undefined> }): RunResult {
  return run([GALLEY, ...args], opts);
}

/** Like run(), but fails the test with the output when the command fails. */
export function ok(result: RunResult, what = "command"): RunResult {
  if (result.code !== 0) {
    throw new Error(`${what} exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
  }
  return result;
}

export interface Artifact {
  packageId: string;
  name: string;
  kind: string[];
  fresh: boolean;
  filenames: string[];
  executable: string | null;
}

/** Runs `cargo build --message-format=json` and returns the compiler-artifact messages. */
export function cargoBuild(cwd: string, args: string[] = [], env?: Record<string, string>): { artifacts: Artifact[]; result: RunResult } {
  const result = ok(run(["cargo", "build", "--message-format=json", ...args], { cwd, ...(env ? { env } : {}) }), `cargo build ${args.join(" ")}`);
  const artifacts: Artifact[] = [];
  for (const line of result.stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const m = JSON.parse(line);
    if (m.reason === "compiler-artifact") {
      artifacts.push({
        packageId: m.package_id,
        name: m.target.name,
        kind: m.target.kind,
        fresh: m.fresh,
        filenames: m.filenames,
        executable: m.executable,
      });
    }
  }
  return { artifacts, result };
}

export const isThirdParty = (a: Artifact) => a.packageId.startsWith("registry+") || a.packageId.includes("(registry+");

/** Third-party units that cargo compiled (not fresh) in a build. */
export function rebuiltThirdParty(artifacts: Artifact[]): string[] {
  return artifacts.filter((a) => isThirdParty(a) && !a.fresh).map((a) => `${a.name} (${a.packageId})`);
}

/** Sets the mtime of every file under `dir` to `date` (as Docker's COPY keeps old mtimes). */
export function setTreeMtime(dir: string, date: Date): void {
  run(["find", dir, "-exec", "touch", "-h", "-d", date.toISOString(), "{}", "+"], { cwd: dir });
}
