import type { CopyInst } from "../../parse.ts";
import { copyKind, isToolCopy } from "../facts.ts";
import type { Rule, RuleHit } from "../types.ts";

export const rule: Rule = {
  id: "GL107",
  name: "planner-sees-manifests-only",
  severity: "warning",
  summary: "the recipe is prepared from the manifests alone (the planner never sees the sources)",
  why:
    "The planner step turns the project into a recipe: every package's manifest with its targets " +
    "(binaries, libraries, examples, benches). With only `Cargo.toml` and `Cargo.lock` copied in, it " +
    "cannot see which targets exist: `cargo chef prepare` fails (cargo metadata finds no target), and " +
    "`galley prepare` works but has to guess (a package without sources is taken to be a binary at " +
    "`src/main.rs`), so the cooked layer may build a different shape than the real build.",
  fix:
    "Prepare the recipe in a planner stage of its own that copies the whole project (`COPY . .`), and " +
    "copy only the recipe from it into the builder (`COPY --from=planner /app/recipe.json .`). The " +
    "recipe changes only when the manifests or the set of targets do, so the builder's cook layer stays " +
    "cached across source edits. (Copying everything into a stage that also cooks would defeat the " +
    "dependency layer: GL106.)",
  example: {
    bad: "FROM rust:1.90 AS planner\nWORKDIR /app\nCOPY Cargo.toml Cargo.lock ./\nRUN cargo chef prepare --recipe-path recipe.json",
    good: "FROM rust:1.90 AS planner\nWORKDIR /app\nCOPY . .\nRUN cargo chef prepare --recipe-path recipe.json",
  },
  check({ facts }) {
    const hits: RuleHit[] = [];
    for (const run of facts.runs()) {
      if (!run.stage) continue;
      const call = facts.calls(run).find((c) => c.action === "prepare");
      if (!call) continue;
      if (
        run.mounts.some(
          (m) => m.type === "bind" && m.from === undefined && (m.source ?? ".").match(/^\.?\/?$/),
        )
      )
        continue;
      const before = facts.chainInstructions(run.stage);
      const copies = before
        .slice(0, before.indexOf(run))
        .filter((i): i is CopyInst => (i.keyword === "COPY" || i.keyword === "ADD") && "sources" in i)
        // What the planner can see: the context's files, and whatever another stage or image brings
        // (unknown, so taken to be sources), but not programs copied into a bin directory.
        .filter((c) => copyKind(c) !== "none" || (c.from !== undefined && !isToolCopy(c)));
      if (copies.length === 0 || copies.some((c) => c.from !== undefined || copyKind(c) === "sources"))
        continue;
      const names = copies.flatMap((c) => c.sources.map((s) => s.value)).join(", ");
      const tail =
        call.label.startsWith("galley") || call.label.startsWith("cargo galley")
          ? "galley has to guess each package's targets"
          : "cargo-chef fails here; galley has to guess each package's targets";
      hits.push({
        inst: run,
        span: call.span,
        message: `${call.label} sees only ${names}: ${tail}`,
      });
    }
    return hits;
  },
};
