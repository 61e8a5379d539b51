/**
 * A key for CI caches that save and restore the galley directory whole (actions/cache and the
 * like), in the shape rust-cache users know: `<prefix>-<toolchain and target>-<job>-<inputs>`, and a
 * ladder of restore keys that drops the most specific part first. Entries built by another
 * toolchain or for another target can never hit, so the ladder never crosses those.
 */
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { sha256Hex } from "../cache/engine/digest.ts";
import { findManifest, findWorkspaceRoot } from "../cargo/workspace.ts";
import { InputError } from "../errors.ts";
import { prepare } from "../recipe/prepare.ts";
import { serializeRecipe } from "../recipe/recipe.ts";

export interface CiKeyInput {
  prefix: string;
  /** `rustc -vV` of the toolchain the project builds with. */
  rustcVersion: string;
  /** The targets built (default: the toolchain's host). */
  targets: string[];
  /** Cargo.lock's bytes ("" when there is none). */
  lockfile: string;
  /** galley's recipe of the project (manifests, masked lockfile, toolchain files). */
  recipe: string;
  job: string;
}

export interface CiKey {
  key: string;
  restoreKeys: string[];
}

const short = (s: string) => sha256Hex(s).slice(0, 16);

export function ciKey(input: CiKeyInput): CiKey {
  const host = /^host: (.+)$/m.exec(input.rustcVersion)?.[1] ?? "";
  const targets = input.targets.length > 0 ? [...input.targets].sort() : [host];
  const toolchain = short(`${input.rustcVersion}\0${targets.join(",")}`);
  const job = input.job.replace(/[^A-Za-z0-9_.]+/g, "_") || "job";
  const inputs = short(`${input.lockfile}\0${input.recipe}`);
  const byToolchain = `${input.prefix}-${toolchain}-`;
  const byJob = `${byToolchain}${job}-`;
  return { key: `${byJob}${inputs}`, restoreKeys: [byJob, byToolchain] };
}

/** The lines for `$GITHUB_OUTPUT`: `key=…` and the multi-line `restore-keys`. */
export function githubOutput(k: CiKey): string {
  return `key=${k.key}\nrestore-keys<<GALLEY_RESTORE_KEYS\n${k.restoreKeys.join("\n")}\nGALLEY_RESTORE_KEYS\n`;
}

/** Reads the key's inputs from the project at `start` and the toolchain that builds it there. */
export function ciKeyInput(
  start: string,
  env: Record<string, string | undefined>,
  opts: { prefix: string; targets: string[]; job?: string },
): CiKeyInput {
  const root = dirname(findWorkspaceRoot(findManifest(start)));
  const rustc = env.RUSTC || "rustc";
  const probe = Bun.spawnSync([rustc, "-vV"], {
    cwd: root,
    env: env as Record<string, string>,
    stderr: "pipe",
  });
  if (probe.exitCode !== 0)
    throw new InputError(
      `\`${rustc} -vV\` failed in ${root}: ${probe.stderr.toString().trim().split("\n")[0] ?? ""}`,
      "the key names the toolchain: install it (rustup) or set RUSTC",
    );
  let lockfile = "";
  try {
    lockfile = readFileSync(`${root}/Cargo.lock`, "utf8");
  } catch {}
  const targets =
    opts.targets.length > 0 ? opts.targets : env.CARGO_BUILD_TARGET ? [env.CARGO_BUILD_TARGET] : [];
  return {
    prefix: opts.prefix,
    rustcVersion: probe.stdout.toString(),
    targets,
    lockfile,
    recipe: serializeRecipe(prepare({ start: root, bins: [] }).recipe),
    job: opts.job ?? env.GITHUB_JOB ?? "",
  };
}
