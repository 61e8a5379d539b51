/** Shared set-up for compiler-cache tests: a copy of the cache-ws fixture built through galley. */
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readEvents, type StatEvent } from "../../src/cache/engine/stats.ts";
import { copyFixture, GALLEY, ok, type RunResult, run, tempDir } from "../helpers.ts";

export interface CacheProject {
  dir: string;
  cacheDir: string;
}

export function cacheProject(cacheDir = join(tempDir("galley-cache-"), "cache")): CacheProject {
  return { dir: copyFixture("cache-ws"), cacheDir };
}

export interface CachedBuild {
  events: StatEvent[];
  result: RunResult;
  /** Crate names by outcome, sorted. */
  hits: string[];
  misses: string[];
  passthroughs: string[];
  errors: string[];
}

/** cargo build (dev profile, not incremental) through galley, from a clean target dir by default. */
export function cachedBuild(
  p: CacheProject,
  opts: { env?: Record<string, string>; args?: string[]; clean?: boolean; wrapper?: string } = {},
): CachedBuild {
  if (opts.clean !== false) rmSync(join(p.dir, "target"), { recursive: true, force: true });
  rmSync(join(p.cacheDir, "v1", "stats.log"), { force: true });
  const env = {
    RUSTC_WRAPPER: opts.wrapper ?? GALLEY,
    GALLEY_DIR: p.cacheDir,
    CARGO_INCREMENTAL: "0",
    ...opts.env,
  };
  const result = ok(
    run(["cargo", "build", ...(opts.args ?? [])], { cwd: p.dir, env }),
    "cargo build through galley",
  );
  const events = readEvents(p.cacheDir);
  const names = (o: string) =>
    [...new Set(events.filter((e) => e.outcome === o).map((e) => e.crate ?? "?"))].sort();
  return {
    events,
    result,
    hits: names("hit"),
    misses: names("miss"),
    passthroughs: names("passthrough"),
    errors: names("error"),
  };
}

export function appOutput(p: CacheProject): string {
  return ok(run([join(p.dir, "target", "debug", "app")], { cwd: p.dir }), "app").stdout;
}

export function edit(path: string, from: string | RegExp, to: string): () => void {
  const before = readFileSync(path, "utf8");
  const after = before.replace(from, to);
  if (after === before) throw new Error(`edit of ${path} changed nothing`);
  writeFileSync(path, after);
  return () => writeFileSync(path, before);
}

export const ALL_UNITS = ["app", "build_script_build", "cfg_if", "corelib", "hello_derive", "itoa"];

/** A rustc that logs each compile's crate name, then runs the real one: counts real compiles. */
export function loggingRustc(): { path: string; compiled(): string[] } {
  const dir = tempDir("galley-rustc-");
  const log = join(dir, "log");
  const real = ok(run(["rustup", "which", "rustc"], { cwd: dir }), "rustup which rustc").stdout.trim();
  const path = join(dir, "rustc");
  writeFileSync(
    path,
    `#!/bin/sh\ncase " $* " in *" --crate-name "*) echo "$*" | sed 's/.*--crate-name \\([^ ]*\\).*/\\1/' >> "${log}";; esac\nexec "${real}" "$@"\n`,
  );
  chmodSync(path, 0o755);
  return {
    path,
    compiled: () => {
      try {
        return readFileSync(log, "utf8")
          .split("\n")
          .filter((l) => l && l !== "___")
          .sort();
      } catch {
        return [];
      }
    },
  };
}
