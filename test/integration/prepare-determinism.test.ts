/**
 * galley prepare, determinism: the recipe is the cache key of the dependency layer. What cannot change
 * the dependency build (mtimes, formatting, sources, local version bumps) must give the same bytes;
 * what can (dependencies, features, profiles, Cargo.lock, cargo config, toolchain) must change them.
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  galley,
  ok,
  prepareRecipe,
  type RecipeJson,
  run,
  scratchSpace,
  setTreeMtime,
  writeTree,
} from "../helpers.ts";

setDefaultTimeout(120_000);

const { scratch } = scratchSpace("galley-prepare-determinism-");

const ROOT_MANIFEST = `[package]
name = "svc"
version = "1.2.0"
edition = "2021"

[dependencies]
itoa = "1"
svc-core = { path = "crates/core", version = "0.7" }

[features]
default = ["fast"]
fast = []

[profile.release]
opt-level = 3
lto = "thin"

[workspace]
members = ["crates/*"]

[workspace.package]
version = "0.7.0"
edition = "2021"
`;

const PROJECT: Record<string, string> = {
  "Cargo.toml": ROOT_MANIFEST,
  "src/main.rs": 'fn main() {\n    println!("{}", svc_core::NAME);\n}\n',
  "crates/core/Cargo.toml": `[package]
name = "svc-core"
version.workspace = true
edition.workspace = true

[dependencies]
cfg-if = "1"
`,
  "crates/core/src/lib.rs": 'pub const NAME: &str = "core";\n',
  "crates/cli/Cargo.toml": `[package]
name = "svc-cli"
version = "3.0.0"
edition = "2021"

[dependencies]
svc-core = { path = "../core", version = "0.7.0" }
`,
  "crates/cli/src/main.rs": "fn main() {}\n",
  ".cargo/config.toml": "[net]\nretry = 3\n",
  "rust-toolchain.toml": '[toolchain]\nchannel = "stable"\n',
};

let base = "";
let baseText = "";
let baseRecipe: RecipeJson;

beforeAll(() => {
  base = writeTree(join(scratch(), "project"), PROJECT);
  ok(run(["cargo", "generate-lockfile"], { cwd: base }), "cargo generate-lockfile");
  ({ text: baseText, recipe: baseRecipe } = prepareRecipe(base));
});

/** A copy of the project (with its Cargo.lock) in a new directory. */
function copy(): string {
  const dir = join(scratch(), "project");
  cpSync(base, dir, { recursive: true });
  return dir;
}

function edit(dir: string, rel: string, change: (text: string) => string): void {
  const p = join(dir, rel);
  const before = readFileSync(p, "utf8");
  const after = change(before);
  if (after === before) throw new Error(`the edit of ${rel} changed nothing`);
  writeFileSync(p, after);
}

/** The recipe's parts that differ between two recipes: file paths, and "sources". */
function changedParts(a: RecipeJson, b: RecipeJson): string[] {
  const out: string[] = [];
  const paths = new Set([...a.files, ...b.files].map((f) => f.path));
  for (const p of [...paths].sort()) {
    const fa = a.files.find((f) => f.path === p);
    const fb = b.files.find((f) => f.path === p);
    if (fa?.contents !== fb?.contents || fa?.kind !== fb?.kind) out.push(p);
  }
  if (JSON.stringify(a.sources) !== JSON.stringify(b.sources)) out.push("sources");
  return out;
}

describe("the same recipe", () => {
  test("for the same project twice, at another path, and written to a file", () => {
    expect(prepareRecipe(base).text).toBe(baseText);
    const other = copy();
    expect(prepareRecipe(other).text).toBe(baseText);
    expect(baseText).not.toContain(base);
    ok(galley(["prepare", "--recipe-path", "out.json"], { cwd: other }), "prepare --recipe-path out.json");
    expect(readFileSync(join(other, "out.json"), "utf8")).toBe(baseText);
    // The fixture is what the tests below need.
    expect(baseRecipe.files.map((f) => f.path)).toEqual([
      ".cargo/config.toml",
      "Cargo.lock",
      "Cargo.toml",
      "crates/cli/Cargo.toml",
      "crates/core/Cargo.toml",
      "rust-toolchain.toml",
    ]);
  });

  test("after touching every file's mtime", () => {
    const dir = copy();
    setTreeMtime(dir, new Date("2001-02-03T04:05:06Z"));
    expect(prepareRecipe(dir).text).toBe(baseText);
  });

  test("after reformatting Cargo.toml and reordering its keys and tables", () => {
    const dir = copy();
    writeFileSync(
      join(dir, "Cargo.toml"),
      `# Same manifest, written differently.
workspace = { members = [ "crates/*" ], package = { edition = "2021", version = "0.7.0" } }

[profile.release]
lto     = "thin"   # comments do not matter
opt-level = 3

[dependencies.svc-core]
version = "0.7"
path = "crates/core"

[dependencies]
"itoa" = '1'

[package]
edition = "2021"
version = "1.2.0"
name    = "svc"

[features]
fast = []
default = [
  "fast",
]
`,
    );
    edit(dir, "crates/cli/Cargo.toml", (t) =>
      t.replace(
        'svc-core = { path = "../core", version = "0.7.0" }',
        "svc-core.version = '0.7.0'\nsvc-core.path = '../core'",
      ),
    );
    expect(prepareRecipe(dir).text).toBe(baseText);
  });

  test("after editing Rust sources and adding modules", () => {
    const dir = copy();
    writeTree(dir, {
      "src/main.rs": "mod util;\nfn main() {\n    util::run();\n}\n",
      "src/util.rs": "pub fn run() {}\n",
      "crates/core/src/lib.rs": 'pub const NAME: &str = "changed";\npub mod extra;\n',
      "crates/core/src/extra.rs": "",
    });
    expect(prepareRecipe(dir).text).toBe(baseText);
  });

  test("after bumping local versions, also the inherited workspace.package.version", () => {
    const dir = copy();
    edit(dir, "Cargo.toml", (t) =>
      t
        .replace('version = "1.2.0"', 'version = "1.3.0"')
        .replace('version = "0.7.0"', 'version = "0.8.0"')
        .replace('version = "0.7" }', 'version = "0.8" }'),
    );
    edit(dir, "crates/cli/Cargo.toml", (t) =>
      t.replace('version = "3.0.0"', 'version = "3.1.0"').replace('version = "0.7.0"', 'version = "0.8.0"'),
    );
    ok(run(["cargo", "update", "--workspace", "--offline"], { cwd: dir }), "cargo update --workspace");
    const lock = readFileSync(join(dir, "Cargo.lock"), "utf8");
    expect(lock).toContain('name = "svc-core"\nversion = "0.8.0"');
    expect(lock).toContain('name = "svc"\nversion = "1.3.0"');
    expect(prepareRecipe(dir).text).toBe(baseText);
  });
});

describe("a different recipe", () => {
  const cases: [string, (dir: string) => void, string[]][] = [
    [
      "after adding a dependency",
      (dir) => edit(dir, "crates/cli/Cargo.toml", (t) => `${t}either = "1"\n`),
      ["crates/cli/Cargo.toml"],
    ],
    [
      "after adding a feature",
      (dir) => edit(dir, "Cargo.toml", (t) => t.replace("fast = []", "fast = []\nextra = []")),
      ["Cargo.toml"],
    ],
    [
      "after changing a profile setting",
      (dir) => edit(dir, "Cargo.toml", (t) => t.replace("opt-level = 3", 'opt-level = "s"')),
      ["Cargo.toml"],
    ],
    [
      "after a dependency update in Cargo.lock",
      (dir) =>
        ok(
          run(["cargo", "update", "-p", "itoa", "--precise", "1.0.10", "--offline"], { cwd: dir }),
          "cargo update -p itoa --precise",
        ),
      ["Cargo.lock"],
    ],
    [
      "after changing .cargo/config.toml",
      (dir) => edit(dir, ".cargo/config.toml", (t) => `${t}\n[build]\nrustflags = ["-C", "debuginfo=1"]\n`),
      [".cargo/config.toml"],
    ],
    [
      "after changing rust-toolchain.toml",
      (dir) => edit(dir, "rust-toolchain.toml", (t) => t.replace('"stable"', '"1.85.0"')),
      ["rust-toolchain.toml"],
    ],
    [
      "after adding a binary",
      (dir) => writeTree(dir, { "crates/cli/src/bin/admin.rs": "fn main() {}\n" }),
      ["crates/cli/Cargo.toml", "sources"],
    ],
  ];
  for (const [name, change, parts] of cases) {
    test(name, () => {
      const dir = copy();
      change(dir);
      const { text, recipe } = prepareRecipe(dir);
      expect(text).not.toBe(baseText);
      expect(changedParts(baseRecipe, recipe)).toEqual(parts);
    });
  }
});
