/**
 * galley prepare, target discovery: every target cargo would find is declared explicitly in the
 * recipe, so that the skeleton (dummy sources only) has exactly the targets of the real project.
 * cargo itself is the oracle: `cargo metadata` on the project and on the cooked skeleton must agree.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import {
  at,
  cargoView,
  ok,
  prepareRecipe,
  type RecipeJson,
  recipeManifest,
  scratchSpace,
  writeTree,
} from "../helpers.ts";

setDefaultTimeout(120_000);

const { scratch, cook } = scratchSpace("galley-prepare-targets-");

/** cargo's view of the skeleton that the recipe writes (cook --no-build in a fresh directory). */
function skeletonView(recipeText: string) {
  const c = cook(recipeText, ["--no-build"]);
  ok(c.result, "galley cook --no-build");
  return cargoView(c.dir);
}

const MAIN = "fn main() {}\n";

function pkg(name: string, extra = "", edition: string | null = "2021"): string {
  return `[package]\nname = "${name}"\nversion = "0.1.0"\n${edition ? `edition = "${edition}"\n` : ""}${extra}`;
}

function sourceKinds(recipe: RecipeJson): Record<string, string> {
  return Object.fromEntries(recipe.sources.map((s) => [s.path, s.kind]));
}

test("auto-discovered bins (src/main.rs, src/bin/*.rs, src/bin/*/main.rs) are sorted by name, whatever the creation order", () => {
  const files: Record<string, string> = {
    "src/bin/zed.rs": MAIN,
    "src/bin/mid/main.rs": MAIN,
    "src/main.rs": MAIN,
    "src/bin/aaa.rs": MAIN,
    "src/bin/beta/main.rs": MAIN,
    "src/bin/helpers/mod.rs": "", // a directory without main.rs is not a bin
  };
  const a = writeTree(scratch(), { "Cargo.toml": pkg("app"), ...files });
  const reversed = Object.fromEntries(Object.entries(files).reverse());
  const b = writeTree(scratch(), { ...reversed, "Cargo.toml": pkg("app") });

  const ra = prepareRecipe(a);
  expect(prepareRecipe(b).text).toBe(ra.text);
  expect(at(recipeManifest(ra.recipe), "bin")).toEqual([
    { name: "aaa", path: "src/bin/aaa.rs" },
    { name: "app", path: "src/main.rs" },
    { name: "beta", path: "src/bin/beta/main.rs" },
    { name: "mid", path: "src/bin/mid/main.rs" },
    { name: "zed", path: "src/bin/zed.rs" },
  ]);
  expect(at(recipeManifest(ra.recipe), "package", "autobins")).toBe(false);
  expect(skeletonView(ra.text)).toEqual(cargoView(a));
});

test("examples, tests and benches are found in both layouts (name.rs and name/main.rs)", () => {
  const dir = writeTree(scratch(), {
    "Cargo.toml": pkg("kinds"),
    "src/lib.rs": "",
    "examples/simple.rs": MAIN,
    "examples/multi/main.rs": "mod util;\nfn main() {}\n",
    "examples/multi/util.rs": "",
    "tests/smoke.rs": "",
    "tests/suite/main.rs": "",
    "tests/common/mod.rs": "", // shared test code, not a target
    "benches/fast.rs": "",
    "benches/heavy/main.rs": "",
  });
  const { recipe, text } = prepareRecipe(dir);
  const m = recipeManifest(recipe);
  expect(at(m, "example")).toEqual([
    { name: "multi", path: "examples/multi/main.rs" },
    { name: "simple", path: "examples/simple.rs" },
  ]);
  expect(at(m, "test")).toEqual([
    { name: "smoke", path: "tests/smoke.rs" },
    { name: "suite", path: "tests/suite/main.rs" },
  ]);
  expect(at(m, "bench")).toEqual([
    { name: "fast", path: "benches/fast.rs" },
    { name: "heavy", path: "benches/heavy/main.rs" },
  ]);
  expect(sourceKinds(recipe)).toEqual({
    "src/lib.rs": "lib",
    "examples/multi/main.rs": "main",
    "examples/simple.rs": "main",
    "tests/smoke.rs": "harness",
    "tests/suite/main.rs": "harness",
    "benches/fast.rs": "harness",
    "benches/heavy/main.rs": "harness",
  });
  expect(skeletonView(text)).toEqual(cargoView(dir));
  ok(cook(text, ["--check", "--all-targets"]).result, "cook --check --all-targets");
});

test("harness = false targets get a main() dummy and required-features are kept", () => {
  const dir = writeTree(scratch(), {
    "Cargo.toml": pkg(
      "harnessless",
      `
[features]
fancy = []

[[test]]
name = "custom"
harness = false

[[bench]]
name = "perf"
harness = false
required-features = ["fancy"]

[[example]]
name = "demo"
required-features = ["fancy"]

[[bin]]
name = "tool"
required-features = ["fancy"]
`,
    ),
    "src/lib.rs": "",
    "src/bin/tool.rs": MAIN,
    "tests/custom.rs": MAIN,
    "tests/plain.rs": "",
    "benches/perf.rs": MAIN,
    "examples/demo.rs": MAIN,
  });
  const { recipe, text } = prepareRecipe(dir);
  const m = recipeManifest(recipe);
  expect(at(m, "test")).toEqual([
    { name: "custom", harness: false, path: "tests/custom.rs" },
    { name: "plain", path: "tests/plain.rs" },
  ]);
  expect(at(m, "bench")).toEqual([
    { name: "perf", harness: false, path: "benches/perf.rs", "required-features": ["fancy"] },
  ]);
  expect(at(m, "example", 0, "required-features")).toEqual(["fancy"]);
  expect(at(m, "bin", 0, "required-features")).toEqual(["fancy"]);
  const kinds = sourceKinds(recipe);
  expect(kinds["tests/custom.rs"]).toBe("main");
  expect(kinds["benches/perf.rs"]).toBe("main");
  expect(kinds["tests/plain.rs"]).toBe("harness");
  expect(skeletonView(text)).toEqual(cargoView(dir));
  // A harness = false target without main() does not compile: the dummies must have one.
  ok(cook(text, ["--check", "--all-targets", "--all-features"]).result, "cook --all-targets --all-features");
});

test('build scripts: build = "path", build = false and an auto-discovered build.rs', () => {
  const dir = writeTree(scratch(), {
    "Cargo.toml": '[workspace]\nmembers = ["custom", "off", "auto"]\nresolver = "2"\n',
    "custom/Cargo.toml": pkg("custom", 'build = "tools/gen.rs"\n'),
    "custom/tools/gen.rs": MAIN,
    "custom/build.rs": MAIN, // not the build script: `build` names another file
    "custom/src/lib.rs": "",
    "off/Cargo.toml": pkg("off", "build = false\n"),
    "off/build.rs": MAIN,
    "off/src/lib.rs": "",
    "auto/Cargo.toml": pkg("auto"),
    "auto/build.rs": MAIN,
    "auto/src/lib.rs": "",
  });
  const { recipe, text } = prepareRecipe(dir);
  expect(at(recipeManifest(recipe, "custom/Cargo.toml"), "package", "build")).toBe("tools/gen.rs");
  expect(at(recipeManifest(recipe, "off/Cargo.toml"), "package", "build")).toBe(false);
  expect(at(recipeManifest(recipe, "auto/Cargo.toml"), "package", "build")).toBe("build.rs");
  const builds = recipe.sources.filter((s) => s.kind === "build").map((s) => s.path);
  expect(builds.sort()).toEqual(["auto/build.rs", "custom/tools/gen.rs"]);
  expect(skeletonView(text)).toEqual(cargoView(dir));
  ok(cook(text, ["--check", "--workspace"]).result, "cook --check");
});

test("a custom lib path and name, and a proc-macro lib, are kept", () => {
  const dir = writeTree(scratch(), {
    "Cargo.toml": pkg(
      "app",
      `
[dependencies]
derive-kit = { path = "derive-kit" }
mylib = { path = "mylib" }

[workspace]
`,
    ),
    "src/main.rs": MAIN,
    "derive-kit/Cargo.toml": pkg("derive-kit", '\n[lib]\nproc-macro = true\npath = "src/macros.rs"\n'),
    "derive-kit/src/macros.rs": "",
    "mylib/Cargo.toml": pkg("mylib", '\n[lib]\nname = "renamed_lib"\npath = "lib/entry.rs"\n'),
    "mylib/lib/entry.rs": "",
    "mylib/src/lib.rs": "", // not the lib: [lib] path names another file
  });
  const { recipe, text } = prepareRecipe(dir);
  expect(at(recipeManifest(recipe, "derive-kit/Cargo.toml"), "lib")).toEqual({
    "proc-macro": true,
    path: "src/macros.rs",
  });
  expect(at(recipeManifest(recipe, "mylib/Cargo.toml"), "lib")).toEqual({
    name: "renamed_lib",
    path: "lib/entry.rs",
  });
  const kinds = sourceKinds(recipe);
  expect(kinds["derive-kit/src/macros.rs"]).toBe("lib");
  expect(kinds["mylib/lib/entry.rs"]).toBe("lib");
  expect(kinds["mylib/src/lib.rs"]).toBeUndefined();
  expect(skeletonView(text)).toEqual(cargoView(dir));
  ok(cook(text, ["--check"]).result, "cook --check");
});

test("autolib/autobins/autoexamples/autotests/autobenches = false turn discovery off", () => {
  const dir = writeTree(scratch(), {
    "Cargo.toml": pkg(
      "quiet",
      `autolib = false
autobins = false
autoexamples = false
autotests = false
autobenches = false

[[bin]]
name = "only"
path = "src/bin/only.rs"
`,
    ),
    "src/lib.rs": "",
    "src/main.rs": MAIN,
    "src/bin/only.rs": MAIN,
    "src/bin/other.rs": MAIN,
    "examples/ex.rs": MAIN,
    "tests/t.rs": "",
    "benches/b.rs": "",
  });
  const { recipe, text } = prepareRecipe(dir);
  const m = recipeManifest(recipe);
  expect(at(m, "bin")).toEqual([{ name: "only", path: "src/bin/only.rs" }]);
  for (const key of ["lib", "example", "test", "bench"]) expect(at(m, key)).toBeUndefined();
  expect(recipe.sources).toEqual([{ path: "src/bin/only.rs", kind: "main" }]);
  expect(skeletonView(text)).toEqual(cargoView(dir));
});

test("edition 2015: declaring a [[bin]] turns bin discovery off, unless autobins = true", () => {
  const files = (name: string) => ({
    [`${name}/src/main.rs`]: MAIN,
    [`${name}/src/bin/declared.rs`]: MAIN,
    [`${name}/src/bin/extra.rs`]: MAIN,
    [`${name}/examples/ex.rs`]: MAIN,
  });
  const declared = '\n[[bin]]\nname = "declared"\npath = "src/bin/declared.rs"\n';
  const dir = writeTree(scratch(), {
    "Cargo.toml": '[workspace]\nmembers = ["old", "old-auto", "new"]\n',
    "old/Cargo.toml": pkg("old", declared, null),
    ...files("old"),
    "old-auto/Cargo.toml": pkg("old-auto", `autobins = true\n${declared}`, "2015"),
    ...files("old-auto"),
    "new/Cargo.toml": pkg("new", declared, "2018"),
    ...files("new"),
  });
  const { recipe, text } = prepareRecipe(dir);
  const bins = (p: string) => (at(recipeManifest(recipe, p), "bin") as { name: string }[]).map((b) => b.name);
  expect(bins("old/Cargo.toml")).toEqual(["declared"]);
  expect(bins("old-auto/Cargo.toml")).toEqual(["declared", "extra", "old-auto"]);
  expect(bins("new/Cargo.toml")).toEqual(["declared", "extra", "new"]);
  // Only bins were declared: examples are still discovered in every edition.
  expect(at(recipeManifest(recipe, "old/Cargo.toml"), "example")).toEqual([
    { name: "ex", path: "examples/ex.rs" },
  ]);
  expect(skeletonView(text)).toEqual(cargoView(dir));
});

test("dotfiles (editor lock files, macOS ._ files) are not targets; a symlinked source file is", () => {
  const dir = writeTree(scratch(), {
    "Cargo.toml": pkg("dots"),
    "src/main.rs": MAIN,
    "src/bin/tool.rs": MAIN,
    "src/bin/.#tool.rs": "", // emacs lock file
    "src/bin/._tool.rs": "\u0000\u0005\u0016\u0007", // macOS AppleDouble file
    "src/bin/.hidden/main.rs": MAIN,
    "examples/._demo.rs": "",
    "tests/.it.rs": "",
    "benches/.b.rs": "",
    "shared/linked.rs": MAIN,
  });
  symlinkSync("../../shared/linked.rs", join(dir, "src/bin/linked.rs"));
  const { recipe, text } = prepareRecipe(dir);
  const m = recipeManifest(recipe);
  expect(at(m, "bin")).toEqual([
    { name: "dots", path: "src/main.rs" },
    { name: "linked", path: "src/bin/linked.rs" },
    { name: "tool", path: "src/bin/tool.rs" },
  ]);
  for (const key of ["example", "test", "bench"]) expect(at(m, key)).toBeUndefined();
  expect(skeletonView(text)).toEqual(cargoView(dir));
  ok(cook(text, ["--check", "--all-targets"]).result, "cook --check --all-targets");
});

test("a package of only tests is left as it is: no binary is assumed, and galley says nothing", () => {
  const dir = writeTree(scratch(), {
    "Cargo.toml": '[package]\nname = "suite"\nversion = "0.1.0"\nedition = "2021"\n',
    "tests/it.rs": "#[test]\nfn works() {}\n",
  });
  const { recipe, text, stderr } = prepareRecipe(dir);
  expect(recipe.sources).toEqual([{ path: "tests/it.rs", kind: "harness" }]);
  expect(at(recipeManifest(recipe), "bin")).toBeUndefined();
  expect(stderr).not.toContain("guessed");
  ok(cook(text, ["--check", "--tests"]).result, "cook --check --tests");
});
