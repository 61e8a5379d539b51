/** cook: recipe -> skeleton -> cargo, then remove the dummy units' outputs and restore the tree. */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { lockPackages } from "../cargo/lockfile.ts";
import { cargoInvocation, runStreaming } from "../cargo/run.ts";
import { ChildFailed, GalleyError, InputError } from "../errors.ts";
import { note } from "../util/term.ts";
import { type CookOptions, cargoCommand } from "./cook-args.ts";
import { parseRecipe, type Recipe } from "./recipe.ts";
import { writeSkeleton } from "./skeleton.ts";
import { type CargoMessage, LocalUnitCollector } from "./unit-cleanup.ts";

export interface CookResult {
  exitCode: number;
  removedUnits: number;
}

export function readRecipe(path: string): Recipe {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      `${path}: cannot read the recipe (${code ?? String(err)})`,
      code === "ENOENT" ? "run galley prepare first, or pass --recipe-path" : undefined,
    );
  }
  return parseRecipe(text, path);
}

export async function cook(o: CookOptions, passthrough: string[], cwd: string): Promise<CookResult> {
  // cargo runs in the skeleton's directory: a relative target dir stays relative to where cook was run.
  if (o["target-dir"] !== undefined) o = { ...o, "target-dir": resolve(cwd, o["target-dir"]) };
  const { subcommand, args } = cargoCommand(o, passthrough); // validate flags before touching files
  const recipe = readRecipe(resolve(cwd, o["recipe-path"] ?? "recipe.json"));
  const dir = o["manifest-path"] ? dirname(resolve(cwd, o["manifest-path"])) : cwd;

  const skeleton = writeSkeleton(dir, recipe, { noStd: o["no-std"], force: o.force });
  if (o["no-build"]) {
    note(`wrote the skeleton (${recipe.sources.length} dummy sources) without building`);
    return { exitCode: 0, removedUnits: 0 };
  }

  // Interrupted while cargo runs: stop cargo, and let the cleanup and the restore below run; a second
  // signal (or one before cargo started) restores the directory and exits at once.
  let interrupted: number | undefined;
  let stopCargo: ((signal: NodeJS.Signals) => void) | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    const exitCode = signal === "SIGINT" ? 130 : 143;
    if (stopCargo && interrupted === undefined) {
      interrupted = exitCode;
      stopCargo(signal);
      return;
    }
    try {
      skeleton.restore();
    } finally {
      process.exit(exitCode);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const collector = new LocalUnitCollector(new Set(recipe.real.map((d) => resolve(dir, d))));
  let code: number;
  try {
    const pinsToolchain = recipe.files.some((f) => f.kind === "toolchain");
    const { cargo, env } = cargoInvocation(process.env, pinsToolchain);
    if (env.CARGO_TARGET_DIR) env.CARGO_TARGET_DIR = resolve(cwd, env.CARGO_TARGET_DIR);
    if (recipe.pruned && (o.locked || o.frozen)) {
      await trimPrunedLock({ cargo, env, dir, offline: o.offline || o.frozen });
    }
    const argv = [
      cargo,
      subcommand,
      "--manifest-path",
      join(dir, "Cargo.toml"),
      "--message-format=json-render-diagnostics",
      ...args,
    ];
    code = await runStreaming(argv, {
      cwd: dir,
      env,
      onLine: (line) => {
        if (line.startsWith("{")) {
          try {
            collector.add(JSON.parse(line) as CargoMessage);
            return;
          } catch {
            // not one of cargo's messages: show it as it is
          }
        }
        process.stdout.write(`${line}\n`);
      },
      onSpawn: (kill) => {
        stopCargo = kill;
      },
    }).catch((err: Error) => {
      throw new GalleyError(err.message, 127, "install Rust (cargo) or set $CARGO");
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    try {
      collector.removeAll();
    } finally {
      skeleton.restore();
    }
  }
  if (interrupted !== undefined) return { exitCode: interrupted, removedUnits: collector.removals.length };
  if (code !== 0) throw new ChildFailed(`cargo ${subcommand}`, code);
  return { exitCode: 0, removedUnits: collector.removals.length };
}

/**
 * A `--bin` recipe's Cargo.lock holds what the kept members reach in the whole workspace's lockfile;
 * features that left-out members turned on may have pulled in more, and `--locked` would refuse to
 * let cargo drop it. cargo drops it here, and anything but a removal is the error `--locked` means.
 */
async function trimPrunedLock(o: {
  cargo: string;
  env: Record<string, string | undefined>;
  dir: string;
  offline: boolean;
}): Promise<void> {
  const lockPath = join(o.dir, "Cargo.lock");
  let before: string;
  try {
    before = readFileSync(lockPath, "utf8");
  } catch {
    return; // no lockfile: --locked reports that itself
  }
  const argv = [o.cargo, "update", "--workspace", "--manifest-path", join(o.dir, "Cargo.toml"), "--quiet"];
  if (o.offline) argv.push("--offline");
  const code = await runStreaming(argv, {
    cwd: o.dir,
    env: o.env,
    onLine: (l) => process.stdout.write(`${l}\n`),
  });
  if (code !== 0) throw new ChildFailed("cargo update --workspace (trimming the pruned Cargo.lock)", code);
  const kept = lockPackages(before);
  const added = [...lockPackages(readFileSync(lockPath, "utf8"))].filter((p) => !kept.has(p));
  if (added.length > 0) {
    throw new GalleyError(
      `Cargo.lock needs to be updated but --locked was passed: ${added.map((p) => p.trim()).join(", ")}`,
      101,
      "run cargo update (or cargo generate-lockfile) in the project and commit Cargo.lock",
    );
  }
}
