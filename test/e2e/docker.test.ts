/**
 * End to end on a real Docker engine (BuildKit): `galley dockerfile --write` then `docker build`,
 * rebuilds after a source change and after a new dependency, the reference Dockerfile with only its
 * install line changed, and two builds at once on the same cache mounts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  copyFixture,
  FIXTURES,
  GALLEY,
  galley,
  listTree,
  ok,
  REPO,
  removeDir,
  run,
  tempDir,
} from "../helpers.ts";
import {
  docker,
  dockerBuild,
  forgetAll,
  forgetLayers,
  imageLayers,
  layerEntries,
  mountStats,
  printedBuild,
  SKIP_DOCKER,
  stepCached,
  tagBookwormRust,
} from "./docker-harness.ts";

const root = tempDir("galley-e2e-");
const tags: string[] = [];
const timings: string[] = [];
afterAll(() => {
  for (const t of tags) docker(["rmi", "-f", t]);
  removeDir(root);
  if (timings.length > 0) console.log(`docker timings:\n  ${timings.join("\n  ")}`);
});

/** What `galley dockerfile --write` printed in each project (its docker build line). */
const printed = new Map<string, string>();
let rustVersion = "1";
let projects = 0;

function project(fixture: string): string {
  const dir = copyFixture(fixture, join(root, `${fixture}-${projects++}`));
  printed.set(dir, ok(galley(["dockerfile", "--write"], { cwd: dir }), "galley dockerfile --write").stderr);
  return dir;
}

/** Builds with the line galley printed for a generated Dockerfile, else the Dockerfile as it is. */
function build(dir: string, tag: string, extra: string[] = []) {
  tags.push(tag);
  const said = printed.get(dir);
  const r = said === undefined ? dockerBuild(dir, tag) : printedBuild(said, dir, tag, extra);
  if (r.code !== 0) throw new Error(`docker build ${tag} failed:\n${r.log.slice(-4000)}`);
  return r;
}

/** The report Dockerfile of docs/ci.md, as written there. */
function reportDockerfile(): string {
  const doc = readFileSync(join(REPO, "docs", "ci.md"), "utf8");
  const m = /```dockerfile\n(# report\.Dockerfile[\s\S]*?)```/.exec(doc);
  if (!m) throw new Error("docs/ci.md has no report.Dockerfile block");
  return m[1]!;
}

function runImage(tag: string, args: string[] = []): string {
  return ok(docker(["run", "--rm", "--network=none", ...args, tag]), `docker run ${tag}`).stdout;
}

describe.skipIf(SKIP_DOCKER)("galley dockerfile on a real engine", () => {
  beforeAll(() => {
    rustVersion = tagBookwormRust();
    // Cold means cold: no layers and no cache mounts from earlier runs.
    forgetAll();
  });

  test("a single crate with a bundled C library: the image runs and runs as the non-root user", () => {
    const dir = project("docker-app");
    const cold = build(dir, "galley-e2e-app:1");
    timings.push(`galley Dockerfile, single crate, cold: ${cold.seconds.toFixed(1)} s`);
    expect(runImage("galley-e2e-app:1")).toMatch(/^app says hello \(zlib [\d.]+, 42\)$/m);
    expect(runImage("galley-e2e-app:1", ["--entrypoint", "id"])).toContain("uid=10001");
    // A rebuild from scratch restores every unit from the cache mount, build script runs included.
    mountStats("galley-amd64", "zero");
    forgetLayers();
    const again = build(dir, "galley-e2e-app:1");
    timings.push(
      `galley Dockerfile, single crate, rebuild with every layer forgotten (warm cache mounts): ${again.seconds.toFixed(1)} s`,
    );
    const s = mountStats("galley-amd64", "read");
    expect(s.misses).toBe(0);
    // libz-sys's build script, which compiles zlib's C, is restored as a whole: no C compiler starts.
    expect(s.crates["build_script:libz_sys"]).toBe("hit");
    expect(Object.keys(s.crates).filter((c) => c.startsWith("cc:"))).toEqual([]);
    expect(Object.values(s.crates).every((o) => o === "hit")).toBe(true);
  });

  test("a workspace: a one-line change reuses the dependency layer and hits every unchanged crate", () => {
    const dir = project("docker-ws");
    const cold = build(dir, "galley-e2e-ws:1");
    timings.push(`galley Dockerfile, workspace, cold: ${cold.seconds.toFixed(1)} s`);
    expect(runImage("galley-e2e-ws:1")).toBe("hello docker from a unix container #1\n");

    const main = join(dir, "app/src/main.rs");
    writeFileSync(main, readFileSync(main, "utf8").replace("buf.format(1)", "buf.format(2)"));
    mountStats("galley-amd64", "zero");
    const rebuild = build(dir, "galley-e2e-ws:2");
    timings.push(
      `galley Dockerfile, workspace, rebuild after a one-line change: ${rebuild.seconds.toFixed(1)} s`,
    );
    expect(stepCached(rebuild.log, "galley cook")).toBe(true);
    expect(runImage("galley-e2e-ws:2")).toBe("hello docker from a unix container #2\n");
    const s = mountStats("galley-amd64", "read");
    expect(s.crates).toEqual({ greeting: "hit", server: "miss" });
    // The build step's log ends with one line of what the cache did in that build.
    expect(rebuild.log).toMatch(
      /galley: 2 units, 1 hits, 1 misses; [\d.]+ m?s saved; top miss: server \(bin\) [\d.]+ m?s: ~ file:app\/src\/main.rs/,
    );

    // galley report against the cache mount afterwards, as docs/ci.md says.
    const report = join(root, "report");
    writeFileSync(join(dir, "report.Dockerfile"), reportDockerfile());
    const r = docker(
      [
        "build",
        "--network=none",
        "-f",
        "report.Dockerfile",
        "--build-context",
        "galley=.galley",
        "--build-arg",
        `REPORT_AT=${Date.now()}`,
        "--output",
        `type=local,dest=${report}`,
        ".",
      ],
      dir,
    );
    expect(r.code).toBe(0);
    const html = readFileSync(join(report, "galley-report.html"), "utf8");
    expect(html.match(/<a class="bar /g)).toHaveLength(2);
    expect(html).toMatch(/<li class="miss-item miss"[^>]*><a class="unit" href="#u-\d+">server \(bin\)<\/a>/);
  });

  test("a new dependency: the cook runs again and every unchanged dependency hits", () => {
    const dir = project("docker-ws");
    build(dir, "galley-e2e-ws:3");
    const manifest = join(dir, "greeting/Cargo.toml");
    writeFileSync(manifest, `${readFileSync(manifest, "utf8")}either = "1"\n`);
    ok(run(["cargo", "generate-lockfile", "--offline"], { cwd: dir }), "cargo generate-lockfile");
    mountStats("galley-amd64", "zero");
    const rebuild = build(dir, "galley-e2e-ws:4");
    expect(stepCached(rebuild.log, "galley cook")).toBe(false);
    const s = mountStats("galley-amd64", "read");
    expect(s.crates.either).toBe("miss");
    expect(s.crates.cfg_if).toBe("hit");
    expect(s.crates.itoa).toBe("hit");
    expect(runImage("galley-e2e-ws:4")).toBe("hello docker from a unix container #1\n");
  });

  test("a cargo-chef + sccache Dockerfile, with only its install line changed, builds and its rebuild hits", () => {
    const dir = copyFixture("docker-app", join(root, "reference"));
    mkdirSync(join(dir, ".galley"), { recursive: true });
    cpSync(GALLEY, join(dir, ".galley/galley"));
    const reference = readFileSync(join(FIXTURES, "dockerfiles", "chef-sccache.Dockerfile"), "utf8");
    const install = "RUN cargo install cargo-chef sccache --locked";
    expect(reference).toContain(install);
    writeFileSync(
      join(dir, "Dockerfile"),
      reference.replace(
        install,
        "RUN --mount=type=bind,source=.galley/galley,target=/tmp/galley /tmp/galley shims install --copy /usr/local/cargo/bin",
      ),
    );
    const cold = build(dir, "galley-e2e-ref:1");
    timings.push(
      `reference Dockerfile through galley's cargo-chef and sccache names, cold: ${cold.seconds.toFixed(1)} s`,
    );
    expect(runImage("galley-e2e-ref:1")).toMatch(/^app says hello/m);
    expect(runImage("galley-e2e-ref:1", ["--entrypoint", "id"])).toContain("uid=1001(svc)");

    const main = join(dir, "src/main.rs");
    writeFileSync(main, readFileSync(main, "utf8").replace("app says hello", "app says hi"));
    const rebuild = build(dir, "galley-e2e-ref:2");
    timings.push(
      `reference Dockerfile through galley, rebuild after a one-line change: ${rebuild.seconds.toFixed(1)} s`,
    );
    expect(stepCached(rebuild.log, "cargo chef cook")).toBe(true);
    expect(runImage("galley-e2e-ref:2")).toMatch(/^app says hi/m);

    // From scratch again: every dependency comes out of the sccache mount (galley's store).
    mountStats("/var/cache/sccache", "zero");
    forgetLayers();
    build(dir, "galley-e2e-ref:3");
    const s = mountStats("/var/cache/sccache", "read");
    expect(s.hits).toBeGreaterThan(0);
    expect(Object.entries(s.crates).filter(([c, o]) => c !== "app" && o !== "hit")).toEqual([]);
  });

  test("galley's executable: out of git, out of every COPY . . layer and the runtime; a clean checkout builds with the printed line", () => {
    const repo = copyFixture("docker-ws", join(root, "git-repo"));
    const git = (args: string[], cwd = repo) => ok(run(["git", ...args], { cwd }), `git ${args[0]}`).stdout;
    git(["init", "-q"]);
    git(["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "project", "--allow-empty"]);
    git(["add", "-A"]);
    git(["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "sources"]);
    ok(galley(["dockerfile", "--write"], { cwd: repo }));
    expect(existsSync(join(repo, ".galley/galley"))).toBe(true);
    // Only what belongs in the repository shows up; `git add -A` then never takes the executable.
    expect(git(["status", "--porcelain", "--untracked-files=all"]).trim().split("\n").sort()).toEqual([
      "?? .dockerignore",
      "?? Dockerfile",
    ]);
    git(["add", "-A"]);
    git(["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "Dockerfile"]);
    expect(git(["ls-files"])).not.toContain(".galley");

    // A clean checkout: `galley dockerfile --write` puts the executable back and changes nothing else.
    const clone = join(root, "git-clone");
    ok(run(["git", "clone", "-q", repo, clone], { cwd: root }), "git clone");
    const again = ok(galley(["dockerfile", "--write"], { cwd: clone }));
    expect(again.stderr).toContain("copied galley's executable to");
    expect(git(["status", "--porcelain", "--untracked-files=all"], clone)).toBe("");
    // Without the named context the build stops and says what to add.
    const plain = docker(["build", "--network=host", "--progress=plain", "."], clone);
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toContain("build with --build-context galley=.galley");

    printed.set(clone, again.stderr);
    expect(again.stderr).toContain("build it with: docker build --build-context galley=.galley -t server .");
    build(clone, "galley-e2e-git:1");
    expect(runImage("galley-e2e-git:1")).toBe("hello docker from a unix container #1\n");

    // Layer by layer: a layer holding galley is at least its size; only the install layer is.
    const size = statSync(GALLEY).size;
    const base = imageLayers(`rust:${rustVersion}-bookworm`).length;
    for (const stage of ["planner", "builder"]) {
      build(clone, `galley-e2e-git:${stage}`, ["--target", stage]);
      const all = imageLayers(`galley-e2e-git:${stage}`);
      const layers = all.slice(0, all.length - base); // the Dockerfile's own, not the rust image's
      expect(layers.filter((l) => l.size >= size).map((l) => l.createdBy)).toEqual([
        expect.stringContaining("/usr/local/bin/galley"),
      ]);
      const copies = layers.filter((l) => l.createdBy.startsWith("COPY . ."));
      expect(copies.length).toBe(1);
      expect(copies[0]!.size).toBeLessThan(1_000_000);
    }
    // The runtime image, file by file: no galley anywhere in its layers.
    const entries = layerEntries("galley-e2e-git:1");
    expect(entries).toContain("usr/local/bin/server");
    expect(entries.filter((e) => /(^|\/)\.?galley(\/|$)/.test(e))).toEqual([]);
  });

  test("a member depending on a crate outside the workspace: the context is their common directory, only what the build needs is sent, the image runs", () => {
    const top = copyFixture("docker-outside", join(root, "outside"));
    const ws = join(top, "ws");
    const w = ok(galley(["dockerfile", "--write"], { cwd: ws }));
    expect(readFileSync(join(ws, "Dockerfile"), "utf8")).toContain("\n# Build context: ..\n");
    expect(w.stderr).toContain(
      "build it with: docker build -f Dockerfile --build-context galley=.galley -t app ..",
    );
    printed.set(ws, w.stderr);
    const cold = build(ws, "galley-e2e-outside:1");
    timings.push(
      `galley Dockerfile, path dependency outside the workspace, cold: ${cold.seconds.toFixed(1)} s`,
    );
    expect(runImage("galley-e2e-outside:1")).toBe("app uses shared-lib #7\n");

    // What the generated ignore file sends: a probe Dockerfile with the same ignore file copies the
    // context out as BuildKit sees it (build outputs and unrelated directories left out).
    mkdirSync(join(ws, "target/release"), { recursive: true });
    writeFileSync(join(ws, "target/release/app"), "stale");
    const probe = join(root, "probe");
    mkdirSync(probe);
    writeFileSync(join(probe, "Dockerfile"), "FROM scratch\nCOPY . /\n");
    cpSync(join(ws, "Dockerfile.dockerignore"), join(probe, "Dockerfile.dockerignore"));
    const out = join(root, "probe-out");
    ok(docker(["build", "-q", "-f", join(probe, "Dockerfile"), "-o", `type=local,dest=${out}`, ".."], ws));
    expect(listTree(out)).toEqual([
      "shared-lib",
      "shared-lib/Cargo.toml",
      "shared-lib/src",
      "shared-lib/src/lib.rs",
      "ws",
      "ws/Cargo.lock",
      "ws/Cargo.toml",
      "ws/crates",
      "ws/crates/app",
      "ws/crates/app/Cargo.toml",
      "ws/crates/app/src",
      "ws/crates/app/src/main.rs",
    ]);
  });

  test("two builds at once on the same cache mounts both succeed", async () => {
    forgetLayers();
    const a = project("docker-app");
    const b = project("docker-ws");
    const env = { ...process.env, ...(await import("./docker-harness.ts")).DOCKER };
    const procs = [
      [a, "galley-e2e-par:a"],
      [b, "galley-e2e-par:b"],
    ].map(([dir, tag]) => {
      tags.push(tag!);
      return Bun.spawn(
        ["docker", "build", "--network=host", "-q", "--build-context", "galley=.galley", "-t", tag!, "."],
        {
          cwd: dir!,
          env,
          stdout: "pipe",
          stderr: "pipe",
        },
      );
    });
    const codes = await Promise.all(procs.map((p) => p.exited));
    expect(codes).toEqual([0, 0]);
    expect(runImage("galley-e2e-par:a")).toMatch(/^app says hello/m);
    expect(runImage("galley-e2e-par:b")).toBe("hello docker from a unix container #1\n");
  });
});
