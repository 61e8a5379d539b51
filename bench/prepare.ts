/**
 * Benchmark of `galley prepare` on a large, realistic workspace.
 *
 *   ./node_modules/.bin/bun bench/prepare.ts [--members 200] [--runs 15] [--galley dist/galley] [--keep]
 *
 * Generates, in a temp directory, a virtual workspace whose members are found through the glob
 * `crates/*`: every member has a lib, some have bins (src/main.rs, src/bin/), tests, examples,
 * benches, build scripts or are proc-macros; members depend on each other through path
 * dependencies (direct, versioned, or inherited from `[workspace.dependencies]`) and on registry
 * crates mostly inherited from `[workspace.dependencies]`; one glob match is excluded; there is a
 * .cargo/config.toml and a rust-toolchain.toml. Cargo.lock comes from
 * `cargo generate-lockfile --offline` when that works here (cargo and a warm registry cache), else
 * the bench writes the same bytes itself from crates.io's entries embedded below.
 *
 * Then it times the built executable: `galley --version` (baseline: process start-up, measured
 * before and after because the machine drifts) and `galley prepare`, several runs each, and prints
 * min / median / max. It also checks that every prepare run gave the same bytes and the expected
 * number of manifests. Exit code 1 when prepare fails or is not deterministic; missing the target
 * only prints MISS, since timings depend on the machine.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";

const REPO = resolve(import.meta.dir, "..");
const TARGET_SECONDS = 0.3;
const WS_VERSION = "0.3.7";
const REGISTRY = "registry+https://github.com/rust-lang/crates.io-index";

// ---------------------------------------------------------------------------------------------
// Command line

const { values: opts } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    members: { type: "string", default: "200" },
    runs: { type: "string", default: "15" },
    galley: { type: "string", default: join(REPO, "dist", "galley") },
    keep: { type: "boolean", default: false },
  },
  strict: true,
});
// A relative --galley would not be found from the project's directory, where cargo runs it.
opts.galley = resolve(opts.galley);
const MEMBERS = positiveInt(opts.members, "--members");
const RUNS = positiveInt(opts.runs, "--runs");
const GALLEY = resolve(opts.galley);

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (Number.isInteger(n) && n >= 1) return n;
  console.error(`bench: ${flag} must be a positive integer, got ${value}`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Deterministic pseudo-random choices (mulberry32), so every run benchmarks the same workspace

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(0x9a11e7);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

// ---------------------------------------------------------------------------------------------
// The registry crates the workspace resolves to: crates.io's own entries (name, version, checksum,
// dependencies as Cargo.lock spells them), taken from `cargo generate-lockfile` on this very
// workspace. Used only when cargo cannot make the lockfile offline here: the bench then writes
// the same Cargo.lock cargo would (including two versions of syn, as real workspaces have).

type RegistryEntry = [name: string, version: string, checksum: string, deps: string[]];

const REGISTRY_ENTRIES: RegistryEntry[] = [
  ["aho-corasick", "1.1.5", "c982642fa9e8606056828ee9a8505737230110bb1099153c79efe865c59d12ba", ["memchr"]],
  ["anyhow", "1.0.104", "330a5ed07fa54e4702c9d6c4174f74427fc0ef6e214bbd677ae50a5099946470", []],
  ["bytes", "1.12.2", "776dfebd015e2d8732c684a2c71003674ccb49457b539b9e82151ba38e96dd7c", []],
  [
    "cc",
    "1.11.3",
    "02f0e023adb368345ce0ca6cdfc0f24a06554468d0e8503e14a0841de79bfa69",
    ["find-msvc-tools", "shlex"],
  ],
  ["cfg-if", "1.0.5", "4e7648175b45a9a48536d676f68d918270699102aa8dab5496df06904c914600", []],
  ["either", "1.19.0", "0e9c71c2167ca323c882b99918929403426e2373ea17242ff5653e0d5e1058be", []],
  ["find-msvc-tools", "0.1.15", "1c66915cc5391097de7a2b0b972e8505aa33c0df401fd3a6811dbdb32881ba48", []],
  ["itertools", "0.14.0", "2b192c782037fadd9cfa75548310488aabdbf3d2da73885b31bd0abd03351285", ["either"]],
  ["itoa", "1.0.19", "3bd1574e617a9a6c1f8f8181bd7e841e1f20e4277607ef28945765188d6284d4", []],
  ["libc", "0.2.191", "65cd87c9a6d60536580b316ad985726104730a5151c99845f2490428ef91240a", []],
  ["log", "0.4.35", "5d15f86d12da44cd8d4ec3c73984537eb7f4cadcb9776a575a0a8a05ca11005c", []],
  ["memchr", "2.8.3", "cf8baf1c55e62ffcace7a9f06f4bd9cd3f0c4beb022d3b367256b91b87513d98", []],
  [
    "mio",
    "1.2.5",
    "20521a903f02b0a573cd6840e9d0a5a0cc043d361fe924092cd70f8556cc9c4a",
    ["libc", "wasi", "windows-sys"],
  ],
  ["once_cell", "1.21.4", "9f7c3e4beb33f85d45ae3e3a1792185706c8e16d043238c593331cc7cd313b50", []],
  ["pin-project-lite", "0.2.18", "c938015719552d665fd0553b90d96cd7ff58e83e4c061ca99e6bb78865a72752", []],
  [
    "proc-macro2",
    "1.0.107",
    "985e7ec9bb745e6ce6535b544d84d6cd6f7ad8bd711c398938ae983b91a766d9",
    ["unicode-ident"],
  ],
  ["quote", "1.0.47", "1fbf4db142a473a8d80c26bbf18454ed458bf8d26c8219c331daecfdbd079001", ["proc-macro2"]],
  [
    "regex",
    "1.13.1",
    "f020237b6c8eed93db2e2cb53c00c60a8e1bc73da7d073199a1180401450218d",
    ["aho-corasick", "memchr", "regex-automata", "regex-syntax"],
  ],
  [
    "regex-automata",
    "0.4.19",
    "41d60ef07df457506a0a1a2073112eb4aae5733dbd2813c3da77d1b0fd441158",
    ["aho-corasick", "memchr", "regex-syntax"],
  ],
  ["regex-syntax", "0.8.12", "d902046e6a28a1e4c3cab97258a0ce11e994903f01c2d97a9447a0b3df85f4f6", []],
  [
    "serde",
    "1.0.229",
    "4148590afebada386688f18773da617792bf2ef03ffc1e4cbd2b1d45b023e0ba",
    ["serde_core", "serde_derive"],
  ],
  [
    "serde_core",
    "1.0.229",
    "67dca2c9c51e58a4791a4b1ed58308b39c64224d349a935ab5039aa360942a48",
    ["serde_derive"],
  ],
  [
    "serde_derive",
    "1.0.229",
    "e7a5d71263a5a7d47b41f6b3f06ba276f10cc18b0931f1799f710578e2309348",
    ["proc-macro2", "quote", "syn 3.0.10"],
  ],
  [
    "serde_json",
    "1.0.154",
    "e7e9cc8b1b85264074fbcc02a88680c4096b1e47df8f739dceb03bf482f04bd6",
    ["itoa", "memchr", "serde", "serde_core", "zmij"],
  ],
  ["shlex", "2.0.1", "f8fadd59c855ef2080decdef8ff161eb6661b86933c9d82e5ba29dc602a55aba", []],
  ["smallvec", "1.16.6", "3244542535d5de959d90ec55d1b5ff0fd2bb7b1310223907d5f11932847f7b59", []],
  [
    "socket2",
    "0.6.5",
    "c3d1e2c7f27f8d4cb10542a02c49005dbd6e93095799d6f3be745fae9f8fedd4",
    ["libc", "windows-sys"],
  ],
  [
    "syn",
    "2.0.119",
    "872831b642d1a07999a962a351ed35b955ea2cfc8f3862091e2a240a84f17297",
    ["proc-macro2", "quote", "unicode-ident"],
  ],
  [
    "syn",
    "3.0.10",
    "4ae9ccbea3a7b0b09443036490c8f34a8b1b760fd345e5c0dae0aac718faea79",
    ["proc-macro2", "quote", "unicode-ident"],
  ],
  [
    "thiserror",
    "2.0.21",
    "09e52cb86a36cede5cb101bf8908837b3e4c6e5e59fe7fd85c23fb56200d189e",
    ["thiserror-impl"],
  ],
  [
    "thiserror-impl",
    "2.0.21",
    "fe5197923287db20a58125f0bc85c062f7f2c892de97b18c356f9efb14b28524",
    ["proc-macro2", "quote", "syn 3.0.10"],
  ],
  [
    "tokio",
    "1.54.1",
    "b52fd3255258d26fac7264ab5a76b53c13367136dc011d3d6ad4f8ed070396a3",
    ["libc", "mio", "pin-project-lite", "socket2", "tokio-macros", "windows-sys"],
  ],
  [
    "tokio-macros",
    "2.7.2",
    "78773a2a397f451582ce068015985c33193cf6dea8b74d2a639fe457b2f07b0e",
    ["proc-macro2", "quote", "syn 3.0.10"],
  ],
  [
    "tracing",
    "0.1.44",
    "63e71662fa4b2a2c3a26f570f037eb95bb1f85397f3cd8076caed2f026a6d100",
    ["pin-project-lite", "tracing-attributes", "tracing-core"],
  ],
  [
    "tracing-attributes",
    "0.1.31",
    "7490cfa5ec963746568740651ac6781f701c9c5ea257c58e057f3ba8cf69e8da",
    ["proc-macro2", "quote", "syn 2.0.119"],
  ],
  [
    "tracing-core",
    "0.1.36",
    "db97caf9d906fbde555dd62fa95ddba9eecfd14cb388e4f491a66d74cd5fb79a",
    ["once_cell"],
  ],
  ["unicode-ident", "1.0.27", "a2c754d6c33795a1c324727428e5a7dedb5b06195f9890bdbcba760d3e246563", []],
  [
    "wasi",
    "0.11.1+wasi-snapshot-preview1",
    "ccf3ec651a847eb01de73ccad15eb7d99f80485de043efb2f370cd654f4ea44b",
    [],
  ],
  ["windows-link", "0.2.1", "f0805222e57f7521d6a62e36fa9163bc891acd422f971defe97d64e70d0a4fe5", []],
  [
    "windows-sys",
    "0.61.2",
    "ae137229bcbd6cdf0f7b80a31df61766145077ddf49416a728b02cb3921ff3fc",
    ["windows-link"],
  ],
  ["zmij", "1.0.23", "29666d0abbfad1e3dc4dcf6144730dd3a3ab225bbbdac83319345b1b44ccfc1b", []],
];

/** Declared in `[workspace.dependencies]` (with the features shown) and inherited by members. */
const WS_REGISTRY_DEPS: Record<string, string> = {
  anyhow: '"1"',
  bytes: '"1"',
  itertools: '"0.14"',
  log: '"0.4"',
  once_cell: '"1"',
  regex: '{ version = "1", default-features = false, features = ["std", "unicode-perl"] }',
  serde: '{ version = "1", features = ["derive"] }',
  serde_json: '"1"',
  smallvec: '{ version = "1", features = ["union"] }',
  thiserror: '"2"',
  tokio: '{ version = "1", features = ["rt-multi-thread", "macros", "net", "time"] }',
  tracing: '"0.1"',
};
/** Also in `[workspace.dependencies]`: for proc-macro members and build scripts. */
const WS_OTHER_DEPS: Record<string, string> = {
  "proc-macro2": '"1"',
  quote: '"1"',
  syn: '{ version = "2", features = ["full"] }',
  cc: '"1"',
};
/** Written with a version in the member's own manifest. */
const DIRECT_REGISTRY_DEPS: Record<string, string> = { "cfg-if": "1", memchr: "2", libc: "0.2" };

// ---------------------------------------------------------------------------------------------
// The workspace model

interface Member {
  name: string;
  dir: string; // relative to the root: crates/<name>
  version: string;
  inheritsVersion: boolean;
  tier: "base" | "domain" | "service" | "app";
  procMacro: boolean;
  /** Local dependencies: name and how the manifest spells it. */
  localDeps: { name: string; style: "workspace" | "path" | "path+version"; kind: "normal" | "dev" }[];
  wsRegistry: string[];
  directRegistry: string[];
  devRegistry: string[];
  buildScript: boolean;
  mainBin: boolean;
  extraBins: boolean;
  tests: boolean;
  examples: boolean;
  benches: boolean;
  unixOnly: string[];
  features: boolean;
}

const WS_PATH_DEPS = 20; // the first members are also declared in [workspace.dependencies]

function tierOf(i: number, n: number): Member["tier"] {
  const f = i / n;
  return f < 0.1 ? "base" : f < 0.5 ? "domain" : f < 0.9 ? "service" : "app";
}

function planMembers(n: number): Member[] {
  const members: Member[] = [];
  for (let i = 0; i < n; i++) {
    const tier = tierOf(i, n);
    const name = `acme-${tier}-${String(i).padStart(3, "0")}`;
    const procMacro = tier === "base" && i % 7 === 3;
    const m: Member = {
      name,
      dir: `crates/${name}`,
      version: i % 9 === 4 ? `1.${i % 5}.${i % 3}` : WS_VERSION,
      inheritsVersion: i % 9 !== 4,
      tier,
      procMacro,
      localDeps: [],
      wsRegistry: [],
      directRegistry: [],
      devRegistry: [],
      buildScript: i % 10 === 5,
      mainBin: tier === "app" || (tier === "service" && i % 4 === 0),
      extraBins: tier === "service" && i % 6 === 1,
      tests: i % 3 === 0,
      examples: i % 13 === 2,
      benches: i % 11 === 7,
      unixOnly: [],
      features: i % 5 === 2,
    };
    // Local dependencies only on earlier, non-proc-macro members: no cycles.
    const candidates = members.filter((o) => !o.procMacro);
    const count = i === 0 ? 0 : 1 + Math.floor(random() * Math.min(4, candidates.length));
    const chosen = new Set<string>();
    for (let k = 0; k < count * 3 && chosen.size < count; k++) {
      const lower = tier === "base" ? candidates : candidates.slice(Math.max(0, candidates.length - 80));
      if (lower.length === 0) break;
      chosen.add(pick(lower).name);
    }
    const macros = members.filter((o) => o.procMacro);
    if (macros.length > 0 && tier !== "base" && i % 4 === 1) chosen.add(pick(macros).name);
    for (const dep of [...chosen].sort()) {
      const idx = members.findIndex((o) => o.name === dep);
      const style = idx < WS_PATH_DEPS ? "workspace" : i % 2 === 0 ? "path+version" : "path";
      m.localDeps.push({ name: dep, style, kind: "normal" });
    }
    if (m.tests && members.length > 0 && i % 6 === 0) {
      const testDep = members[Math.floor(random() * Math.min(WS_PATH_DEPS, members.length))]!;
      if (!chosen.has(testDep.name) && !testDep.procMacro) {
        m.localDeps.push({ name: testDep.name, style: "workspace", kind: "dev" });
      }
    }
    if (procMacro) m.wsRegistry.push("proc-macro2", "quote", "syn");
    const wsNames = Object.keys(WS_REGISTRY_DEPS);
    const registryCount = procMacro ? 0 : 1 + Math.floor(random() * 4);
    for (let k = 0; k < registryCount; k++) m.wsRegistry.push(pick(wsNames));
    m.wsRegistry = [...new Set(m.wsRegistry)].sort();
    if (i % 8 === 3) m.directRegistry.push(pick(Object.keys(DIRECT_REGISTRY_DEPS)));
    if (m.tests && i % 2 === 0) m.devRegistry.push("serde_json");
    if (i % 17 === 9) m.unixOnly.push("libc");
    members.push(m);
  }
  return members;
}

// ---------------------------------------------------------------------------------------------
// Writing files

function write(root: string, rel: string, contents: string): void {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, contents);
}

function rootManifest(members: Member[]): string {
  const wsPath = members
    .slice(0, WS_PATH_DEPS)
    .map((m) => `${m.name} = { path = "${m.dir}", version = "${m.version}" }`);
  const wsRegistry = Object.entries(WS_REGISTRY_DEPS).map(([k, v]) => `${k} = ${v}`);
  return `[workspace]
resolver = "2"
members = ["crates/*"]
exclude = ["crates/experimental"]
default-members = ["crates/${members.at(-1)!.name}"]

[workspace.package]
version = "${WS_VERSION}"
edition = "2021"
rust-version = "1.80"
license = "MIT OR Apache-2.0"
repository = "https://example.invalid/acme/platform"
authors = ["Acme Platform Team <platform@example.invalid>"]

[workspace.dependencies]
# local crates shared by everyone
${wsPath.join("\n")}

# third-party
${wsRegistry.join("\n")}
${Object.entries(WS_OTHER_DEPS)
  .map(([k, v]) => `${k} = ${v}`)
  .join("\n")}

[workspace.lints.rust]
unsafe_code = "forbid"
missing_docs = "warn"

[workspace.lints.clippy]
pedantic = { level = "warn", priority = -1 }
module_name_repetitions = "allow"

[profile.release]
lto = "thin"
codegen-units = 1
debug = "line-tables-only"

[profile.dev.package."*"]
opt-level = 1
`;
}

function memberManifest(m: Member, byName: Map<string, Member>): string {
  const lines: string[] = ["[package]", `name = "${m.name}"`];
  lines.push(m.inheritsVersion ? "version.workspace = true" : `version = "${m.version}"`);
  lines.push("edition.workspace = true", "rust-version.workspace = true", "license.workspace = true");
  lines.push(`description = "Acme ${m.tier} crate ${m.name}"`, "publish = false");
  if (m.buildScript) lines.push('build = "build.rs"');
  lines.push("");
  if (m.procMacro) lines.push("[lib]", "proc-macro = true", "");
  if (m.extraBins) {
    lines.push("[[bin]]", `name = "${m.name}-admin"`, 'path = "src/bin/admin.rs"', "");
    lines.push("[[bin]]", `name = "${m.name}-tool"`, "");
  }
  if (m.benches) lines.push("[[bench]]", 'name = "throughput"', "harness = false", "");
  if (m.examples) lines.push("[[example]]", 'name = "plugin"', 'crate-type = ["cdylib"]', "");

  const depLine = (d: Member["localDeps"][number]) => {
    const target = byName.get(d.name)!;
    if (d.style === "workspace") return `${d.name} = { workspace = true }`;
    if (d.style === "path") return `${d.name} = { path = "../${d.name}" }`;
    return `${d.name} = { path = "../${d.name}", version = "${target.version}" }`;
  };
  lines.push("[dependencies]");
  for (const d of m.localDeps.filter((d) => d.kind === "normal")) lines.push(depLine(d));
  for (const r of m.wsRegistry) lines.push(`${r}.workspace = true`);
  for (const r of m.directRegistry) lines.push(`${r} = "${DIRECT_REGISTRY_DEPS[r]}"`);
  lines.push("");
  const dev = m.localDeps.filter((d) => d.kind === "dev");
  if (dev.length > 0 || m.devRegistry.length > 0) {
    lines.push("[dev-dependencies]");
    for (const d of dev) lines.push(depLine(d));
    for (const r of m.devRegistry) lines.push(`${r} = { workspace = true }`);
    lines.push("");
  }
  if (m.buildScript) lines.push("[build-dependencies]", "cc.workspace = true", "");
  if (m.unixOnly.length > 0) {
    lines.push(`[target.'cfg(unix)'.dependencies]`);
    for (const r of m.unixOnly) lines.push(`${r} = "${DIRECT_REGISTRY_DEPS[r]}"`);
    lines.push("");
  }
  if (m.features) lines.push("[features]", "default = []", "tracing = []", 'full = ["tracing"]', "");
  lines.push("[lints]", "workspace = true", "");
  return lines.join("\n");
}

function writeMember(root: string, m: Member, byName: Map<string, Member>): void {
  write(root, `${m.dir}/Cargo.toml`, memberManifest(m, byName));
  write(root, `${m.dir}/README.md`, `# ${m.name}\n`);
  const body = "//! Generated for the galley prepare benchmark.\n\npub fn answer() -> u32 {\n    42\n}\n";
  write(root, `${m.dir}/src/lib.rs`, body);
  write(root, `${m.dir}/src/model.rs`, "pub struct Model;\n");
  if (m.mainBin) write(root, `${m.dir}/src/main.rs`, "fn main() {}\n");
  if (m.extraBins) {
    write(root, `${m.dir}/src/bin/admin.rs`, "fn main() {}\n");
    write(root, `${m.dir}/src/bin/${m.name}-tool/main.rs`, "fn main() {}\n");
  }
  if (m.tests) {
    write(root, `${m.dir}/tests/integration.rs`, "#[test]\nfn works() {}\n");
    write(root, `${m.dir}/tests/common/mod.rs`, "pub fn setup() {}\n");
  }
  if (m.examples) {
    write(root, `${m.dir}/examples/plugin.rs`, "pub fn plugin() {}\n");
    write(root, `${m.dir}/examples/demo.rs`, "fn main() {}\n");
  }
  if (m.benches) write(root, `${m.dir}/benches/throughput.rs`, "fn main() {}\n");
  if (m.buildScript) write(root, `${m.dir}/build.rs`, "fn main() {}\n");
}

/** The requirement a manifest of the workspace writes for a registry crate ("1", "0.14"). */
function requirementOf(name: string): string | undefined {
  const spec = WS_REGISTRY_DEPS[name] ?? WS_OTHER_DEPS[name] ?? `"${DIRECT_REGISTRY_DEPS[name]}"`;
  return /"(\d[^"]*)"/.exec(spec)?.[1];
}

/** Cargo.lock as cargo writes it, for when cargo cannot make one offline here. */
function handWrittenLock(members: Member[]): string {
  const byRef = new Map<string, RegistryEntry>();
  const byName = new Map<string, RegistryEntry[]>();
  for (const e of REGISTRY_ENTRIES) byName.set(e[0], [...(byName.get(e[0]) ?? []), e]);
  for (const e of REGISTRY_ENTRIES) byRef.set(byName.get(e[0])!.length > 1 ? `${e[0]} ${e[1]}` : e[0], e);
  /** How a dependent's entry names a registry crate: with the version when several are locked. */
  const lockRef = (name: string): string => {
    const entries = byName.get(name)!;
    if (entries.length === 1) return name;
    const req = requirementOf(name) ?? "";
    const major = (v: string) => (v.startsWith("0.") ? v.split(".").slice(0, 2).join(".") : v.split(".")[0]);
    const e = entries.find((x) => major(x[1]) === major(req)) ?? entries.at(-1)!;
    return `${name} ${e[1]}`;
  };
  const used = new Set<RegistryEntry>();
  const use = (ref: string) => {
    const e = byRef.get(ref)!;
    if (used.has(e)) return;
    used.add(e);
    for (const d of e[3]) use(d);
  };
  const blocks: { name: string; version: string; source?: string; checksum?: string; deps: string[] }[] = [];
  for (const m of members) {
    const registry = [
      ...m.wsRegistry,
      ...m.directRegistry,
      ...m.devRegistry,
      ...m.unixOnly,
      ...(m.buildScript ? ["cc"] : []),
    ].map(lockRef);
    for (const r of registry) use(r);
    const deps = new Set([...m.localDeps.map((d) => d.name), ...registry]);
    blocks.push({ name: m.name, version: m.version, deps: [...deps].sort() });
  }
  for (const [name, version, checksum, deps] of used) {
    blocks.push({ name, version, source: REGISTRY, checksum, deps });
  }
  const versionKey = (v: string) =>
    v
      .split(/[.+-]/)
      .map((x) => x.padStart(8, "0"))
      .join(".");
  blocks.sort((a, b) =>
    a.name !== b.name ? (a.name < b.name ? -1 : 1) : versionKey(a.version) < versionKey(b.version) ? -1 : 1,
  );
  const out = [
    "# This file is automatically @generated by Cargo.",
    "# It is not intended for manual editing.",
    "version = 3", // what cargo writes for rust-version 1.80
  ];
  for (const b of blocks) {
    out.push("", "[[package]]", `name = "${b.name}"`, `version = "${b.version}"`);
    if (b.source) out.push(`source = "${b.source}"`, `checksum = "${b.checksum}"`);
    if (b.deps.length > 0) out.push("dependencies = [", ...b.deps.map((d) => ` "${d}",`), "]");
  }
  return `${out.join("\n")}\n`;
}

/** Runs `cargo generate-lockfile --offline`; returns why it failed, or undefined when it worked. */
function generateLockfile(root: string): string | undefined {
  try {
    const cargo = Bun.spawnSync(["cargo", "generate-lockfile", "--offline"], {
      cwd: root,
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, CARGO_TERM_COLOR: "never" },
    });
    if (cargo.exitCode === 0 && existsSync(join(root, "Cargo.lock"))) return undefined;
    const stderr = cargo.stderr.toString().split("\n");
    return stderr.find((l) => l.startsWith("error")) ?? `exit code ${cargo.exitCode}`;
  } catch (err) {
    return `cannot run cargo (${(err as Error).message})`;
  }
}

function generateWorkspace(
  root: string,
  n: number,
): { members: number; lockFrom: string; lockPackages: number } {
  const members = planMembers(n);
  const byName = new Map(members.map((m) => [m.name, m]));
  write(root, "Cargo.toml", rootManifest(members));
  for (const m of members) writeMember(root, m, byName);
  // Excluded from the workspace although the glob matches it.
  write(
    root,
    "crates/experimental/Cargo.toml",
    '[package]\nname = "acme-experimental"\nversion = "0.0.0"\nedition = "2021"\n\n[workspace]\n',
  );
  write(root, "crates/experimental/src/lib.rs", "");
  write(
    root,
    ".cargo/config.toml",
    '[build]\nrustflags = ["-C", "force-frame-pointers=yes"]\n\n[net]\nretry = 3\n',
  );
  write(root, "README.md", "# acme platform (generated)\n");

  let lockFrom = "cargo generate-lockfile --offline";
  const failure = generateLockfile(root);
  if (failure !== undefined) {
    lockFrom = `written by the bench, as cargo would (cargo generate-lockfile --offline: ${failure.slice(0, 100)})`;
    writeFileSync(join(root, "Cargo.lock"), handWrittenLock(members));
  }
  // After the lockfile, so that cargo above ran with the machine's own toolchain.
  write(root, "rust-toolchain.toml", '[toolchain]\nchannel = "stable"\ncomponents = ["clippy", "rustfmt"]\n');
  const lockPackages = (readFileSync(join(root, "Cargo.lock"), "utf8").match(/^\[\[package\]\]$/gm) ?? [])
    .length;
  return { members: members.length, lockFrom, lockPackages };
}

// ---------------------------------------------------------------------------------------------
// Timing

interface Stats {
  min: number;
  median: number;
  max: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { min: s[0]!, median, max: s.at(-1)! };
}

function timeRuns(argv: string[], cwd: string, runs: number, check?: () => void): number[] {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const p = Bun.spawnSync(argv, {
      cwd,
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, NO_COLOR: "1" },
    });
    const elapsed = (performance.now() - start) / 1000;
    if (p.exitCode !== 0) {
      throw new Error(
        `${argv.join(" ")} exited ${p.exitCode}\n${p.stdout.toString()}${p.stderr.toString()}`.trimEnd(),
      );
    }
    check?.();
    samples.push(elapsed);
  }
  return samples;
}

const fmt = (s: number) => s.toFixed(3);

function main(): number {
  if (!existsSync(GALLEY)) {
    console.error(`bench: ${GALLEY} does not exist; run \`npm run build\` first (or pass --galley PATH)`);
    return 1;
  }
  const root = mkdtempSync(join(tmpdir(), "galley-bench-"));
  try {
    const genStart = performance.now();
    const ws = generateWorkspace(root, MEMBERS);
    const genSeconds = (performance.now() - genStart) / 1000;
    const recipePath = join(root, "recipe.json");
    const prepareArgv = [GALLEY, "prepare", "--quiet", "--recipe-path", recipePath];

    // Warm-up: page cache for the executable and the workspace; also the reference output.
    timeRuns(prepareArgv, root, 2);
    const reference = readFileSync(recipePath, "utf8");
    const recipe = JSON.parse(reference) as { files: { kind: string }[]; sources: unknown[] };
    const manifests = recipe.files.filter((f) => f.kind === "manifest").length;
    if (manifests !== ws.members + 1) {
      console.error(
        `bench: the recipe has ${manifests} manifests, expected ${ws.members + 1} (members + root)`,
      );
      return 1;
    }
    let differing = 0;
    const sameBytes = () => {
      if (readFileSync(recipePath, "utf8") !== reference) differing++;
    };

    const versionArgv = [GALLEY, "--version"];
    timeRuns(versionArgv, root, 2);
    const before = stats(timeRuns(versionArgv, root, RUNS));
    const prepare = stats(timeRuns(prepareArgv, root, RUNS, sameBytes));
    const after = stats(timeRuns(versionArgv, root, RUNS));

    const baseline = (before.median + after.median) / 2;
    const pass = prepare.median < TARGET_SECONDS;
    console.log(
      `workspace: ${ws.members} members (crates/*), ${recipe.sources.length} targets, ` +
        `${ws.lockPackages} Cargo.lock packages; generated in ${fmt(genSeconds)} s`,
    );
    console.log(`Cargo.lock: ${ws.lockFrom}`);
    console.log(`galley: ${GALLEY}; ${RUNS} runs each, after 2 warm-up runs; seconds, wall clock`);
    console.log("");
    const rows: [string, Stats][] = [
      ["galley --version (before)", before],
      ["galley prepare", prepare],
      ["galley --version (after)", after],
    ];
    const w = Math.max(...rows.map(([l]) => l.length));
    console.log(`${"command".padEnd(w)}  ${["min", "median", "max"].map((h) => h.padStart(7)).join("")}`);
    for (const [label, s] of rows) {
      console.log(`${label.padEnd(w)}  ${[s.min, s.median, s.max].map((v) => fmt(v).padStart(7)).join("")}`);
    }
    console.log("");
    console.log(
      `prepare median ${fmt(prepare.median)} s (start-up baseline ${fmt(baseline)} s, ` +
        `so ~${fmt(Math.max(0, prepare.median - baseline))} s of work); ` +
        `target < ${TARGET_SECONDS} s: ${pass ? "PASS" : "MISS"}`,
    );
    if (differing > 0) {
      console.error(
        `bench: ${differing} of ${RUNS} prepare runs wrote a different recipe: not deterministic`,
      );
      return 1;
    }
    console.log(`recipe: identical bytes in all ${RUNS + 2} runs (${reference.length} bytes)`);
    if (opts.keep) console.log(`kept the workspace at ${root}`);
    return 0;
  } finally {
    if (!opts.keep) rmSync(root, { recursive: true, force: true });
  }
}

process.exit(main());
