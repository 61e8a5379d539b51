/**
 * The command line as users meet it: version, help, unknown commands and flags, NO_COLOR, and the
 * names galley answers to (`cargo galley`, `cargo chef`) through `galley shims install`.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { lstatSync, mkdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import {
  cargoBuild,
  copyFixture,
  copySources,
  GALLEY,
  galley,
  listTree,
  ok,
  REPO,
  rebuiltThirdParty,
  removeDir,
  run,
  tempDir,
} from "../helpers.ts";

setDefaultTimeout(120_000);

let root: string;
beforeAll(() => {
  root = tempDir("galley-cli-");
});
afterAll(() => removeDir(root));

const ESC = "\x1b[";
/** The flags README.md documents for cook ("Flags have cargo's names and meanings ..."). */
const COOK_FLAGS = [
  "--release",
  "--profile",
  "--target",
  "--target-dir",
  "--features",
  "--all-features",
  "--no-default-features",
  "-p, --package",
  "--workspace",
  "--exclude",
  "--bin",
  "--bins",
  "--lib",
  "--example",
  "--examples",
  "--test",
  "--tests",
  "--benches",
  "--all-targets",
  "--locked",
  "--frozen",
  "--offline",
  "-j, --jobs",
  "-v, --verbose",
  "--timings",
  "-Z, --unstable",
  "--manifest-path",
  "--no-std",
  "--force",
  "--check",
  "--clippy",
  "--zigbuild",
  "--no-build",
  "--recipe-path",
];

describe("version and help", () => {
  test.each([["--version"], ["-V"], ["version"]])("galley %s prints the version", (flag) => {
    const r = galley([flag], { cwd: root });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`galley ${pkg.version}\n`);
    expect(r.stderr).toBe("");
  });

  test("galley --help lists the commands on stdout and exits 0", () => {
    const r = galley(["--help"], { cwd: root });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: galley <command>");
    for (const c of ["prepare", "cook", "shims"]) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, "m"));
    expect(galley(["-h"], { cwd: root }).stdout).toBe(r.stdout);
  });

  test("galley with no command shows the usage and exits 2", () => {
    const r = galley([], { cwd: root });
    expect(r.code).toBe(2);
    expect(`${r.stdout}${r.stderr}`).toContain("Usage: galley <command>");
  });

  test("galley cook --help documents every flag README.md lists, and runs nothing", () => {
    const r = galley(["cook", "--help"], { cwd: root });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: galley cook");
    const missing = COOK_FLAGS.filter((f) => !r.stdout.includes(`${f} `) && !r.stdout.includes(`${f}\n`));
    expect(missing).toEqual([]);
    expect(listTree(root)).toEqual([]); // no recipe needed, nothing written
    expect(galley(["help", "cook"], { cwd: root }).stdout).toBe(r.stdout);
    expect(galley(["cook", "--release", "-h"], { cwd: root }).stdout).toBe(r.stdout);
  });

  test("galley prepare --help and galley shims --help", () => {
    const p = galley(["prepare", "--help"], { cwd: root });
    expect(p.code).toBe(0);
    for (const f of ["--recipe-path", "--bin", "--manifest-path"]) expect(p.stdout).toContain(f);
    const s = galley(["shims", "--help"], { cwd: root });
    expect(s.code).toBe(0);
    expect(s.stdout).toContain("galley shims install DIR");
  });
});

describe("unknown commands and flags (exit 2, one line and a hint, no stack trace)", () => {
  test("an unknown command names the commands", () => {
    const r = galley(["cok"], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "cok"');
    expect(r.stderr).toMatch(/commands: prepare, cook, .*shims/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stdout).toBe("");
  });

  test("an unknown top-level flag", () => {
    const r = galley(["--verbose"], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown flag --verbose");
  });

  test.each([
    ["cook", "--relase", "--release"],
    ["cook", "--no-default-feature", "--no-default-features"],
    ["prepare", "--recipe-pth", "--recipe-path"],
    ["prepare", "--manifest-pth", "--manifest-path"],
  ])("galley %s %s -> did you mean %s?", (command, flag, near) => {
    const r = galley([command, flag], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`unknown flag ${flag} for galley ${command}`);
    expect(r.stderr).toContain(`did you mean ${near}?`);
    expect(r.stderr.trim().split("\n").length).toBe(2);
  });

  test("galley shims without install DIR is a usage error", () => {
    expect(galley(["shims"], { cwd: root }).code).toBe(2);
    expect(galley(["shims", "uninstall", "x"], { cwd: root }).code).toBe(2);
  });

  test("prepare writing to a directory that does not exist is a clear error, not a bug (exit 1)", () => {
    const project = copyFixture("cook-mini", join(root, "mini-missing-dir"));
    const r = galley(["prepare", "--recipe-path", "no/such/dir/recipe.json"], { cwd: project });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no/such/dir/recipe.json");
    expect(r.stderr).not.toContain("internal error");
  });
});

describe("NO_COLOR", () => {
  /** Runs galley on a pseudo-terminal (script(1)), where colour would be on. */
  function onTty(args: string[], env: Record<string, string | undefined>) {
    const cmd = [GALLEY, ...args].map((a) => `'${a}'`).join(" ");
    return run(["script", "-qec", cmd, "/dev/null"], { cwd: root, env: { TERM: "xterm-256color", ...env } });
  }
  // util-linux script(1), which gives the command a pseudo-terminal.
  const hasScript = run(["script", "-qec", "true", "/dev/null"], { cwd: REPO }).code === 0;

  test.skipIf(!hasScript)("on a terminal, errors are coloured; with NO_COLOR set they are not", () => {
    const coloured = onTty(["cook", "--relase"], { NO_COLOR: undefined });
    expect(coloured.stdout).toContain("unknown flag --relase");
    expect(coloured.stdout).toContain(ESC); // the control: colour is on without NO_COLOR
    const plain = onTty(["cook", "--relase"], { NO_COLOR: "1" });
    expect(plain.stdout).toContain("unknown flag --relase");
    expect(plain.stdout).not.toContain(ESC);
    // An empty NO_COLOR does not count (no-color.org).
    expect(onTty(["cook", "--relase"], { NO_COLOR: "" }).stdout).toContain(ESC);
  });

  test.skipIf(!hasScript)(
    "with NO_COLOR, a whole cook on a terminal (galley's notes and cargo's output) has no escape codes",
    () => {
      const project = copyFixture("cook-mini", join(root, "mini-tty"));
      ok(galley(["prepare", "--recipe-path", join(root, "tty-recipe.json")], { cwd: project }));
      const dir = join(root, "tty-builder");
      mkdirSync(dir);
      const r = run(
        [
          "script",
          "-qec",
          `'${GALLEY}' cook -v --recipe-path '${join(root, "tty-recipe.json")}'`,
          "/dev/null",
        ],
        { cwd: dir, env: { TERM: "xterm-256color", NO_COLOR: "1" } },
      );
      expect(r.stdout).toContain("Compiling itoa");
      expect(r.stdout).toContain("galley:");
      expect(r.stdout).not.toContain(ESC);
    },
  );
});

describe("personas through galley shims install", () => {
  let shims: string;
  let scripts: string;
  const env = () => ({ PATH: `${shims}:${process.env.PATH}` });
  beforeAll(() => {
    shims = join(root, "shims");
    scripts = join(root, "shim-scripts");
    ok(galley(["shims", "install", shims], { cwd: root }));
    ok(galley(["shims", "install", scripts, "--scripts"], { cwd: root }));
  });

  test("shims install writes galley, cargo-galley and cargo-chef (links to the executable, or scripts)", () => {
    for (const name of ["galley", "cargo-galley", "cargo-chef"]) {
      expect(lstatSync(join(shims, name)).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(shims, name))).toBe(GALLEY);
      const script = join(scripts, name);
      expect(statSync(script).mode & 0o111).not.toBe(0);
      expect(readFileSync(script, "utf8")).toContain(`GALLEY_PERSONA=${name}`);
    }
    // Installing again replaces them.
    ok(galley(["shims", "install", shims], { cwd: root }));
  });

  test("cargo chef --help shows only prepare and cook, as cargo chef; cargo chef shims is unknown", () => {
    const r = run(["cargo", "chef", "--help"], { cwd: root, env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: cargo chef <command>");
    expect(r.stdout).toMatch(/^ {2}prepare /m);
    expect(r.stdout).toMatch(/^ {2}cook /m);
    expect(r.stdout).not.toMatch(/^ {2}shims /m);
    const s = run(["cargo", "chef", "shims", "install", join(root, "x")], { cwd: root, env: env() });
    expect(s.code).toBe(2);
    expect(s.stderr).toContain('unknown command "shims"');
  });

  test("cargo galley --version and cargo chef --version (links and scripts)", () => {
    for (const dir of [shims, scripts]) {
      const path = `${dir}:${process.env.PATH}`;
      expect(ok(run(["cargo", "galley", "--version"], { cwd: root, env: { PATH: path } })).stdout).toBe(
        `galley ${pkg.version}\n`,
      );
      expect(ok(run(["cargo", "chef", "--version"], { cwd: root, env: { PATH: path } })).stdout).toBe(
        `galley ${pkg.version}\n`,
      );
      expect(ok(run(["cargo", "galley", "--help"], { cwd: root, env: { PATH: path } })).stdout).toContain(
        "Usage: cargo galley <command>",
      );
    }
  });

  test("cargo galley prepare writes the same recipe as galley prepare", () => {
    const project = copyFixture("cook-mini", join(root, "mini-galley"));
    ok(galley(["prepare", "--recipe-path", join(root, "direct.json")], { cwd: project }));
    ok(
      run(["cargo", "galley", "prepare", "--recipe-path", join(root, "via-cargo.json")], {
        cwd: project,
        env: env(),
      }),
    );
    expect(readFileSync(join(root, "via-cargo.json"), "utf8")).toBe(
      readFileSync(join(root, "direct.json"), "utf8"),
    );
  });

  test("cargo chef prepare, then cargo chef cook --release --locked, then the real build reuses every third-party crate", () => {
    const project = copyFixture("cook-mini", join(root, "mini-chef"));
    ok(run(["cargo", "chef", "prepare", "--recipe-path", "recipe.json"], { cwd: project, env: env() }));
    const dir = join(root, "chef-builder");
    mkdirSync(dir);
    ok(run(["cp", join(project, "recipe.json"), dir], { cwd: root }));
    ok(
      run(["cargo", "chef", "cook", "--release", "--locked", "--recipe-path", "recipe.json"], {
        cwd: dir,
        env: env(),
      }),
    );
    expect(listTree(dir, ["target"])).toEqual(["recipe.json", "target"]);
    copySources(project, dir);
    const { artifacts } = cargoBuild(dir, ["--release", "--locked"]);
    expect(rebuiltThirdParty(artifacts)).toEqual([]);
    expect(ok(run([join(dir, "target/release/app")], { cwd: dir })).stdout).toBe("mini: real code 7\n");
  });
});
