/**
 * Docker builds side by side on a real engine, for bench/web-service (renamed `app` so that the
 * reference Dockerfile fits it unchanged but for its install line):
 *
 *   1. galley's own Dockerfile (`galley dockerfile --write`)
 *   2. the reference Dockerfile with cargo-chef and sccache (real binaries, `cargo install`ed on the
 *      host and copied into the context)
 *   3. the reference Dockerfile with galley under the cargo-chef and sccache names
 *
 * each cold (no layers, no cache mounts), then rebuilt after a one-line source change, then after a
 * new dependency (the dependency layer runs again on warm cache mounts).
 *
 *   ./node_modules/.bin/bun bench/docker.ts [--galley dist/galley]
 *
 * Needs the Docker engine of the end-to-end tests (/opt/galley-docker/env). cargo-chef and sccache
 * are installed with `cargo install --locked` when missing.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { docker, dockerBuild, forgetAll, printedBuild, tagBookwormRust } from "../test/e2e/docker-harness.ts";

const REPO = resolve(import.meta.dir, "..");
const { values: opts } = parseArgs({
  options: { galley: { type: "string", default: join(REPO, "dist/galley") } },
});
// A relative --galley would not be found from the project's directory, where cargo runs it.
opts.galley = resolve(opts.galley);
const cargoBin = join(process.env.CARGO_HOME ?? join(homedir(), ".cargo"), "bin");

function ensureTool(name: string, version: string): string {
  const path = join(cargoBin, name);
  if (!existsSync(path)) {
    console.error(`installing ${name} ${version}...`);
    const p = Bun.spawnSync(["cargo", "install", name, "--locked", "--version", version], {
      stdout: "inherit",
      stderr: "inherit",
    });
    if (p.exitCode !== 0) throw new Error(`cargo install ${name} failed`);
  }
  return path;
}

const work = mkdtempSync(join(tmpdir(), "galley-bench-docker-"));
/** A Dockerfile written for cargo-chef and sccache (planner on the manifests only, non-root runtime). */
const reference = readFileSync(join(REPO, "test/fixtures/dockerfiles/chef-sccache.Dockerfile"), "utf8");
const INSTALL = "RUN cargo install cargo-chef sccache --locked";

/** bench/web-service as a package named `app`, in a fresh context directory. */
function context(name: string): string {
  const dir = join(work, name);
  cpSync(join(REPO, "bench/web-service"), dir, { recursive: true });
  rmSync(join(dir, "target"), { recursive: true, force: true });
  for (const f of ["Cargo.toml", "Cargo.lock"]) {
    const p = join(dir, f);
    writeFileSync(p, readFileSync(p, "utf8").replace('name = "web-service"', 'name = "app"'));
  }
  return dir;
}

interface Row {
  setup: string;
  cold?: number;
  rebuild?: number;
  newDependency?: number;
  failure?: string;
}
const rows: Row[] = [];

/** `galleySaid`: what `galley dockerfile --write` printed, whose docker build line is then used. */
function measure(setup: string, dir: string, galleySaid?: string): void {
  forgetAll();
  const tag = `galley-bench:${rows.length}`;
  const build = () => (galleySaid === undefined ? dockerBuild(dir, tag) : printedBuild(galleySaid, dir, tag));
  const cold = build();
  if (cold.code !== 0) {
    // The reference Dockerfile's planner sees only the manifests: real cargo-chef fails there.
    const error = cold.log
      .split("\n")
      .filter((l) => /error/i.test(l))
      .slice(0, 3)
      .join(" / ");
    rows.push({ setup, failure: error || "the build failed" });
    console.error(`${setup}: cold build failed: ${error}`);
    return;
  }
  const main = join(dir, "src/main.rs");
  writeFileSync(
    main,
    readFileSync(main, "utf8").replace(
      "tracing::info!(port = args.port,",
      "tracing::info!(port = args.port, edited = true,",
    ),
  );
  const rebuild = build();
  if (rebuild.code !== 0) throw new Error(`${setup}: rebuild failed\n${rebuild.log.slice(-3000)}`);
  // A new dependency: the dependency layer is rebuilt; a compiler cache should keep the rest.
  const manifest = join(dir, "Cargo.toml");
  writeFileSync(
    manifest,
    readFileSync(manifest, "utf8").replace("[dependencies]\n", '[dependencies]\nsmallvec = "1"\n'),
  );
  const lock = Bun.spawnSync(["cargo", "update", "--workspace", "--offline"], { cwd: dir, stderr: "pipe" });
  if (lock.exitCode !== 0) throw new Error(`cargo update: ${lock.stderr}`);
  const added = build();
  if (added.code !== 0)
    throw new Error(`${setup}: build with a new dependency failed\n${added.log.slice(-3000)}`);
  const out = docker(["run", "--rm", "--network=none", tag]);
  if (!out.stdout.includes('"sqlite"'))
    throw new Error(`${setup}: the image printed ${out.stdout} ${out.stderr}`);
  docker(["rmi", "-f", tag]);
  rows.push({ setup, cold: cold.seconds, rebuild: rebuild.seconds, newDependency: added.seconds });
  console.error(
    `${setup}: cold ${cold.seconds.toFixed(1)} s, rebuild ${rebuild.seconds.toFixed(1)} s, new dependency ${added.seconds.toFixed(1)} s`,
  );
}

try {
  tagBookwormRust();
  const chef = ensureTool("cargo-chef", "0.1.78");
  const sccache = ensureTool("sccache", "0.19.0");

  const own = context("galley-dockerfile");
  const w = Bun.spawnSync([opts.galley, "dockerfile", "--write"], { cwd: own, stderr: "pipe" });
  if (w.exitCode !== 0) throw new Error(`galley dockerfile: ${w.stderr}`);
  measure("galley dockerfile", own, w.stderr.toString());

  const real = context("reference-chef-sccache");
  mkdirSync(join(real, "tools"));
  cpSync(chef, join(real, "tools/cargo-chef"));
  cpSync(sccache, join(real, "tools/sccache"));
  writeFileSync(
    join(real, "Dockerfile"),
    reference.replace(INSTALL, "COPY tools/cargo-chef tools/sccache /usr/local/cargo/bin/"),
  );
  measure("reference Dockerfile, cargo-chef 0.1.78 + sccache 0.19.0", real);

  // The same tools with the planner in its own stage (the way cargo-chef's documentation uses it),
  // so that real cargo-chef can run at all.
  const staged = context("staged-chef-sccache");
  mkdirSync(join(staged, "tools"));
  cpSync(chef, join(staged, "tools/cargo-chef"));
  cpSync(sccache, join(staged, "tools/sccache"));
  writeFileSync(join(staged, "Dockerfile"), stagedChefDockerfile());
  measure("planner stage of its own, cargo-chef 0.1.78 + sccache 0.19.0", staged);

  const viaGalley = context("reference-galley");
  mkdirSync(join(viaGalley, ".galley"));
  cpSync(opts.galley, join(viaGalley, ".galley/galley"));
  writeFileSync(
    join(viaGalley, "Dockerfile"),
    reference.replace(
      INSTALL,
      "RUN --mount=type=bind,source=.galley/galley,target=/tmp/galley /tmp/galley shims install --copy /usr/local/cargo/bin",
    ),
  );
  measure("reference Dockerfile, galley as cargo-chef + sccache", viaGalley);
} finally {
  console.log("| setup | cold build | rebuild after a one-line change | rebuild after a new dependency |");
  console.log("| --- | --- | --- | --- |");
  for (const r of rows) {
    console.log(
      r.failure
        ? `| ${r.setup} | fails: ${r.failure} | - | - |`
        : `| ${r.setup} | ${r.cold!.toFixed(1)} s | ${r.rebuild!.toFixed(1)} s | ${r.newDependency!.toFixed(1)} s |`,
    );
  }
  rmSync(work, { recursive: true, force: true });
}

function stagedChefDockerfile(): string {
  const mounts = [
    "--mount=type=cache,target=/usr/local/cargo/registry,sharing=locked",
    "--mount=type=cache,target=/usr/local/cargo/git,sharing=locked",
    "--mount=type=cache,target=/sccache,sharing=locked",
  ].join(" ");
  return [
    "FROM rust:1.90 AS chef",
    "COPY tools/cargo-chef tools/sccache /usr/local/cargo/bin/",
    "ENV RUSTC_WRAPPER=sccache SCCACHE_DIR=/sccache",
    "WORKDIR /app",
    "FROM chef AS planner",
    "COPY . .",
    "RUN cargo chef prepare --recipe-path recipe.json",
    "FROM chef AS build",
    "COPY --from=planner /app/recipe.json recipe.json",
    `RUN ${mounts} cargo chef cook --release --recipe-path recipe.json`,
    "COPY . .",
    `RUN ${mounts} cargo build --release --bin app`,
    "FROM ubuntu:24.04 AS runtime",
    "COPY --from=build /app/target/release/app /usr/local/bin/app",
    'ENTRYPOINT ["/usr/local/bin/app"]',
    "",
  ].join("\n");
}
