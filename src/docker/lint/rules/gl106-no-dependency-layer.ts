import type { CopyInst, RunInst, StageInfo } from "../../parse.ts";
import { buildsProject } from "../cargo.ts";
import { copyKind } from "../facts.ts";
import type { Rule, RuleHit } from "../types.ts";

interface State {
  /** The first COPY that brought sources in, before any dependency build. */
  sourceCopy: CopyInst | undefined;
  depLayer: boolean;
  done: boolean;
}

export const rule: Rule = {
  id: "GL106",
  name: "no-dependency-layer",
  severity: "warning",
  summary: "the sources are copied in before the first cargo build, with no dependency layer",
  why:
    "Docker reuses a layer only while everything before it is unchanged. When `COPY . .` comes before " +
    "the first `cargo build`, any edit to any source file invalidates the build step, and every " +
    "dependency is compiled again: minutes for a typical service. A dependency layer builds only the " +
    "dependencies, from the manifests and lock file, before the sources are copied. A build whose " +
    "target directory or compiler cache (sccache, galley) is kept in a cache mount is not reported: its " +
    "dependencies survive there, on the builder that has the mount.",
  fix:
    "Add a planner stage and a cook step: `galley prepare` (or `cargo chef prepare`) in a stage that " +
    "copies the project, then `COPY --from=planner /app/recipe.json .` and `galley cook --release " +
    "--locked` (or `cargo chef cook`) before `COPY . .` in the builder. `galley dockerfile` writes this.",
  example: {
    bad: "FROM rust:1.90\nWORKDIR /app\nCOPY . .\nRUN cargo build --release --locked",
    good:
      "FROM rust:1.90 AS planner\nWORKDIR /app\nCOPY . .\nRUN galley prepare --recipe-path recipe.json\n\n" +
      "FROM rust:1.90 AS builder\nWORKDIR /app\nCOPY --from=planner /app/recipe.json recipe.json\n" +
      "RUN galley cook --release --locked --recipe-path recipe.json\nCOPY . .\nRUN cargo build --release --locked",
  },
  check({ facts, file }) {
    const hits: RuleHit[] = [];
    const end = new Map<StageInfo, State>();
    for (const stage of file.stages) {
      const inherited = stage.parent ? end.get(stage.parent) : undefined;
      const state: State = inherited
        ? { ...inherited }
        : { sourceCopy: undefined, depLayer: false, done: false };
      for (const inst of stage.instructions) {
        if ((inst.keyword === "COPY" || inst.keyword === "ADD") && "sources" in inst) {
          if (!state.depLayer && !state.sourceCopy && copyKind(inst as CopyInst) === "sources")
            state.sourceCopy = inst as CopyInst;
          continue;
        }
        if (inst.keyword !== "RUN" || state.done || state.depLayer) continue;
        const run = inst as RunInst;
        const calls = facts.calls(run);
        if (!state.sourceCopy) {
          if (
            calls.some(
              (c) =>
                c.action === "cook" || c.action === "fetch" || buildsProject(c) || c.action === "compile",
            )
          )
            state.depLayer = true;
          continue;
        }
        const build = calls.find((c) => buildsProject(c) || c.action === "compile");
        if (!build) continue;
        state.done = true;
        const cached =
          facts.mountsWith(run, "target").length > 0 ||
          facts.mountsWith(run, "compiler-cache").length > 0 ||
          facts.wrapper(run, build)?.remote === true;
        if (cached) continue;
        hits.push({
          inst: state.sourceCopy,
          span: state.sourceCopy.span,
          message: `the sources are copied before the first ${build.label} (line ${run.span.start.line}) and no dependency layer comes first: any source edit recompiles every dependency`,
        });
      }
      end.set(stage, state);
    }
    return hits;
  },
};
