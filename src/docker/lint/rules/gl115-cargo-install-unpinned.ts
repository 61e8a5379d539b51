import { flagValues, hasFlag, positionals, resolveCall } from "../cargo.ts";
import type { Rule, RuleHit } from "../types.ts";

export const rule: Rule = {
  id: "GL115",
  name: "cargo-install-unpinned",
  severity: "info",
  summary: "cargo install of a tool without a version",
  why:
    "`cargo install cargo-chef` installs whatever release is newest when the layer is built. Docker " +
    "caches the layer by the text of the line, so builders with a warm cache keep an old release while " +
    "a fresh CI runner gets a new one: the same Dockerfile builds different tools, and a breaking " +
    "release breaks builds that did not change.",
  fix:
    "Name the version: `cargo install cargo-chef@0.1.72 --locked` (or `--version`), or `--git` with " +
    "`--rev`/`--tag`. galley itself is one binary that also answers to the names cargo-chef and " +
    "sccache, so `COPY --from` of a pinned galley image can replace both installs.",
  example: {
    bad: "RUN cargo install cargo-chef --locked",
    good: "RUN cargo install cargo-chef@0.1.72 --locked",
  },
  check({ facts }) {
    const hits: RuleHit[] = [];
    for (const run of facts.runs()) {
      for (const raw of facts.calls(run)) {
        if (raw.action !== "install") continue;
        const call = resolveCall(raw, run.env);
        if (!call || hasFlag(call, "--path") || hasFlag(call, "--version", "--vers")) continue;
        let unpinned: string[];
        if (hasFlag(call, "--git")) {
          unpinned = hasFlag(call, "--rev", "--tag") ? [] : flagValues(call, "--git");
        } else {
          unpinned = positionals(call)
            .map((w) => w.value)
            .filter((name) => !name.includes("@"));
        }
        if (unpinned.length === 0) continue;
        hits.push({
          inst: run,
          span: call.span,
          message: `${call.label} ${unpinned.join(" ")} names no version: each rebuild of this layer may install a different release`,
        });
      }
    }
    return hits;
  },
};
