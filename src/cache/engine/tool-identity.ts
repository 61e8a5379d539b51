/**
 * The identity of a compiler or linker binary, memoised on disk by path + size + mtime + inode so
 * that `rustc -vV` is not re-run for every crate. A rustup proxy (the same binary for every
 * toolchain) is never memoised by its file: the toolchain it runs depends on the environment.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { sha256Hex } from "./digest.ts";

export function rustcIdentity(
  rustc: string,
  cacheDir: string | undefined,
  env: Record<string, string | undefined>,
): string {
  return memoised(rustc, cacheDir, "rustc", env, () => {
    const version = runText([rustc, "-vV"], env);
    const sysroot = runText([rustc, "--print", "sysroot"], env).trim();
    return sha256Hex(`${version}\nsysroot=${sysroot}`);
  });
}

/**
 * clippy-driver: its version (clippy's commit), the rustc it is built into (`--rustc -vV`), and its
 * own file's digest, which changes with every build of clippy even when the version line does not
 * (a locally built driver). A rustup proxy's file says nothing of the toolchain it runs: left out.
 */
export function clippyIdentity(
  driver: string,
  cacheDir: string | undefined,
  env: Record<string, string | undefined>,
): string {
  const resolved = resolveOnPath(driver, env) ?? driver;
  return memoised(resolved, cacheDir, "clippy", env, (proxy) => {
    const version = runText([resolved, "-V"], env).trim();
    const rustc = runText([resolved, "--rustc", "-vV"], env);
    const file = proxy ? "proxy" : sha256Hex(readFileSync(resolved));
    return sha256Hex(`${version}\n${rustc}\nfile=${file}`);
  });
}

/** A linker or C compiler: the digest of the file it resolves to. */
export function binaryIdentity(
  path: string,
  cacheDir: string | undefined,
  env: Record<string, string | undefined>,
): string {
  const resolved = resolveOnPath(path, env) ?? path;
  return memoised(resolved, cacheDir, "binary", env, () => {
    try {
      return sha256Hex(readFileSync(resolved));
    } catch {
      return `missing:${resolved}`;
    }
  });
}

function memoised(
  path: string,
  cacheDir: string | undefined,
  kind: string,
  env: Record<string, string | undefined>,
  compute: (proxy: boolean) => string,
): string {
  let st: { size: number; mtimeMs: number; ino: number } | undefined;
  try {
    st = statSync(path);
  } catch {}
  const proxy = st !== undefined && isRustupProxy(path, st);
  const stamp = st ? `${st.size}:${st.mtimeMs}:${st.ino}` : "none";
  const memo =
    cacheDir && st && !proxy
      ? join(cacheDir, "v1", "tools", `${kind}-${sha256Hex(path).slice(0, 32)}`)
      : undefined;
  if (memo) {
    try {
      const [saved, id] = readFileSync(memo, "utf8").split(" ");
      if (saved === stamp && id) return id;
    } catch {}
  }
  const id = proxy ? sha256Hex(`${compute(true)}:${env.RUSTUP_TOOLCHAIN ?? ""}`) : compute(false);
  if (memo) {
    try {
      mkdirSync(dirname(memo), { recursive: true });
      const tmp = `${memo}.${process.pid}`;
      writeFileSync(tmp, `${stamp} ${id}`);
      renameSync(tmp, memo);
    } catch {}
  }
  return id;
}

function isRustupProxy(path: string, st: { ino: number; size: number }): boolean {
  try {
    const rustup = statSync(join(dirname(path), "rustup"));
    return rustup.ino === st.ino || rustup.size === st.size;
  } catch {
    return false;
  }
}

export function resolveOnPath(cmd: string, env: Record<string, string | undefined>): string | undefined {
  if (cmd.includes("/")) return cmd;
  for (const dir of (env.PATH ?? "").split(":")) {
    if (!dir) continue;
    const candidate = join(dir, cmd);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {}
  }
  return undefined;
}

function runText(argv: string[], env: Record<string, string | undefined>): string {
  const p = Bun.spawnSync(argv, { env, stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")} failed: ${p.stderr.toString().trim()}`);
  return p.stdout.toString();
}
