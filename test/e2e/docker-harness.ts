/**
 * A real Docker engine for end-to-end tests: the one `.ci/run` starts before the tests (its
 * environment is in /opt/galley-docker/env). Builds use --network=host (cargo inside reaches
 * crates.io) and runs --network=none.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GALLEY, type RunResult, run } from "../helpers.ts";

const ENV_FILE = "/opt/galley-docker/env";

/** The engine's environment (DOCKER_HOST, PATH with the right CLI), or undefined without one. */
export function dockerEnv(): Record<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(ENV_FILE, "utf8");
  } catch {
    return undefined;
  }
  const env: Record<string, string> = {};
  for (const m of text.matchAll(/^export (\w+)=(.*)$/gm)) {
    env[m[1]!] = m[2]!.replace(/\$PATH/, process.env.PATH ?? "");
  }
  const probe = run(["docker", "version", "--format", "{{.Server.Version}}"], { cwd: "/", env });
  return probe.code === 0 ? env : undefined;
}

export const DOCKER = dockerEnv();
/** In CI the engine must be there: a missing engine fails the suite instead of skipping it. */
export const SKIP_DOCKER = DOCKER === undefined && process.env.CI !== "true";

export function docker(args: string[], cwd = "/"): RunResult {
  if (!DOCKER) throw new Error(`no Docker engine answers (.ci/run starts one; see ${ENV_FILE})`);
  return run(["docker", ...args], { cwd, env: DOCKER });
}

export interface BuildResult extends RunResult {
  seconds: number;
  /** BuildKit's plain progress log (stderr). */
  log: string;
}

/**
 * Forget the layer cache, keep the cache mounts: the next build runs every step again on warm
 * mounts. (`--no-cache` would not do: this BuildKit then also starts the cache mounts empty.)
 */
export function forgetLayers(): void {
  for (const type of ["regular", "source.local"])
    docker(["builder", "prune", "-af", "--filter", `type=${type}`]);
}

/**
 * The generated Dockerfile builds on rust:X.Y-bookworm; the local stand-in image is bookworm, so it
 * gets that tag too (nothing can be pulled here).
 */
export function tagBookwormRust(): string {
  const m = /^rustc (\d+\.\d+)/.exec(run(["rustc", "--version"], { cwd: "/" }).stdout);
  const version = m?.[1] ?? "1";
  if (docker(["image", "inspect", `rust:${version}-bookworm`]).code !== 0) {
    const r = docker(["tag", `rust:${version}`, `rust:${version}-bookworm`]);
    if (r.code !== 0) throw new Error(`no local rust:${version} image to tag: ${r.stderr}`);
  }
  return version;
}

/** Forget everything, cache mounts included: the next build is cold. */
export function forgetAll(): void {
  docker(["builder", "prune", "-af"]);
}

/** docker build --network=host with plain progress; a `# syntax=` line is dropped (offline). */
export function dockerBuild(
  context: string,
  tag: string,
  opts: { file?: string; noCache?: boolean } = {},
): BuildResult {
  const dockerfile = readFileSync(join(context, opts.file ?? "Dockerfile"), "utf8").replace(
    /^#\s*syntax\s*=.*\n/i,
    "",
  );
  const tmp = mkdtempSync(join(tmpdir(), "galley-dockerfile-"));
  writeFileSync(join(tmp, "Dockerfile"), dockerfile);
  const started = performance.now();
  const r = docker(
    [
      "build",
      "--network=host",
      "--progress=plain",
      ...(opts.noCache ? ["--no-cache"] : []),
      "-f",
      join(tmp, "Dockerfile"),
      "-t",
      tag,
      ".",
    ],
    context,
  );
  rmSync(tmp, { recursive: true, force: true });
  return { ...r, seconds: (performance.now() - started) / 1000, log: r.stderr };
}

/**
 * Runs the `docker build` line galley printed ("build it with: docker build ..."), from `cwd`, as
 * printed but for the tag, with --network=host, plain progress and `extra` flags (e.g. --target).
 */
export function printedBuild(
  galleyStderr: string,
  cwd: string,
  tag: string,
  extra: string[] = [],
): BuildResult {
  const line = /build it with: (docker build .*)$/m.exec(galleyStderr)?.[1];
  if (!line) throw new Error(`galley printed no docker build line:\n${galleyStderr}`);
  // The printed words need no shell here (no quotes: the test's paths have no spaces).
  const words = line.split(" ").slice(2);
  const t = words.indexOf("-t");
  if (t >= 0) words.splice(t, 2);
  const started = performance.now();
  const r = docker(["build", "--network=host", "--progress=plain", ...extra, "-t", tag, ...words], cwd);
  return { ...r, seconds: (performance.now() - started) / 1000, log: r.stderr };
}

/** Each layer of an image, newest first: its size in bytes and the instruction that made it. */
export function imageLayers(tag: string): { size: number; createdBy: string }[] {
  const r = docker(["history", "--human=false", "--no-trunc", "--format", "{{.Size}}|{{.CreatedBy}}", tag]);
  if (r.code !== 0) throw new Error(`docker history ${tag}: ${r.stderr}`);
  return r.stdout
    .trim()
    .split("\n")
    .map((l) => {
      const bar = l.indexOf("|");
      return { size: Number(l.slice(0, bar)), createdBy: l.slice(bar + 1) };
    });
}

/** Every path in every layer of an image (from `docker save`), without a leading `./`. */
export function layerEntries(tag: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), "galley-save-"));
  try {
    const saved = docker(["save", "-o", join(dir, "image.tar"), tag]);
    if (saved.code !== 0) throw new Error(`docker save ${tag}: ${saved.stderr}`);
    const manifest = JSON.parse(
      run(["tar", "-xOf", join(dir, "image.tar"), "manifest.json"], { cwd: dir }).stdout,
    ) as { Layers: string[] }[];
    const entries: string[] = [];
    for (const layer of manifest[0]!.Layers) {
      run(["tar", "-xf", join(dir, "image.tar"), layer], { cwd: dir });
      const list = run(["tar", "-tf", join(dir, layer)], { cwd: dir });
      if (list.code !== 0) throw new Error(`layer ${layer} of ${tag}: ${list.stderr}`);
      entries.push(
        ...list.stdout
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => l.replace(/^\.\//, "")),
      );
    }
    return entries;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The step of a BuildKit plain log whose command contains `needle`: was it CACHED? */
export function stepCached(log: string, needle: string): boolean {
  const lines = log.split("\n");
  const header = lines.find((l) => /^#\d+ \[/.test(l) && l.includes(needle));
  if (!header) throw new Error(`no build step with ${needle} in the log`);
  const id = header.split(" ")[0]!;
  return lines.some((l) => l === `${id} CACHED`);
}

/**
 * galley's stats from a cache mount (by id), read or zeroed by a throw-away build that mounts it.
 */
export function mountStats(
  mountId: string,
  action: "read" | "zero" | "clear",
): { hits: number; misses: number; remoteHits: number; crates: Record<string, string> } {
  const ctx = mkdtempSync(join(tmpdir(), "galley-stats-"));
  try {
    const galleyBin = join(ctx, "galley");
    writeFileSync(galleyBin, readFileSync(GALLEY));
    const cmd =
      action === "zero"
        ? "/galley stats --zero > /out.json"
        : action === "clear"
          ? "/galley cache clear && /galley stats --zero > /out.json"
          : "/galley stats --json > /out.json && cat /cache/v1/stats.log > /events.log || true";
    // A nonce keeps the step from being cached; --no-cache would start the mount empty.
    const nonce = `${Date.now()}-${Math.random()}`;
    writeFileSync(
      join(ctx, "Dockerfile"),
      `FROM debian:bookworm-slim AS s\nCOPY --chmod=0755 galley /galley\nRUN --mount=type=cache,id=${mountId},target=/cache,sharing=shared echo ${nonce} >/dev/null; GALLEY_DIR=/cache ${cmd} && touch /events.log\nFROM scratch\nCOPY --from=s /out.json /events.log /\n`,
    );
    const out = join(ctx, "out");
    const r = docker(["build", "--network=none", "-q", "-o", `type=local,dest=${out}`, "."], ctx);
    if (r.code !== 0) throw new Error(`stats build failed: ${r.stderr}`);
    if (action !== "read") return { hits: 0, misses: 0, remoteHits: 0, crates: {} };
    const s = JSON.parse(readFileSync(join(out, "out.json"), "utf8"));
    const crates: Record<string, string> = {};
    for (const line of readFileSync(join(out, "events.log"), "utf8").split("\n")) {
      if (!line) continue;
      const e = JSON.parse(line) as { crate?: string; outcome: string };
      if (e.crate) crates[e.crate] = e.outcome;
    }
    return { hits: s.hits, misses: s.misses, remoteHits: s.remoteHits ?? 0, crates };
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}
