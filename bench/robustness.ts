/**
 * Robustness check of the dependency layer on real workspaces (not a speed benchmark).
 *
 *   ./node_modules/.bin/bun bench/robustness.ts [--galley dist/galley] [--keep] PROJECT...
 *
 * PROJECT is `name=PATH`, where PATH is a project's source tree or a bare git directory (its HEAD is
 * extracted; blobs the clone lacks, such as large binary assets, are skipped). For each project, in
 * a temp directory and never in PATH itself:
 *
 * 1. `cargo metadata --no-deps` on the project: its members; `cargo metadata --locked` on it: whether
 *    the project's own Cargo.lock is up to date (a skeleton cannot do better than its project).
 * 2. `galley prepare` on the full context, timed (one run, wall ms); which packages travel with
 *    real sources (`[patch]` targets that registry or git crates depend on), how many files, bytes.
 * 3. `galley prepare` on a manifests-only copy (every Cargo.toml and Cargo.lock, `.cargo/`,
 *    `rust-toolchain(.toml)`; the planner stage of a Dockerfile that copies only those): how many
 *    packages galley had to guess targets for, from its grouped warning.
 * 4. The root package's version bumped in Cargo.toml, Cargo.lock left as it is (a common commit):
 *    is the recipe byte-identical to the unbumped one? (A virtual workspace without a shared version:
 *    the first member with its own version that is not a `[patch]` target.)
 * 5. `galley cook --no-build` of each recipe into an empty directory, then
 *    `cargo metadata --locked --format-version 1` on the cooked skeleton (cargo may fetch index
 *    entries; nothing is built). Where the project itself fails that check, the skeleton gets what
 *    still can be checked: `--no-deps --offline` when a git dependency cannot be reached, no
 *    `--locked` when the project's own Cargo.lock is stale or missing; the table says which.
 *
 * Public workspaces to try it on are fetched with git (`git clone --bare URL`); for instance
 *   bun bench/robustness.ts hyperfine=~/src/hyperfine.git tokei=~/src/tokei.git
 *
 * cargo runs with RUSTUP_TOOLCHAIN=stable unless the variable is set (a project's pinned toolchain
 * may not be installable offline). Prints one markdown table, then the first lines of every failure.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";

const REPO = resolve(import.meta.dir, "..");
const { values: opts, positionals } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    galley: { type: "string", default: join(REPO, "dist", "galley") },
    keep: { type: "boolean", default: false },
  },
  allowPositionals: true,
  strict: true,
});
// A relative --galley would not be found from the project's directory, where cargo runs it.
opts.galley = resolve(opts.galley);
const GALLEY = resolve(opts.galley);
if (positionals.length === 0) {
  console.error("usage: bun bench/robustness.ts [--galley PATH] [--keep] name=PATH...");
  process.exit(2);
}
const ENV: Record<string, string> = {
  ...(process.env as Record<string, string>),
  RUSTUP_TOOLCHAIN: process.env.RUSTUP_TOOLCHAIN ?? "stable",
  NO_COLOR: "1",
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function sh(argv: string[], cwd: string): Run {
  const started = performance.now();
  const p = Bun.spawnSync(argv, { cwd, env: ENV, stdout: "pipe", stderr: "pipe" });
  return {
    code: p.exitCode ?? -1,
    stdout: p.stdout.toString(),
    stderr: p.stderr.toString(),
    ms: Math.round(performance.now() - started),
  };
}

const work = mkdtempSync(join(tmpdir(), "galley-robustness-"));
const failures: string[] = [];
const rows: string[][] = [];

for (const spec of positionals) {
  const eq = spec.indexOf("=");
  if (eq < 1) throw new Error(`${spec}: expected name=PATH`);
  const name = spec.slice(0, eq);
  const source = resolve(spec.slice(eq + 1));
  const base = join(work, name);
  const full = join(base, "full");
  mkdirSync(full, { recursive: true });
  const commit = materialise(source, full);

  const fail = (what: string, r: Run) =>
    failures.push(`${name}: ${what} (exit ${r.code})\n    ${firstLines(r.stderr || r.stdout, 6)}`);

  const meta = sh(["cargo", "metadata", "--no-deps", "--format-version", "1", "--offline"], full);
  const metaJson =
    meta.code === 0
      ? (JSON.parse(meta.stdout) as {
          workspace_root: string;
          workspace_members: string[];
          packages: { id: string; manifest_path: string }[];
        })
      : undefined;
  const members = metaJson ? String(metaJson.workspace_members.length) : "?";
  const memberManifests = (metaJson?.workspace_members ?? []).map((id) =>
    relative(metaJson!.workspace_root, metaJson!.packages.find((p) => p.id === id)!.manifest_path),
  );
  if (meta.code !== 0) fail("cargo metadata --no-deps on the project", meta);
  const projectLocked = sh(["cargo", "metadata", "--locked", "--format-version", "1"], full);
  if (projectLocked.code !== 0) fail("cargo metadata --locked on the project itself", projectLocked);

  const fullRecipe = join(base, "full.json");
  const prep = sh([GALLEY, "prepare", "--recipe-path", fullRecipe], full);
  if (prep.code !== 0) fail("galley prepare (full context)", prep);

  const manifestsOnly = join(base, "manifests-only");
  copyManifestsOnly(full, manifestsOnly);
  const moRecipe = join(base, "manifests-only.json");
  const moPrep = sh([GALLEY, "prepare", "--recipe-path", moRecipe], manifestsOnly);
  if (moPrep.code !== 0) fail("galley prepare (manifests only)", moPrep);

  let bumpIdentical = "n/a";
  const bump = bumpRootVersion(full, memberManifests);
  if (bump && prep.code === 0) {
    const bumpedRecipe = join(base, "bumped.json");
    const b = sh([GALLEY, "prepare", "--recipe-path", bumpedRecipe], full);
    bump.undo();
    if (b.code !== 0) fail("galley prepare (bumped)", b);
    bumpIdentical =
      b.code === 0 && readFileSync(bumpedRecipe, "utf8") === readFileSync(fullRecipe, "utf8")
        ? `yes (${bump.what})`
        : `NO (${bump.what})`;
  }

  const checkSkeleton = (recipe: string, label: string, ok: boolean): string => {
    if (!ok) return "no recipe";
    const dir = cookDir(join(base, `cook-${label}`), recipe);
    const cook = sh([GALLEY, "cook", "--no-build", "--recipe-path", recipe], dir);
    if (cook.code !== 0) {
      fail(`galley cook --no-build (${label})`, cook);
      return "cook failed";
    }
    // The skeleton cannot do better than its project: where the project's own `--locked` check
    // fails (a git dependency this machine cannot reach, a stale or missing Cargo.lock), check
    // what still can be: that cargo loads every manifest (--no-deps), or resolves without --locked.
    const mode = projectLocked.code === 0 ? "locked" : unreachable(projectLocked) ? "no-deps" : "unlocked";
    const argv =
      mode === "locked"
        ? ["cargo", "metadata", "--locked", "--format-version", "1"]
        : mode === "no-deps"
          ? ["cargo", "metadata", "--no-deps", "--offline", "--format-version", "1"]
          : ["cargo", "metadata", "--format-version", "1"];
    const m = sh(argv, dir);
    if (m.code !== 0) fail(`${argv.join(" ")} on the cooked skeleton (${label})`, m);
    return m.code !== 0 ? "FAIL" : mode === "locked" ? "ok" : `ok (${mode})`;
  };

  rows.push([
    name,
    commit,
    members,
    prep.code === 0 ? String(prep.ms) : "FAIL",
    prep.code === 0 ? realSummary(fullRecipe) : "-",
    moPrep.code === 0 ? guessSummary(moPrep.stderr) : "FAIL",
    bumpIdentical,
    projectLocked.code === 0 ? "ok" : "FAIL",
    checkSkeleton(fullRecipe, "full", prep.code === 0),
    checkSkeleton(moRecipe, "manifests-only", moPrep.code === 0),
  ]);
  console.error(`done: ${rows.at(-1)!.join(" | ")}`);
}

const header = [
  "project",
  "commit",
  "members",
  "prepare ms",
  "real sources",
  "manifests-only guesses",
  "bump-identical",
  "project --locked",
  "metadata full",
  "metadata manifests-only",
];
console.log(`| ${header.join(" | ")} |`);
console.log(`|${header.map(() => "---").join("|")}|`);
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
if (failures.length > 0) console.log(`\nFailures:\n${failures.map((f) => `- ${f}`).join("\n")}`);
if (!opts.keep) rmSync(work, { recursive: true, force: true });
else console.error(`kept ${work}`);

/** Copies a tree, or extracts a bare git directory's HEAD; returns the commit (or "tree"). */
function materialise(source: string, dest: string): string {
  if (!existsSync(join(source, "HEAD")) || !existsSync(join(source, "objects"))) {
    cpSync(source, dest, { recursive: true, filter: (p) => !p.split("/").includes("target") });
    return "tree";
  }
  const git = (args: string[], input?: string) => {
    const p = Bun.spawnSync(["git", `--git-dir=${source}`, ...args], {
      stdout: "pipe",
      stderr: "pipe",
      ...(input === undefined ? {} : { stdin: Buffer.from(input) }),
    });
    if (p.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${p.stderr.toString()}`);
    return p.stdout;
  };
  const commit = git(["rev-parse", "--short=10", "HEAD"]).toString().trim();
  const entries = git(["ls-tree", "-r", "-z", "HEAD"])
    .toString()
    .split("\0")
    .filter(Boolean)
    .map((line) => {
      const [meta, path] = line.split("\t") as [string, string];
      const [mode, type, oid] = meta.split(" ") as [string, string, string];
      return { mode, type, oid, path };
    })
    .filter((e) => e.type === "blob");
  // One `cat-file --batch` for every blob: "<oid> blob <size>\n<bytes>\n", or "<oid> missing\n".
  const out = git(["cat-file", "--batch"], `${entries.map((e) => e.oid).join("\n")}\n`);
  let at = 0;
  for (const e of entries) {
    const nl = out.indexOf(10, at);
    const head = out.subarray(at, nl).toString();
    at = nl + 1;
    if (head.endsWith(" missing")) continue;
    const size = Number(head.split(" ")[2]);
    const bytes = out.subarray(at, at + size);
    at += size + 1;
    const target = join(dest, e.path);
    mkdirSync(dirname(target), { recursive: true });
    if (e.mode === "120000") continue; // symlinks: not needed for manifests
    writeFileSync(target, bytes, { mode: e.mode === "100755" ? 0o755 : 0o644 });
  }
  return commit;
}

function copyManifestsOnly(from: string, to: string): void {
  const keep = (rel: string, file: string) =>
    file === "Cargo.toml" ||
    file === "Cargo.lock" ||
    (rel === "" && (file === "rust-toolchain" || file === "rust-toolchain.toml"));
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(from, rel), { withFileTypes: true })) {
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (entry.name === ".git" || entry.name === "target") continue;
        if (childRel === ".cargo") cpSync(join(from, childRel), join(to, childRel), { recursive: true });
        else walk(childRel);
      } else if (entry.isFile() && keep(rel, entry.name)) {
        mkdirSync(join(to, rel), { recursive: true });
        cpSync(join(from, childRel), join(to, childRel));
      }
    }
  };
  walk("");
}

/**
 * Bumps the patch version of the root package (or of `[workspace.package]`) in place; in a virtual
 * workspace without a shared version, of the first member (in cargo's order) that has its own.
 */
function bumpRootVersion(root: string, members: string[]): { what: string; undo: () => void } | undefined {
  // A `[patch]` target keeps its version in the recipe by necessity (cargo matches a patch by
  // version), so it is not the package whose bump this checks.
  const rootManifest = Bun.TOML.parse(readFileSync(join(root, "Cargo.toml"), "utf8")) as {
    patch?: Record<string, Record<string, { path?: string }>>;
  };
  const patched = new Set(
    Object.values(rootManifest.patch ?? {}).flatMap((entries) =>
      Object.values(entries).flatMap((e) => (e.path === undefined ? [] : [join(root, e.path, "Cargo.toml")])),
    ),
  );
  for (const rel of ["Cargo.toml", ...members.filter((m) => !patched.has(join(root, m)))]) {
    const bumped = bumpVersionIn(root, rel);
    if (bumped) return bumped;
  }
  return undefined;
}

function bumpVersionIn(root: string, rel: string): { what: string; undo: () => void } | undefined {
  const path = join(root, rel);
  const text = readFileSync(path, "utf8");
  const lines = text.split("\n");
  for (const section of ["[package]", "[workspace.package]"]) {
    let inSection = false;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (/^\s*\[/.test(line)) inSection = line.trim() === section;
      const m = inSection ? /^(\s*version\s*=\s*")(\d+)\.(\d+)\.(\d+)(.*)$/.exec(line) : null;
      if (!m) continue;
      const from = `${m[2]}.${m[3]}.${m[4]}`;
      const to = `${m[2]}.${m[3]}.${Number(m[4]) + 1}`;
      lines[i] = `${m[1]}${to}${m[5]}`;
      writeFileSync(path, lines.join("\n"));
      const where = rel === "Cargo.toml" ? section : `${rel} ${section}`;
      return { what: `${where} ${from}→${to}`, undo: () => writeFileSync(path, text) };
    }
  }
  return undefined;
}

/** An empty directory deep enough for the recipe's `../` paths. */
function cookDir(base: string, recipe: string): string {
  const paths = (JSON.parse(readFileSync(recipe, "utf8")) as { files: { path: string }[] }).files.map(
    (f) => f.path,
  );
  const depth = Math.max(0, ...paths.map((p) => p.split("/").filter((s) => s === "..").length));
  const dir = join(base, ...Array.from({ length: depth }, (_, i) => `d${i}`), "build");
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** How many packages prepare guessed targets for, and how many guesses of each kind. */
function guessSummary(stderr: string): string {
  const m = /guessed the targets of (\d+) packages?/.exec(stderr);
  if (!m) return "none";
  const kinds = new Map<string, number>();
  for (const line of stderr.split("\n")) {
    const g = /^ {2}(library|binary|build script|no library)\b.*\((\d+)\): /.exec(line);
    if (g) kinds.set(g[1]!, (kinds.get(g[1]!) ?? 0) + Number(g[2]));
  }
  return `${m[1]} (${[...kinds].map(([k, n]) => `${k} ${n}`).join(", ")})`;
}

/** The packages that travel with real sources, and how many files and bytes they carry. */
function realSummary(recipePath: string): string {
  const recipe = JSON.parse(readFileSync(recipePath, "utf8")) as {
    real?: string[];
    files: { kind: string; contents: string }[];
  };
  const real = recipe.real ?? [];
  if (real.length === 0) return "none";
  const files = recipe.files.filter((f) => f.kind === "source");
  const kb = files.reduce((n, f) => n + f.contents.length, 0) / 1024;
  return `${real.join(", ")}: ${files.length} files, ${kb.toFixed(0)} KiB`;
}

/** cargo failed because a git source (or the network) could not be reached. */
function unreachable(r: Run): boolean {
  return /failed to load source for dependency|spurious network error|Could not resolve host/.test(r.stderr);
}

function firstLines(text: string, n: number): string {
  return text.trim().split("\n").slice(0, n).join("\n    ");
}
