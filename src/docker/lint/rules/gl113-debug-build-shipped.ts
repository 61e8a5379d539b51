import { expand, stageChain } from "../../parse.ts";
import type { Rule, RuleHit } from "../types.ts";

export const rule: Rule = {
  id: "GL113",
  name: "debug-build-shipped",
  severity: "warning",
  summary: "the image ships a debug build (COPY --from of target/debug/...)",
  why:
    "`target/debug` holds cargo's dev profile: no optimisation, overflow checks and debug assertions " +
    "on, full debug info. Such a binary is often ten times slower and several times larger than the " +
    "release build, which is rarely what a production image should run.",
  fix:
    "Build with `cargo build --release --locked` (or `--profile <name>`) and copy from " +
    "`target/release/` (or `target/<profile>/`).",
  example: {
    bad: "COPY --from=build /app/target/debug/app /usr/local/bin/app",
    good: "COPY --from=build /app/target/release/app /usr/local/bin/app",
  },
  check({ facts }) {
    const hits: RuleHit[] = [];
    const shipped = new Set(stageChain(facts.finalStage()));
    for (const copy of facts.copies()) {
      if (!copy.stage || !shipped.has(copy.stage) || !facts.copySource(copy)) continue;
      for (const word of copy.sources) {
        const path = expand(word.value, copy.env).value;
        if (!/(^|\/)target\/([^/]+\/)?debug\//.test(path)) continue;
        hits.push({
          inst: copy,
          span: word.span,
          message: `${path} is a debug build: build with --release and copy from target/release/`,
        });
      }
    }
    return hits;
  },
};
