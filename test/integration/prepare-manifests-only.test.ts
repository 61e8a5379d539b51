/**
 * galley prepare on a context holding only the manifests (a planner stage that copies Cargo.toml and
 * Cargo.lock alone): the targets cargo would discover from the sources are guessed from every hint
 * the manifests hold, every guess is said in one grouped warning, and the recipe loads in cargo
 * with `--locked`.
 */
import { beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  at,
  cargoView,
  hasToolchain,
  ok,
  prepareRecipe,
  type RecipeJson,
  recipeManifest,
  run,
  scratchSpace,
  writeTree,
} from "../helpers.ts";

setDefaultTimeout(120_000);

const { scratch, cook } = scratchSpace("galley-prepare-manifests-only-");

const MAIN = "fn main() {}\n";
const member = (name: string, extra = "") =>
  `[package]\nname = "${name}"\nversion = "0.3.0"\nedition = "2021"\n${extra}`;

/** One package per hint; each has its real sources in the full project. */
const WS: Record<string, string> = {
  "Cargo.toml": `[workspace]
members = ["crates/*", "xtask"]
resolver = "2"

[workspace.dependencies]
core = { path = "crates/core" }
`,
  // Others depend on it: a library.
  "crates/core/Cargo.toml": member("core"),
  "crates/core/src/lib.rs": "",
  // ruff's shape: an explicit [lib], an auto-discovered bin, and default-run naming it.
  "crates/cli/Cargo.toml": member(
    "cli",
    'default-run = "cli"\n\n[lib]\ndoctest = false\n\n[dependencies]\ncore.workspace = true\n',
  ),
  "crates/cli/src/lib.rs": "",
  "crates/cli/src/main.rs": MAIN,
  // wasmtime's c-api shape: `links` and an auto-discovered build script.
  "crates/capi/Cargo.toml": member("capi", 'links = "capi"\npublish = false\n'),
  "crates/capi/build.rs": MAIN,
  "crates/capi/src/lib.rs": "",
  // tokei's shape: a declared bin that needs a feature, and an auto-discovered lib.
  "crates/counter/Cargo.toml": member(
    "counter",
    '\n[features]\ncli = []\n\n[[bin]]\nname = "counter"\nrequired-features = ["cli"]\n',
  ),
  "crates/counter/src/lib.rs": "",
  "crates/counter/src/main.rs": MAIN,
  // rust-analyzer's lib/ shapes: documentation on docs.rs, [package.metadata.docs.rs], published.
  "crates/arena/Cargo.toml": member("arena", 'documentation = "https://docs.rs/arena"\n'),
  "crates/arena/src/lib.rs": "",
  "crates/smolish/Cargo.toml": member("smolish", "\n[package.metadata.docs.rs]\nall-features = true\n"),
  "crates/smolish/src/lib.rs": "",
  "crates/published/Cargo.toml": member("published", 'description = "A published library."\n'),
  "crates/published/src/lib.rs": "",
  // A command-line tool by its category.
  "crates/grep-tool/Cargo.toml": member(
    "grep-tool",
    'description = "Searches."\ncategories = ["command-line-utilities"]\n',
  ),
  "crates/grep-tool/src/main.rs": MAIN,
  // build-dependencies mean a build script.
  "crates/gen/Cargo.toml": member(
    "gen",
    'publish = false\n\n[build-dependencies]\nbuildhelp = { path = "../buildhelp" }\n',
  ),
  "crates/gen/build.rs": MAIN,
  "crates/gen/src/main.rs": MAIN,
  "crates/buildhelp/Cargo.toml": member("buildhelp", "publish = false\n"),
  "crates/buildhelp/src/lib.rs": "",
  // fd's shape: documentation on docs.rs, but a declared bin and the command-line category.
  "crates/finder/Cargo.toml": member(
    "finder",
    'documentation = "https://docs.rs/finder"\ncategories = ["command-line-utilities"]\n\n[[bin]]\nname = "fnd"\npath = "src/main.rs"\n',
  ),
  "crates/finder/src/main.rs": MAIN,
  // Declared bins only: no library is guessed, and the warning says so.
  "crates/onlybins/Cargo.toml": member("onlybins", 'publish = false\n\n[[bin]]\nname = "one"\n'),
  "crates/onlybins/src/bin/one.rs": MAIN,
  // No hint at all: cargo new's default.
  "xtask/Cargo.toml": member("xtask", "publish = false\n"),
  "xtask/src/main.rs": MAIN,
};

let full = "";
let manifestsOnly = "";
let guessed: { text: string; recipe: RecipeJson; stderr: string };

/** Copies every Cargo.toml and Cargo.lock of `from` (keeping their places) into `to`. */
function copyManifests(from: string, to: string, rel = ""): void {
  for (const name of readdirSync(join(from, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    if (statSync(join(from, r)).isDirectory()) {
      if (name !== "target") copyManifests(from, to, r);
    } else if (name === "Cargo.toml" || name === "Cargo.lock") {
      mkdirSync(dirname(join(to, r)), { recursive: true });
      cpSync(join(from, r), join(to, r));
    }
  }
}

beforeAll(() => {
  full = writeTree(scratch(), WS);
  ok(run(["cargo", "generate-lockfile", "--offline"], { cwd: full }), "cargo generate-lockfile");
  manifestsOnly = scratch();
  copyManifests(full, manifestsOnly);
  guessed = prepareRecipe(manifestsOnly);
});

const targetsOf = (view: ReturnType<typeof cargoView>, dir: string) =>
  view.targets
    .filter((t) => t.startsWith(`${dir} `))
    .map((t) => t.split(" ").slice(1, 5).join(" "))
    .sort();

test("the recipe of a manifests-only context loads in cargo with --locked", () => {
  const c = cook(guessed.text, ["--no-build"]);
  ok(c.result, "cook --no-build");
  const meta = run(["cargo", "metadata", "--locked", "--offline", "--format-version", "1"], { cwd: c.dir });
  ok(meta, "cargo metadata --locked on the cooked skeleton");
  expect(meta.stderr).not.toContain("missing a lib target");
});

test("every hint gives the target cargo finds in the full project", () => {
  const c = cook(guessed.text, ["--no-build"]);
  ok(c.result, "cook --no-build");
  const skeleton = cargoView(c.dir);
  const project = cargoView(full);
  // Where a hint decides, the skeleton has exactly the project's targets (build scripts included).
  for (const dir of [
    "crates/core",
    "crates/cli",
    "crates/capi",
    "crates/counter",
    "crates/arena",
    "crates/smolish",
    "crates/published",
    "crates/grep-tool",
    "crates/gen",
    "crates/onlybins",
    "crates/finder",
    "xtask",
  ]) {
    expect([dir, targetsOf(skeleton, dir)]).toEqual([dir, targetsOf(project, dir)]);
  }
  expect(at(recipeManifest(guessed.recipe, "crates/cli/Cargo.toml"), "bin")).toEqual([
    { name: "cli", path: "src/main.rs" },
  ]);
  expect(at(recipeManifest(guessed.recipe, "crates/capi/Cargo.toml"), "package", "build")).toBe("build.rs");
});

test("the guesses are said in one grouped warning, one path form, each reason once", () => {
  const warning = guessed.stderr.slice(guessed.stderr.indexOf("galley: warning: guessed"));
  expect(warning.split("\n").slice(0, 12)).toEqual([
    "galley: warning: guessed the targets of 13 packages whose sources are not here (manifests only):",
    "  library: other packages depend on it (2): crates/buildhelp/Cargo.toml, crates/core/Cargo.toml",
    "  library: it has `links` (1): crates/capi/Cargo.toml",
    "  library: its documentation is on docs.rs (2): crates/arena/Cargo.toml, crates/smolish/Cargo.toml",
    "  library: its binaries need features (1): crates/counter/Cargo.toml",
    "  library: published, with no hint of a binary (1): crates/published/Cargo.toml",
    "  binary: named by default-run (1): crates/cli/Cargo.toml",
    "  binary at src/main.rs: category command-line-utilities (1): crates/grep-tool/Cargo.toml",
    "  binary at src/main.rs: no hint (cargo new's default) (2): crates/gen/Cargo.toml, xtask/Cargo.toml",
    "  build script: it has `links` (1): crates/capi/Cargo.toml",
    "  build script: it has build-dependencies (1): crates/gen/Cargo.toml",
    "  no library: no hint of one (2): crates/finder/Cargo.toml, crates/onlybins/Cargo.toml",
  ]);
  expect(guessed.stderr.match(/guessed the targets/g)).toHaveLength(1);
  expect(guessed.stderr).not.toContain("./");
});

test("the full context guesses nothing and says nothing", () => {
  const { stderr } = prepareRecipe(full);
  expect(stderr).not.toContain("guessed");
});

test("a package whose directory holds only other packages' manifests (examples/x/Cargo.toml) has no sources", () => {
  const dir = writeTree(scratch(), {
    "Cargo.toml": `${member("host", 'links = "host"\n')}\n[workspace]\nmembers = ["examples/demo"]\n`,
    "examples/demo/Cargo.toml": member("demo", "publish = false\n"),
    "src/lib.rs": "",
    "build.rs": MAIN,
    "examples/demo/src/main.rs": MAIN,
  });
  ok(run(["cargo", "generate-lockfile", "--offline"], { cwd: dir }), "cargo generate-lockfile");
  for (const rel of ["src", "build.rs", "examples/demo/src"]) rmSync(join(dir, rel), { recursive: true });
  const { text, stderr } = prepareRecipe(dir);
  expect(stderr).toContain("build script: it has `links` (1): Cargo.toml\n");
  const c = cook(text, ["--no-build"]);
  ok(c.result, "cook --no-build");
  ok(run(["cargo", "metadata", "--locked", "--offline", "--format-version", "1"], { cwd: c.dir }));
});

test.skipIf(!hasToolchain("nightly"))(
  "a bin that another package's artifact dependency asks for is guessed (nightly -Z bindeps)",
  () => {
    const dir = writeTree(scratch(), {
      "Cargo.toml": '[workspace]\nmembers = ["runner", "tool"]\nresolver = "2"\n',
      "runner/Cargo.toml": member(
        "runner",
        'publish = false\n\n[dependencies]\ntool = { path = "../tool", artifact = "bin:helper" }\n',
      ),
      "tool/Cargo.toml": member("tool", 'description = "Has a helper binary."\n'),
      "runner/src/main.rs": MAIN,
      "tool/src/bin/helper.rs": MAIN,
    });
    const nightly = { RUSTUP_TOOLCHAIN: "nightly" };
    ok(run(["cargo", "-Z", "bindeps", "generate-lockfile", "--offline"], { cwd: dir, env: nightly }));
    for (const rel of ["runner/src", "tool/src"]) rmSync(join(dir, rel), { recursive: true });
    const { recipe, text, stderr } = prepareRecipe(dir);
    expect(stderr).toContain("binary: asked for by an artifact dependency (1): tool/Cargo.toml");
    expect(at(recipeManifest(recipe, "tool/Cargo.toml"), "bin")).toEqual([
      { name: "helper", path: "src/bin/helper.rs" },
    ]);
    const c = cook(text, ["--no-build"]);
    ok(c.result, "cook --no-build");
    const meta = ["cargo", "-Z", "bindeps", "metadata", "--locked", "--offline", "--format-version", "1"];
    ok(run(meta, { cwd: c.dir, env: nightly }), "cargo -Z bindeps metadata on the skeleton");
  },
);
