/** Shared test helpers: temp projects, running the built galley, and running real cargo. */
import { afterAll } from "bun:test";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { readEvents, type StatEvent } from "../src/cache/engine/stats.ts";

export const REPO = resolve(import.meta.dir, "..");
export const GALLEY = join(REPO, "dist", "galley");
export const FIXTURES = join(REPO, "test", "fixtures");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A fresh temp directory, removed by the returned cleanup. */
export function tempDir(prefix = "galley-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Copies a fixture from test/fixtures into a new temp directory and returns its path. */
export function copyFixture(name: string, into?: string): string {
  const dest = into ?? join(tempDir(), name);
  cpSync(join(FIXTURES, name), dest, { recursive: true });
  return dest;
}

/** Writes a tree of files: { "Cargo.toml": "...", "src/main.rs": "..." }. */
export function writeTree(root: string, files: Record<string, string>): string {
  for (const [rel, contents] of Object.entries(files)) {
    const p = join(root, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, contents);
  }
  return root;
}

export function run(
  argv: string[],
  opts: { cwd: string; env?: Record<string, string | undefined> },
): RunResult {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", ...opts.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const p = Bun.spawnSync(argv, {
    cwd: opts.cwd,
    env: env as Record<string, string>,
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

export function galley(
  args: string[],
  opts: { cwd: string; env?: Record<string, string | undefined> },
): RunResult {
  return run([GALLEY, ...args], opts);
}

/**
 * `cargo build <args>` in `cwd` with galley as RUSTC_WRAPPER on the cache `cacheDir`, its stats log
 * emptied first: the events of this build alone. Fails the test when the build fails.
 */
export function buildThroughGalley(
  cwd: string,
  cacheDir: string,
  args: string[] = [],
  env: Record<string, string> = {},
): StatEvent[] {
  rmSync(join(cacheDir, "v1", "stats.log"), { force: true });
  ok(
    run(["cargo", "build", ...args], {
      cwd,
      env: { RUSTC_WRAPPER: GALLEY, GALLEY_DIR: cacheDir, CARGO_INCREMENTAL: "0", ...env },
    }),
    ["cargo build", ...args, "through galley"].join(" "),
  );
  return readEvents(cacheDir);
}

/** Like run(), but fails the test with the output when the command fails. */
export function ok(result: RunResult, what = "command"): RunResult {
  if (result.code !== 0) {
    throw new Error(
      `${what} exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
    );
  }
  return result;
}

export interface Artifact {
  packageId: string;
  name: string;
  kind: string[];
  fresh: boolean;
  filenames: string[];
  executable: string | null;
}

/** Runs `cargo build --message-format=json` and returns the compiler-artifact messages. */
export function cargoBuild(
  cwd: string,
  args: string[] = [],
  env?: Record<string, string>,
): { artifacts: Artifact[]; result: RunResult } {
  return cargoJson(cwd, "build", args, env);
}

export const isThirdParty = (a: Artifact) =>
  a.packageId.startsWith("registry+") || a.packageId.includes("(registry+");

/** Third-party units that cargo compiled (not fresh) in a build. */
export function rebuiltThirdParty(artifacts: Artifact[]): string[] {
  return artifacts.filter((a) => isThirdParty(a) && !a.fresh).map((a) => `${a.name} (${a.packageId})`);
}

/** Sets the mtime of every file under `dir` to `date` (as Docker's COPY keeps old mtimes). */
export function setTreeMtime(dir: string, date: Date): void {
  run(["find", dir, "-exec", "touch", "-h", "-d", date.toISOString(), "{}", "+"], { cwd: dir });
}

// --- galley prepare: recipes, cooking them in a fresh directory, cargo's own view of a workspace ---

/** A recipe as `galley prepare` writes it (JSON). */
export interface RecipeJson {
  schema: string;
  files: { path: string; kind: string; contents: string; encoding?: string }[];
  sources: { path: string; kind: string }[];
  real: string[];
  pruned?: boolean;
}

/** Runs `galley prepare --recipe-path - ARGS` in `cwd`; fails the test when it fails. */
export function prepareRecipe(
  cwd: string,
  args: string[] = [],
): { text: string; recipe: RecipeJson; stderr: string } {
  const result = ok(
    galley(["prepare", "--recipe-path", "-", ...args], { cwd }),
    `galley prepare ${args.join(" ")}`,
  );
  return { text: result.stdout, recipe: JSON.parse(result.stdout) as RecipeJson, stderr: result.stderr };
}

/** The contents of the recipe's file at `path`; fails the test when the recipe has none. */
export function recipeFile(recipe: RecipeJson, path: string): string {
  const file = recipe.files.find((f) => f.path === path);
  if (!file)
    throw new Error(`the recipe has no ${path}; it has ${recipe.files.map((f) => f.path).join(", ")}`);
  return file.contents;
}

/** The recipe's manifest at `path`, parsed. */
export function recipeManifest(recipe: RecipeJson, path = "Cargo.toml"): Record<string, unknown> {
  return Bun.TOML.parse(recipeFile(recipe, path)) as Record<string, unknown>;
}

/** The value at `keys` inside parsed TOML/JSON (`undefined` when any step is missing). */
export function at(value: unknown, ...keys: (string | number)[]): unknown {
  let cur = value;
  for (const k of keys) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

/**
 * Writes `recipeText` as `recipe.json`, the only file of a fresh directory, and runs `galley cook ARGS`
 * there. `place` is where that directory sits inside a new temp dir (recipes holding `../` paths need a
 * parent they can write to). Remove `root` when done.
 */
export function cookInFreshDir(
  recipeText: string,
  args: string[],
  opts: { place?: string; env?: Record<string, string | undefined> } = {},
): { root: string; dir: string; result: RunResult } {
  const root = tempDir("galley-cook-");
  const dir = join(root, opts.place ?? "build");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "recipe.json"), recipeText);
  const result = galley(["cook", ...args], { cwd: dir, ...(opts.env ? { env: opts.env } : {}) });
  return { root, dir, result };
}

/** cargo's view of a workspace (`cargo metadata --no-deps`), by relative path and without versions. */
export interface CargoView {
  members: string[];
  defaultMembers: string[];
  /** One line per target: package dir, kinds, crate types, name, source, edition, flags. */
  targets: string[];
  /** One line per dependency: package dir, name, rename, kind, target, flags, features, and the
   * requirement (registry) or relative path (path dependency: its version requirement is masked). */
  dependencies: string[];
  /** One line per feature: package dir, name, what it enables. */
  features: string[];
}

export function cargoView(dir: string): CargoView {
  const result = ok(
    run(["cargo", "metadata", "--no-deps", "--offline", "--format-version", "1"], { cwd: dir }),
    `cargo metadata in ${dir}`,
  );
  interface MetaTarget {
    kind: string[];
    crate_types: string[];
    name: string;
    src_path: string;
    edition: string;
    "required-features"?: string[];
    test: boolean;
    doctest: boolean;
    doc: boolean;
  }
  interface MetaDependency {
    name: string;
    rename: string | null;
    kind: string | null;
    target: string | null;
    optional: boolean;
    uses_default_features: boolean;
    features: string[];
    req: string;
    path?: string;
  }
  const meta = JSON.parse(result.stdout) as {
    workspace_root: string;
    workspace_members: string[];
    workspace_default_members?: string[];
    packages: {
      id: string;
      manifest_path: string;
      targets: MetaTarget[];
      dependencies: MetaDependency[];
      features: Record<string, string[]>;
    }[];
  };
  /** `p` relative to the workspace root, `../` where it is outside. */
  const rel = (p: string) => {
    const from = meta.workspace_root.split("/");
    const to = p.split("/");
    let i = 0;
    while (i < from.length && i < to.length && from[i] === to[i]) i++;
    return [...from.slice(i).map(() => ".."), ...to.slice(i)].join("/") || ".";
  };
  const dirOf = new Map(meta.packages.map((p) => [p.id, rel(dirname(p.manifest_path))]));
  const targets = meta.packages.flatMap((p) =>
    p.targets.map((t) =>
      [
        dirOf.get(p.id),
        t.kind.join(","),
        t.crate_types.join(","),
        t.name,
        rel(t.src_path),
        t.edition,
        `required-features=${(t["required-features"] ?? []).join(",")}`,
        `test=${t.test} doctest=${t.doctest} doc=${t.doc}`,
      ].join(" "),
    ),
  );
  const dependencies = meta.packages.flatMap((p) =>
    p.dependencies.map((d) =>
      [
        dirOf.get(p.id),
        d.name,
        `rename=${d.rename}`,
        `kind=${d.kind}`,
        `target=${d.target}`,
        `optional=${d.optional} default-features=${d.uses_default_features}`,
        `features=${[...d.features].sort().join(",")}`,
        d.path === undefined ? `req=${d.req}` : `path=${rel(d.path)}`,
      ].join(" "),
    ),
  );
  const features = meta.packages.flatMap((p) =>
    Object.entries(p.features).map(([name, enables]) => `${dirOf.get(p.id)} ${name} = ${enables.join(",")}`),
  );
  return {
    members: meta.workspace_members.map((id) => dirOf.get(id) ?? id).sort(),
    defaultMembers: (meta.workspace_default_members ?? []).map((id) => dirOf.get(id) ?? id).sort(),
    targets: targets.sort(),
    dependencies: dependencies.sort(),
    features: features.sort(),
  };
}

// ---- cook / CLI integration helpers ----------------------------------------------------------

/** An mtime older than any build output, as Docker's COPY keeps the sources' own old mtimes. */
export const OLD_MTIME = new Date("2001-01-01T00:00:00Z");

/** Every file and directory under `dir` (relative, sorted); directories named in `skip` are not entered. */
export function listTree(dir: string, skip: string[] = []): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      out.push(r);
      if (entry.isDirectory() && !skip.includes(entry.name)) walk(r);
    }
  };
  walk("");
  return out.sort();
}

/** The bytes of every file under `dir`, by relative path. */
export function readTreeFiles(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const rel of listTree(dir)) {
    const p = join(dir, rel);
    if (statSync(p).isFile()) files.set(rel, readFileSync(p));
  }
  return files;
}

/** Like cargoBuild, for any cargo subcommand (`check`, `clippy`, ...); `fail: true` allows failure. */
export function cargoJson(
  cwd: string,
  subcommand: string,
  args: string[] = [],
  env?: Record<string, string | undefined>,
): { artifacts: Artifact[]; result: RunResult } {
  const result = ok(
    run(["cargo", subcommand, "--message-format=json", ...args], { cwd, ...(env ? { env } : {}) }),
    `cargo ${subcommand} ${args.join(" ")}`,
  );
  const artifacts: Artifact[] = [];
  for (const line of result.stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const m = JSON.parse(line);
    if (m.reason === "compiler-artifact") {
      artifacts.push({
        packageId: m.package_id,
        name: m.target.name,
        kind: m.target.kind,
        fresh: m.fresh,
        filenames: m.filenames,
        executable: m.executable,
      });
    }
  }
  return { artifacts, result };
}

/** Workspace (path) units that cargo reused instead of compiling. */
export function freshLocal(artifacts: Artifact[]): string[] {
  return artifacts.filter((a) => !isThirdParty(a) && a.fresh).map((a) => `${a.name} (${a.packageId})`);
}

/** The `rustc -vV` first lines cargo recorded in a target directory's .rustc_info.json. */
export function rustcVersionsIn(targetDir: string): string[] {
  const info = JSON.parse(readFileSync(join(targetDir, ".rustc_info.json"), "utf8")) as {
    outputs: Record<string, { stdout: string }>;
  };
  return Object.values(info.outputs)
    .flatMap((o) => o.stdout.split("\n"))
    .filter((l) => l.startsWith("rustc "));
}

/** Whether rustup has a toolchain whose name starts with `name` (e.g. "nightly"). */
export function hasToolchain(name: string): boolean {
  const r = run(["rustup", "toolchain", "list"], { cwd: REPO });
  return r.code === 0 && r.stdout.split("\n").some((l) => l.startsWith(name));
}

/** `galley prepare` in `project`, writing the recipe to `recipePath`. */
export function prepareTo(project: string, recipePath: string, args: string[] = []): string {
  ok(galley(["prepare", "--recipe-path", recipePath, ...args], { cwd: project }), "galley prepare");
  return readFileSync(recipePath, "utf8");
}

/** Docker's `COPY src/ dest/`: copies the tree, then gives every copied file `mtime` (default: old). */
export function copySources(src: string, dest: string, mtime: Date | null = OLD_MTIME): void {
  mkdirSync(dest, { recursive: true });
  cpSync(src, dest, { recursive: true, filter: (p) => !p.split(/[\\/]/).includes("target") });
  if (mtime) setTreeMtime(dest, mtime);
}

/**
 * Temp directories for one test file, removed after it, and a cook in a fresh directory that
 * shares one target directory across the file (the registry crates compile once).
 */
export function scratchSpace(prefix: string) {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) removeDir(d);
  });
  const scratch = (): string => {
    const d = tempDir(prefix);
    dirs.push(d);
    return d;
  };
  const targetDir = scratch();
  const cook = (recipeText: string, args: string[], env: Record<string, string> = {}) => {
    const c = cookInFreshDir(recipeText, args, { env: { CARGO_TARGET_DIR: targetDir, ...env } });
    dirs.push(c.root);
    return c;
  };
  return { scratch, cook, targetDir, track: (d: string) => void dirs.push(d) };
}
