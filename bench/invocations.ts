/**
 * Records the rustc invocations of a build (working dir, cargo's variables, arguments) so that a
 * benchmark can replay each one alone, through galley or straight to rustc.
 */
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Invocation {
  cwd: string;
  /** rustc's path, then its arguments (what cargo passes to RUSTC_WRAPPER). */
  args: string[];
  env: Record<string, string>;
  crate: string;
}

/**
 * Builds `project` (release) with a recording wrapper in front of `galley` and returns the
 * cacheable invocations (probes such as `-vV`, `--print` and stdin input left out).
 */
export function recordInvocations(
  project: string,
  work: string,
  galley: string,
  env: Record<string, string>,
): Invocation[] {
  const log = join(work, "invocations.jsonl");
  const recorder = join(work, "record-rustc");
  writeFileSync(
    recorder,
    `#!/bin/sh\nprintf '%s\\n' "$(${JSON.stringify(process.execPath)} -e 'console.log(JSON.stringify({cwd: process.cwd(), args: process.argv.slice(1), env: Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(CARGO|OUT_DIR|RUST)/.test(k)))}))' -- "$@")" >> ${JSON.stringify(log)}\nexec ${JSON.stringify(galley)} "$@"\n`,
  );
  chmodSync(recorder, 0o755);
  const b = Bun.spawnSync(["cargo", "build", "--release"], {
    cwd: project,
    env: { ...env, RUSTC_WRAPPER: recorder },
    stdout: "ignore",
    stderr: "pipe",
  });
  if (b.exitCode !== 0) throw new Error(`the recording build failed: ${b.stderr}`);
  return readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Omit<Invocation, "crate">)
    .filter(
      (i) =>
        i.args.includes("--crate-name") &&
        !i.args.includes("-") &&
        !i.args.some((a) => a.startsWith("--print")),
    )
    .map((i) => ({ ...i, crate: i.args[i.args.indexOf("--crate-name") + 1]! }));
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
