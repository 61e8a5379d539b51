import type { CopyInst, RunInst } from "../../parse.ts";
import { buildsProject, type CargoCall } from "../cargo.ts";
import { copyKind, type Facts } from "../facts.ts";
import type { Rule, RuleHit } from "../types.ts";

export const rule: Rule = {
  id: "GL101",
  name: "cargo-cache-mounts",
  severity: "warning",
  summary:
    "cargo builds without cache mounts for the registry and the target directory (or a compiler cache)",
  why:
    "Without a cache mount, every build that reruns this step downloads every crate again and " +
    "compiles every dependency from nothing: the layer cache only helps while nothing above the step " +
    "changed. A BuildKit cache mount keeps the cargo registry (and git checkouts) and the compiled " +
    "outputs across builds on the same builder. A step that follows a dependency layer (`cargo chef " +
    "cook`, `galley cook`) needs no target mount: the dependencies are in the layer. Installing a tool " +
    "(`cargo install ripgrep`) is not checked: its layer is cached by its own text.",
  fix:
    "Add `--mount=type=cache,target=/usr/local/cargo/registry,sharing=locked` (and `.../git` when " +
    "Cargo.lock has git dependencies) and either `--mount=type=cache,target=/app/target` or a cache " +
    "mount for the compiler cache's directory (`$SCCACHE_DIR`, `$GALLEY_DIR`) to the RUN.",
  example: {
    bad: "FROM rust:1.90\nWORKDIR /app\nCOPY . .\nRUN cargo build --release --locked",
    good:
      "FROM rust:1.90\nWORKDIR /app\nCOPY . .\nRUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \\\n" +
      "    --mount=type=cache,target=/app/target \\\n    cargo build --release --locked && cp target/release/app /usr/local/bin/",
  },
  check({ facts, context }) {
    const hits: RuleHit[] = [];
    const lock = context?.read("Cargo.lock");
    const gitDeps = lock !== undefined && /source = "git\+/.test(lock);
    // RUNs that leave compiled dependencies in their layer (a cook step, or an earlier build such as
    // the dummy-main trick), and whether they kept the registry in a cache mount.
    const layers = new Map<RunInst, boolean>();
    for (const run of facts.runs()) {
      const calls = facts.calls(run);
      const call = calls.find(buildsProject);
      if (!call || !run.stage) continue;
      const earlier = facts
        .chainInstructions(run.stage)
        .filter((i): i is RunInst => layers.has(i as RunInst) && i !== run);
      if (facts.mountsWith(run, "target").length === 0)
        layers.set(run, facts.mountsWith(run, "registry").length > 0);
      const cooked = earlier.length > 0;
      const home = facts.mountsWith(run, "cargo-home").length > 0;
      const missing: string[] = [];
      let outputMissing = false;
      // After a dependency layer that had no registry mount, the crates are in the layer already.
      const needsRegistry = !cooked || earlier.some((r) => layers.get(r));
      if (needsRegistry && !home && facts.mountsWith(run, "registry").length === 0)
        missing.push("the cargo registry");
      if (needsRegistry && gitDeps && !home && facts.mountsWith(run, "git").length === 0)
        missing.push("cargo's git checkouts (Cargo.lock has git dependencies)");
      if (!dependencyBuild(facts, run, call) && !cooked) {
        const wrapper = facts.wrapper(run, call);
        const outputs =
          facts.mountsWith(run, "target").length > 0 ||
          facts.mountsWith(run, "compiler-cache").length > 0 ||
          wrapper?.remote === true;
        if (!outputs) {
          missing.push("the target directory (or a compiler cache)");
          outputMissing = true;
        }
      }
      if (missing.length === 0) continue;
      hits.push({
        inst: run,
        span: call.span,
        message: `${call.label} runs without a cache mount for ${joinAnd(missing)}: each rebuild of this step ${outputMissing ? (missing.length > 1 ? "downloads and compiles everything" : "compiles everything") : "downloads every crate"} again`,
      });
    }
    return hits;
  },
};

/**
 * A step that builds only the dependencies: a cook step, or a build before any source is copied in
 * (the dummy-main trick). Its layer is the cache; it needs the registry, not the target directory.
 */
function dependencyBuild(facts: Facts, run: RunInst, call: CargoCall): boolean {
  if (call.action === "cook") return true;
  const chain = facts.chainInstructions(run.stage!);
  const before = chain.slice(0, chain.indexOf(run));
  const sources = before.some(
    (i) =>
      (i.keyword === "COPY" || i.keyword === "ADD") &&
      "sources" in i &&
      copyKind(i as CopyInst) === "sources",
  );
  const bound = run.mounts.some(
    (m) => m.type === "bind" && m.from === undefined && !/(^|\/)(Cargo\.(toml|lock))$/.test(m.source ?? "."),
  );
  return !sources && !bound;
}

export function joinAnd(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}
