import { hasFlag, resolveCall } from "../cargo.ts";
import type { Rule, RuleHit } from "../types.ts";

export const rule: Rule = {
  id: "GL105",
  name: "cargo-locked",
  severity: "warning",
  summary: "cargo build, cargo install or a cook step runs without --locked",
  why:
    "Without `--locked`, cargo is free to resolve dependencies again when Cargo.lock does not match " +
    "the manifests, so the image can be built from other versions than the ones you tested, and a " +
    "dependency layer can differ from the lock file it was cooked for. For `cargo install <tool>` it " +
    "is worse: without `--locked` cargo ignores the tool's own Cargo.lock and picks the newest " +
    "semver-compatible version of each of its dependencies, which breaks tool installs regularly.",
  fix:
    "Pass `--locked` (or `--frozen`) to `cargo build`, `cargo install`, `cargo chef cook` and `galley " +
    "cook`, and keep Cargo.lock in the repository and in the build context.",
  example: {
    bad: "RUN cargo build --release",
    good: "RUN cargo build --release --locked",
  },
  check({ facts, context }) {
    // A package without Cargo.lock (a library) cannot build --locked.
    const noLock =
      context !== undefined &&
      context.read("Cargo.toml") !== undefined &&
      context.read("Cargo.lock") === undefined;
    const hits: RuleHit[] = [];
    for (const run of facts.runs()) {
      for (const raw of facts.calls(run)) {
        if (raw.action !== "build" && raw.action !== "install" && raw.action !== "cook") continue;
        const call = resolveCall(raw, run.env);
        if (!call || hasFlag(call, "--locked", "--frozen")) continue;
        const tool = call.action === "install" && !hasFlag(call, "--path");
        if (noLock && !tool) continue;
        hits.push({
          inst: run,
          span: call.span,
          message: tool
            ? `${call.label} without --locked: the tool is built with the newest versions of its dependencies, not those of its Cargo.lock`
            : `${call.label} without --locked: cargo may resolve other versions than Cargo.lock pins`,
        });
      }
    }
    return hits;
  },
};
