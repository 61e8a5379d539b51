/** Running cargo: which binary, which environment, and a line-by-line view of its stdout. */
import { debug } from "../util/term.ts";

export interface CargoInvocation {
  cargo: string;
  env: Record<string, string | undefined>;
}

/**
 * `$CARGO` when set, else `cargo`. When the project pins a toolchain, the pin wins over the toolchain
 * rustup picked for *our* process: under `cargo chef cook`, rustup resolved the toolchain from the
 * directory before the skeleton (and its toolchain file) existed, and `$CARGO` points into it.
 * A toolchain the user chose explicitly (`cargo +x`, `RUSTUP_TOOLCHAIN=x`) is kept.
 */
export function cargoInvocation(
  env: Record<string, string | undefined>,
  projectPinsToolchain: boolean,
): CargoInvocation {
  const out = { ...env };
  let cargo = env.CARGO ?? "cargo";
  if (projectPinsToolchain) {
    const source = env.RUSTUP_TOOLCHAIN_SOURCE;
    const chosenByUser =
      source === "env" || source === "cli" || (source === undefined && env.CARGO === undefined);
    if (env.RUSTUP_TOOLCHAIN !== undefined && !chosenByUser) {
      debug(
        `ignoring RUSTUP_TOOLCHAIN=${env.RUSTUP_TOOLCHAIN} (set by rustup, source ${source ?? "unknown"})`,
      );
      delete out.RUSTUP_TOOLCHAIN;
      delete out.RUSTUP_TOOLCHAIN_SOURCE;
      if (env.CARGO && /[\\/]toolchains[\\/]/.test(env.CARGO)) cargo = "cargo";
    }
  }
  return { cargo, env: out };
}

/** Runs a command, handing each stdout line to `onLine`; stderr and stdin are the user's. */
export async function runStreaming(
  argv: string[],
  opts: {
    cwd: string;
    env: Record<string, string | undefined>;
    onLine: (line: string) => void;
    /** Called once the command runs, with a way to signal it. */
    onSpawn?: (kill: (signal: NodeJS.Signals) => void) => void;
  },
): Promise<number> {
  debug(`running ${argv.join(" ")}`);
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    proc = Bun.spawn(argv, {
      cwd: opts.cwd,
      env: opts.env,
      stdin: "inherit",
      stdout: "pipe",
      stderr: "inherit",
    });
  } catch (err) {
    throw new Error(`cannot run ${argv[0]}: ${(err as Error).message}`);
  }
  opts.onSpawn?.((signal) => proc.kill(signal));
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
    pending += decoder.decode(chunk, { stream: true });
    let nl = pending.indexOf("\n");
    while (nl !== -1) {
      opts.onLine(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      nl = pending.indexOf("\n");
    }
  }
  if (pending) opts.onLine(pending);
  return await proc.exited;
}
