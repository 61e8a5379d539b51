/** cook's flags (cargo's names and meanings) and how they become one cargo command line. */
import type { OptionTable, Parsed } from "../cli/args.ts";
import { UsageError } from "../errors.ts";

export const COOK_OPTIONS = {
  "recipe-path": { kind: "string", value: "PATH", description: "Recipe to cook (default: recipe.json)" },
  release: { kind: "boolean", short: "r", description: "Build with the release profile" },
  profile: { kind: "string", value: "NAME", description: "Build with the given profile" },
  target: { kind: "list", value: "TRIPLE", description: "Build for the target triple or .json spec" },
  "target-dir": { kind: "string", value: "DIR", description: "Directory for all generated artifacts" },
  features: {
    kind: "list",
    short: "F",
    value: "FEATURES",
    description: "Features to activate (comma or space separated)",
  },
  "all-features": { kind: "boolean", description: "Activate all available features" },
  "no-default-features": { kind: "boolean", description: "Do not activate the default feature" },
  package: { kind: "list", short: "p", value: "SPEC", description: "Package to build" },
  workspace: { kind: "boolean", description: "Build all workspace members" },
  exclude: { kind: "list", value: "SPEC", description: "Exclude packages from the build (with --workspace)" },
  bin: { kind: "list", value: "NAME", description: "Build only the dependencies of this binary" },
  bins: { kind: "boolean", description: "Build the dependencies of all binaries" },
  lib: { kind: "boolean", description: "Build the dependencies of the library only" },
  example: { kind: "list", value: "NAME", description: "Build the dependencies of this example" },
  examples: { kind: "boolean", description: "Build the dependencies of all examples" },
  test: { kind: "list", value: "NAME", description: "Build the dependencies of this test" },
  tests: { kind: "boolean", description: "Build the dependencies of all tests" },
  benches: { kind: "boolean", description: "Build the dependencies of all benches" },
  "all-targets": { kind: "boolean", description: "Build the dependencies of all targets" },
  locked: { kind: "boolean", description: "Require Cargo.lock to be up to date" },
  frozen: { kind: "boolean", description: "Require Cargo.lock and cache up to date, no network" },
  offline: { kind: "boolean", description: "Run without accessing the network" },
  jobs: { kind: "string", short: "j", value: "N", description: "Number of parallel jobs" },
  verbose: { kind: "count", short: "v", description: "Use verbose output (-vv very verbose)" },
  timings: { kind: "boolean", description: "Write a report of compile times" },
  unstable: {
    kind: "list",
    short: "Z",
    value: "FLAG",
    description: "Unstable (nightly-only) flags to cargo",
  },
  "manifest-path": {
    kind: "string",
    value: "PATH",
    description: "Cargo.toml of the skeleton root (default: ./Cargo.toml)",
  },
  check: { kind: "boolean", description: "Run cargo check instead of cargo build" },
  clippy: { kind: "boolean", description: "Run cargo clippy instead of cargo build" },
  zigbuild: { kind: "boolean", description: "Run cargo zigbuild instead of cargo build" },
  "no-build": { kind: "boolean", description: "Only write the skeleton; do not run cargo" },
  "no-std": { kind: "boolean", description: "Write #![no_std] dummy sources" },
  force: { kind: "boolean", description: "Overwrite Rust sources that differ from the dummies" },
} as const satisfies OptionTable;

export type CookOptions = Parsed<typeof COOK_OPTIONS>["options"];

/** cargo's subcommand and arguments (without --manifest-path and --message-format). */
export function cargoCommand(
  o: CookOptions,
  passthrough: readonly string[],
): { subcommand: string; args: string[] } {
  const tools = (["check", "clippy", "zigbuild"] as const).filter((t) => o[t]);
  if (tools.length > 1) throw new UsageError(`--${tools.join(" and --")} cannot be used together`);
  if (o.release && o.profile !== undefined && o.profile !== "release") {
    throw new UsageError(`--release and --profile ${o.profile} conflict`, "pass one of them");
  }
  if (o.exclude.length > 0 && !o.workspace)
    throw new UsageError("--exclude can only be used with --workspace");
  if (o.workspace && o.package.length > 0) throw new UsageError("--workspace and --package conflict");
  if (passthrough.some((a) => a.startsWith("--message-format"))) {
    throw new UsageError("cook sets --message-format itself", "drop it from the arguments after --");
  }

  const args: string[] = [];
  const flag = (on: boolean, name: string) => on && args.push(name);
  const each = (values: string[], name: string) => {
    for (const v of values) args.push(name, v);
  };
  // cargo rejects --release with any --profile, even `release`: pass that one once.
  flag(o.release && o.profile === undefined, "--release");
  if (o.profile !== undefined) args.push("--profile", o.profile);
  each(o.target, "--target");
  if (o["target-dir"] !== undefined) args.push("--target-dir", o["target-dir"]);
  const features = o.features.flatMap((f) => f.split(/[\s,]+/)).filter(Boolean);
  if (features.length > 0) args.push("--features", features.join(","));
  flag(o["all-features"], "--all-features");
  flag(o["no-default-features"], "--no-default-features");
  each(o.package, "--package");
  flag(o.workspace, "--workspace");
  each(o.exclude, "--exclude");
  each(o.bin, "--bin");
  flag(o.bins, "--bins");
  flag(o.lib, "--lib");
  each(o.example, "--example");
  flag(o.examples, "--examples");
  each(o.test, "--test");
  flag(o.tests, "--tests");
  flag(o.benches, "--benches");
  flag(o["all-targets"], "--all-targets");
  flag(o.locked, "--locked");
  flag(o.frozen, "--frozen");
  flag(o.offline, "--offline");
  if (o.jobs !== undefined) {
    if (!/^-?\d+$/.test(o.jobs) || o.jobs === "0")
      throw new UsageError(`-j ${o.jobs}: expected a non-zero number of jobs`);
    args.push("--jobs", o.jobs);
  }
  if (o.verbose > 0) args.push(`-${"v".repeat(o.verbose)}`);
  flag(o.timings, "--timings");
  each(o.unstable, "-Z");
  args.push(...passthrough);
  return { subcommand: tools[0] === undefined ? "build" : tools[0], args };
}
