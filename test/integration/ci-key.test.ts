/** galley ci key on a real project and toolchain. */
import { afterAll, expect, test } from "bun:test";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { copyFixture, galley, ok, removeDir } from "../helpers.ts";

const dir = copyFixture("cache-ws");
afterAll(() => removeDir(join(dir, "..")));

function key(args: string[] = [], env: Record<string, string> = {}, cwd = dir) {
  const out = ok(galley(["ci", "key", ...args], { cwd, env: { GITHUB_JOB: "build", ...env } })).stdout;
  const m = /^key=(\S+)\nrestore-keys<<(\w+)\n([\s\S]*?)\n\2\n$/.exec(out);
  if (!m) throw new Error(`not $GITHUB_OUTPUT lines:\n${out}`);
  return { key: m[1]!, restore: m[3]!.split("\n") };
}

test("key= and a restore-key ladder, stable for the same inputs, from any directory of the workspace", () => {
  const k = key(["--prefix", "rust-deps"]);
  expect(k.key).toMatch(/^rust-deps-[0-9a-f]{16}-build-[0-9a-f]{16}$/);
  expect(k.restore).toHaveLength(2);
  expect(k.key.startsWith(k.restore[0]!)).toBe(true);
  expect(k.restore[0]!.startsWith(k.restore[1]!)).toBe(true);
  expect(key(["--prefix", "rust-deps"], {}, join(dir, "corelib")).key).toBe(k.key);
  expect(key().key).toStartWith("galley-v1-");
});

test("Cargo.lock and the manifests change the key, not its restore keys; the job and target change more", () => {
  const before = key();
  const lock = join(dir, "Cargo.lock");
  const original = readFileSync(lock, "utf8");
  appendFileSync(lock, "\n");
  const afterLock = key();
  writeFileSync(lock, original);
  expect(afterLock.key).not.toBe(before.key);
  expect(afterLock.restore).toEqual(before.restore);

  const manifest = join(dir, "corelib/Cargo.toml");
  const m = readFileSync(manifest, "utf8");
  writeFileSync(manifest, `${m}\n[features]\nextra = []\n`);
  const afterManifest = key();
  writeFileSync(manifest, m);
  expect(afterManifest.key).not.toBe(before.key);

  expect(key([], { GITHUB_JOB: "test" }).restore[0]).not.toBe(before.restore[0]);
  expect(key(["--job", "test"]).restore[0]).toBe(key([], { GITHUB_JOB: "test" }).restore[0]!);
  expect(key(["--target", "wasm32-unknown-unknown"]).restore[1]).not.toBe(before.restore[1]);
  expect(key()).toEqual(before);
});

test("outside a Cargo project it says so", () => {
  const r = galley(["ci", "key"], { cwd: "/", env: {} });
  expect(r.code).toBe(3);
  expect(r.stderr).toContain("Cargo.toml");
  expect(galley(["ci", "nope"], { cwd: dir }).code).toBe(2);
});
