import { type CopyInst, type RunInst, rootBase, type StageInfo, stageChain } from "../../parse.ts";
import type { CargoCall } from "../cargo.ts";
import type { Facts } from "../facts.ts";
import { rustImage } from "../images.ts";
import type { Rule, RuleHit } from "../types.ts";

export const rule: Rule = {
  id: "GL108",
  name: "chef-stages-differ",
  severity: "warning",
  summary: "the planner and the builder run on different Rust images or in different WORKDIRs",
  why:
    "The recipe is a snapshot of the project as the planner saw it, cooked later in the builder. When " +
    "the two stages stand on different Rust images, cargo-chef's planner resolves the workspace with " +
    "another cargo than the one that cooks it (a newer manifest or lock-file format fails in an older " +
    "planner), and two images are pulled and cached instead of one. When they work in different " +
    "directories, whatever the recipe or the `COPY --from=planner` line holds as an absolute path " +
    "points at the wrong place.",
  fix:
    "Build both from one base stage (`FROM rust:1.90 AS chef`, then `FROM chef AS planner` and " +
    "`FROM chef AS builder`) and set WORKDIR once in it.",
  example: {
    bad:
      "FROM rust:1.89 AS planner\nWORKDIR /src\nCOPY . .\nRUN cargo chef prepare --recipe-path recipe.json\n\n" +
      "FROM rust:1.90 AS builder\nWORKDIR /app\nCOPY --from=planner /src/recipe.json recipe.json\n" +
      "RUN cargo chef cook --release --locked --recipe-path recipe.json",
    good:
      "FROM rust:1.90 AS chef\nWORKDIR /app\n\nFROM chef AS planner\nCOPY . .\nRUN cargo chef prepare --recipe-path recipe.json\n\n" +
      "FROM chef AS builder\nCOPY --from=planner /app/recipe.json recipe.json\n" +
      "RUN cargo chef cook --release --locked --recipe-path recipe.json",
  },
  check({ facts }) {
    const hits: RuleHit[] = [];
    const reportedImages = new Set<StageInfo>();
    for (const run of facts.runs()) {
      const cook = facts.calls(run).find((c) => c.action === "cook");
      if (!cook || !run.stage) continue;
      const planner = findPlanner(facts, run);
      if (!planner) continue;
      const builderChain = stageChain(run.stage);
      if (!builderChain.includes(planner.stage) && !reportedImages.has(run.stage)) {
        const b = rootBase(run.stage);
        const p = rootBase(planner.stage);
        const rb = rustImage(facts.baseImage(run.stage));
        const rp = rustImage(facts.baseImage(planner.stage));
        const known = rb && rp && !`${rb.toolchain}${rp.toolchain}`.includes("$");
        if (rb && rp && known && b.base !== p.base && rb.toolchain !== rp.toolchain) {
          reportedImages.add(run.stage);
          hits.push({
            inst: b.stage.from,
            span: b.stage.baseSpan,
            message: `the builder runs on ${b.base} but the planner (stage ${planner.stage.name ?? planner.stage.index}) on ${p.base}: build both FROM one stage`,
          });
        }
      }
      const preparedIn = facts.cwdOf(planner.run, planner.call);
      const cookedIn = facts.cwdOf(run, cook);
      if (preparedIn !== cookedIn) {
        hits.push({
          inst: run,
          span: cook.span,
          message: `${cook.label} runs in ${cookedIn} but the recipe was prepared in ${preparedIn} (line ${planner.call.span.start.line}): use one WORKDIR for planner and builder`,
        });
      }
    }
    return hits;
  },
};

/** The prepare step whose recipe a cook step uses: in its own stage chain, or a stage it copies from. */
function findPlanner(
  facts: Facts,
  run: RunInst,
): { run: RunInst; call: CargoCall; stage: StageInfo } | undefined {
  const chain = facts.chainInstructions(run.stage!);
  const before = chain.slice(0, chain.indexOf(run));
  const prepareIn = (insts: typeof chain) => {
    for (const i of insts) {
      if (i.keyword !== "RUN" || !("mounts" in i)) continue;
      const call = facts.calls(i as RunInst).find((c) => c.action === "prepare");
      if (call) return { run: i as RunInst, call, stage: i.stage! };
    }
    return undefined;
  };
  for (const i of [...before].reverse()) {
    if ((i.keyword === "COPY" || i.keyword === "ADD") && "sources" in i) {
      const source = facts.copySource(i as CopyInst);
      if (source) {
        const found = prepareIn(facts.chainInstructions(source));
        if (found) return found;
      }
    }
  }
  return prepareIn(before);
}
