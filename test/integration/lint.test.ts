/** `galley lint` as a user runs it (dist/galley): formats, exit codes, ignores, config, context. */
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RULES } from "../../src/docker/lint/registry.ts";
import { FIXTURES, GALLEY, galley, removeDir, run, tempDir, writeTree } from "../helpers.ts";

const REFERENCE = join(FIXTURES, "lint", "depot-rust.Dockerfile");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) removeDir(d);
});

/** A temp directory holding the reference as ./Dockerfile, plus `files`. */
function project(files: Record<string, string> = {}): string {
  const dir = tempDir("galley-lint-");
  dirs.push(dir);
  copyFileSync(REFERENCE, join(dir, "Dockerfile"));
  return writeTree(dir, files);
}

const REFERENCE_TEXT = [
  "Dockerfile:3:5: info GL115 cargo install cargo-chef sccache names no version: each rebuild of this layer may install a different release",
  "Dockerfile:8:5: warning GL107 cargo chef prepare sees only Cargo.toml, Cargo.lock: cargo-chef fails here; galley has to guess each package's targets",
  "Dockerfile:12:1: warning GL105 cargo chef cook without --locked: cargo may resolve other versions than Cargo.lock pins",
  "Dockerfile:17:1: warning GL105 cargo build without --locked: cargo may resolve other versions than Cargo.lock pins",
  "Dockerfile:21:44: warning GL112 /app/target/release/app is linked against glibc 2.41 (rust:1.90 is Debian 13 trixie) but the runtime ubuntu:24.04 has glibc 2.39 (Ubuntu 24.04): it may fail with GLIBC_2.xx not found",
];

describe("text", () => {
  test("./Dockerfile by default; warnings pass --fail-on error", () => {
    const cwd = project();
    const r = galley(["lint"], { cwd });
    expect(r.stdout).toBe(`${REFERENCE_TEXT.join("\n")}\n`);
    expect(r.stderr).toBe("galley: 5 findings in 1 file (0 errors, 4 warnings, 1 info)\n");
    expect(r.code).toBe(0);
  });

  test("--fail-on warning fails on them, --fail-on info too", () => {
    const cwd = project();
    expect(galley(["lint", "--fail-on", "warning"], { cwd }).code).toBe(1);
    expect(galley(["lint", "--fail-on=info", "Dockerfile"], { cwd }).code).toBe(1);
  });

  test("an error finding fails the default", () => {
    const cwd = project({ "bad.Dockerfile": "FROM debian:trixie-slim\nARG NPM_TOKEN\nUSER 1\n" });
    const r = galley(["lint", "bad.Dockerfile"], { cwd });
    expect(r.stdout).toBe(
      "bad.Dockerfile:2:5: error GL204 ARG NPM_TOKEN looks like a secret, and ARG values are kept in the image's metadata: use RUN --mount=type=secret\n",
    );
    expect(r.code).toBe(1);
  });

  test("a directory stands for its Dockerfile", () => {
    const cwd = project();
    const r = galley(["lint", "--format", "json", cwd], { cwd: FIXTURES });
    expect((JSON.parse(r.stdout) as { file: string }[])[0]!.file).toBe(join(cwd, "Dockerfile"));
  });

  test("a clean file, and standard input", () => {
    const cwd = project();
    const clean = 'FROM debian:trixie-slim\nUSER 10001\nENTRYPOINT ["/app"]\n';
    writeFileSync(join(cwd, "clean.Dockerfile"), clean);
    const r = galley(["lint", "clean.Dockerfile"], { cwd });
    expect([r.code, r.stdout, r.stderr]).toEqual([0, "", "galley: no findings in 1 file\n"]);
    const p = Bun.spawnSync([GALLEY, "lint", "-"], {
      cwd,
      stdin: Buffer.from("FROM debian\nUSER 1\n"),
      env: { ...process.env, NO_COLOR: "1" },
    });
    expect(p.stdout.toString()).toBe(
      "<stdin>:1:6: warning GL202 debian has no tag, so it is debian:latest: name a version\n",
    );
  });
});

describe("machine formats", () => {
  test("json: the same findings as an array", () => {
    const r = galley(["lint", "--format", "json", "Dockerfile"], { cwd: project() });
    const out = JSON.parse(r.stdout) as { id: string; line: number; column: number; endColumn: number }[];
    expect(out.map((f) => `${f.line}:${f.column} ${f.id}`)).toEqual([
      "3:5 GL115",
      "8:5 GL107",
      "12:1 GL105",
      "17:1 GL105",
      "21:44 GL112",
    ]);
    // `cargo chef prepare` spans three words: columns 5 to 23 (exclusive).
    expect(out[1]!.endColumn).toBe(23);
    expect(r.stderr).toBe("");
  });

  test("sarif: a 2.1.0 log whose regions point at the findings", () => {
    const r = galley(["lint", "--format=sarif"], { cwd: project() });
    const log = JSON.parse(r.stdout);
    expect(log.version).toBe("2.1.0");
    const run0 = log.runs[0];
    expect(run0.tool.driver.rules).toHaveLength(RULES.length);
    expect(run0.results).toHaveLength(5);
    expect(run0.results[1]).toMatchObject({
      ruleId: "GL107",
      level: "warning",
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: "Dockerfile" },
            region: { startLine: 8, startColumn: 5, endLine: 8, endColumn: 23 },
          },
        },
      ],
    });
    expect(run0.results[0].level).toBe("note");
    expect(run0.invocations[0].executionSuccessful).toBe(true);
  });

  test("github: workflow commands", () => {
    const r = galley(["lint", "--format", "github"], { cwd: project() });
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(5);
    expect(lines[0]).toStartWith(
      "::notice file=Dockerfile,line=3,col=5,endLine=3,endColumn=18,title=GL115::",
    );
    expect(lines[1]).toBe(
      "::warning file=Dockerfile,line=8,col=5,endLine=8,endColumn=23,title=GL107::cargo chef prepare sees only Cargo.toml, Cargo.lock: cargo-chef fails here; galley has to guess each package's targets (planner-sees-manifests-only)",
    );
  });
});

describe("the build context", () => {
  const manifests = {
    "Cargo.toml": '[package]\nname = "app"\nversion = "0.1.0"\n',
    "Cargo.lock": "version = 4\n",
  };

  test("a Rust project beside the Dockerfile is the context: no .dockerignore is reported", () => {
    const cwd = project(manifests);
    const r = galley(["lint", "--format", "json"], { cwd });
    const ids = (JSON.parse(r.stdout) as { id: string; line: number }[]).map((f) => `${f.line} ${f.id}`);
    expect(ids).toContain("13 GL114");
    expect(galley(["lint", "--no-context", "--format", "json"], { cwd }).stdout).not.toContain("GL114");
  });

  test("a .dockerignore that excludes target/ satisfies it; --context picks another directory", () => {
    const cwd = project({ ...manifests, ".dockerignore": "target/\n" });
    expect(galley(["lint"], { cwd }).stdout).not.toContain("GL114");
    const other = tempDir("galley-lint-ctx-");
    dirs.push(other);
    expect(galley(["lint", "--context", other], { cwd }).stdout).toContain("GL114");
  });

  test("without a Cargo.toml nearby there is no context to check", () => {
    expect(galley(["lint"], { cwd: project() }).stdout).not.toContain("GL114");
  });
});

describe("the project", () => {
  /** The docker-outside fixture: ws/crates/app depends on ../../../shared-lib, beside the workspace. */
  function monorepo(dockerfile: string): string {
    const top = tempDir("galley-lint-");
    dirs.push(top);
    cpSync(join(FIXTURES, "docker-outside"), top, { recursive: true });
    writeFileSync(join(top, "ws/Dockerfile"), dockerfile);
    return join(top, "ws");
  }
  const PLANNER =
    "FROM rust:1.90-bookworm AS planner\nWORKDIR /app\nCOPY . .\nRUN galley prepare --recipe-path recipe.json\n";

  test("a COPY . . planner whose project has a path dependency outside the context is an error", () => {
    const ws = monorepo(PLANNER);
    const r = galley(["lint", "--format", "json"], { cwd: ws });
    const found = (JSON.parse(r.stdout) as { id: string; line: number; message: string }[]).filter(
      (f) => f.id === "GL117",
    );
    expect(found).toEqual([
      expect.objectContaining({
        line: 4,
        message: `galley prepare cannot see the project's path dependencies ../shared-lib: they are outside the build context ${ws}`,
      }),
    ]);
    expect(r.code).toBe(1);
    // A context that holds it: nothing to report.
    const wide = galley(["lint", "--format", "json", "--context", ".."], { cwd: ws });
    expect((JSON.parse(wide.stdout) as { id: string }[]).filter((f) => f.id === "GL117")).toEqual([]);
  });

  test("--project names it; one galley cannot read is an error with --project, a warning without", () => {
    const ws = monorepo(PLANNER);
    const elsewhere = tempDir("galley-lint-");
    dirs.push(elsewhere);
    cpSync(join(ws, "Dockerfile"), join(elsewhere, "Dockerfile"));
    // Away from the project, lint knows it only through --project.
    const quiet = galley(["lint", "--context", elsewhere, join(elsewhere, "Dockerfile")], { cwd: elsewhere });
    expect(quiet.stdout).not.toContain("GL117");
    const named = galley(["lint", "--context", elsewhere, "--project", ws, join(elsewhere, "Dockerfile")], {
      cwd: elsewhere,
    });
    expect(named.stdout).toContain("error GL117 galley prepare cannot see the project's path dependencies");
    const bad = galley(["lint", "--project", elsewhere], { cwd: elsewhere });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain(`--project ${elsewhere}: could not find Cargo.toml`);
    writeFileSync(join(ws, "Cargo.toml"), "[workspace\n");
    const broken = galley(["lint"], { cwd: ws });
    expect(broken.stderr).toContain("could not be read, so the checks that need it are skipped");
    expect(broken.stdout).not.toContain("GL117");
  });
});

describe("ignores and config", () => {
  test("# galley-ignore= on the line above an instruction", () => {
    const cwd = project({
      "Dockerfile.ignored": "FROM debian:trixie-slim\n# galley-ignore=GL204\nARG NPM_TOKEN\nUSER 1\n",
    });
    const r = galley(["lint", "Dockerfile.ignored"], { cwd });
    expect([r.code, r.stdout]).toEqual([0, ""]);
  });

  test(".galley-lint.toml beside the Dockerfile: off and severities", () => {
    const cwd = project({ ".galley-lint.toml": '[rules]\nGL115 = "off"\ncargo-locked = "error"\n' });
    const r = galley(["lint"], { cwd });
    expect(r.stdout).not.toContain("GL115");
    expect(r.stdout).toContain("Dockerfile:12:1: error GL105");
    expect(r.code).toBe(1);
  });

  test("--config PATH, and its mistakes are usage errors", () => {
    const cwd = project({
      "lint.toml": '[rules]\nGL112 = "off"\n',
      "bad.toml": '[rules]\nGL112 = "off"\nGL777 = "off"\n',
    });
    expect(galley(["lint", "--config", "lint.toml"], { cwd }).stdout).not.toContain("GL112");
    const bad = galley(["lint", "--config", "bad.toml"], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('bad.toml:3: unknown rule "GL777" in [rules]');
    const missing = galley(["lint", "--config", "nope.toml"], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("nope.toml: cannot read the lint config (ENOENT)");
  });
});

describe("exit codes", () => {
  test("2: usage errors", () => {
    const cwd = project();
    for (const args of [
      ["lint", "--format", "xml"],
      ["lint", "--fail-on", "never"],
      ["lint", "--explain", "GL999"],
      ["lint", "--bogus"],
      ["lint", "--context", "missing-dir"],
      ["lint", "--context", ".", "--no-context"],
    ]) {
      const r = galley(args, { cwd });
      expect([args.join(" "), r.code]).toEqual([args.join(" "), 2]);
      expect(r.stderr).toStartWith("error: ");
    }
  });

  test("3: unreadable or not a Dockerfile, with the other files still linted", () => {
    const cwd = project({ "typo.Dockerfile": "FROM rust:1.90\nRUN true\nCOPPY . .\n" });
    writeFileSync(join(cwd, "binary"), Buffer.from([0xff, 0xfe, 0x00, 0x01]));
    const r = galley(["lint", "missing.Dockerfile", "typo.Dockerfile", "binary", "Dockerfile"], { cwd });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("error: missing.Dockerfile:1:1: cannot read the Dockerfile (no such file)\n");
    expect(r.stderr).toContain(
      'error: typo.Dockerfile:3:1: unknown instruction "COPPY" (did you mean COPY?)\n',
    );
    expect(r.stderr).toContain("error: binary:1:1: not UTF-8 text, so not a Dockerfile\n");
    expect(r.stdout).toBe(`${REFERENCE_TEXT.join("\n")}\n`);
    const empty = tempDir();
    dirs.push(empty);
    expect(galley(["lint"], { cwd: empty }).code).toBe(3);
  });

  test("--help documents the exit codes; --explain and --list", () => {
    const cwd = project();
    const help = galley(["lint", "--help"], { cwd });
    expect(help.code).toBe(0);
    for (const line of [
      "0  no finding",
      "1  at least one finding",
      "2  usage error",
      "3  a Dockerfile could not be read",
    ])
      expect(help.stdout).toContain(line);
    const explain = galley(["lint", "--explain", "gl107"], { cwd });
    expect(explain.code).toBe(0);
    expect(explain.stdout).toStartWith("GL107 planner-sees-manifests-only (warning)\n");
    expect(explain.stdout).toContain("Why:\n");
    expect(explain.stdout).toContain("Fix:\n");
    expect(galley(["lint", "--explain", "cargo-locked"], { cwd }).stdout).toStartWith("GL105 cargo-locked");
    expect(galley(["lint", "--list"], { cwd }).stdout.trimEnd().split("\n")).toHaveLength(RULES.length);
    expect(run([GALLEY, "--help"], { cwd }).stdout).toContain("lint");
  });
});
