import { declarations, type Inst, type Span } from "../../parse.ts";
import { compiles } from "../cargo.ts";
import type { Rule, RuleHit } from "../types.ts";

export const rule: Rule = {
  id: "GL109",
  name: "rustc-wrapper-cache",
  severity: "warning",
  summary:
    "RUSTC_WRAPPER (sccache, galley) without a cache mount for its directory, or with CARGO_INCREMENTAL=1",
  why:
    "A compiler cache only pays when its entries survive to the next build. In a Docker build its " +
    "directory (`$SCCACHE_DIR`, default `~/.cache/sccache`; `$GALLEY_DIR`, default `~/.cache/galley`) " +
    "is thrown away with the RUN's container unless a cache mount keeps it, so every build misses " +
    "and pays the wrapper's overhead for nothing. A wrapper with a remote store (`SCCACHE_BUCKET`, " +
    "`SCCACHE_REDIS`, `SCCACHE_GHA_ENABLED`, ...) needs no mount. And compiler caches cannot cache " +
    "incremental compilation: with `CARGO_INCREMENTAL=1` every workspace crate misses.",
  fix:
    "Add `--mount=type=cache,target=$SCCACHE_DIR` (or the galley directory) to every RUN that compiles, " +
    "after setting `ENV SCCACHE_DIR=/sccache`; remove `CARGO_INCREMENTAL=1` (release builds are not " +
    "incremental anyway).",
  example: {
    bad: "ENV RUSTC_WRAPPER=sccache SCCACHE_DIR=/sccache\nRUN cargo build --release --locked",
    good: "ENV RUSTC_WRAPPER=sccache SCCACHE_DIR=/sccache\nRUN --mount=type=cache,target=/sccache,sharing=locked \\\n    cargo build --release --locked",
  },
  check({ facts }) {
    const hits: RuleHit[] = [];
    const incrementalReported = new Set<Inst>();
    for (const run of facts.runs()) {
      let mountReported = false;
      for (const call of facts.calls(run).filter(compiles)) {
        const wrapper = facts.wrapper(run, call);
        if (!wrapper || wrapper.kind === "other") continue;
        if (!mountReported && !wrapper.remote && facts.mountsWith(run, "compiler-cache").length === 0) {
          mountReported = true;
          hits.push({
            inst: run,
            span: call.span,
            message: `${call.label} runs with RUSTC_WRAPPER=${wrapper.value} but no cache mount keeps ${wrapper.dirs[0]}: the compiler cache starts empty in every build`,
          });
        }
        const inline = call.command.assignments.find((a) => a.name === "CARGO_INCREMENTAL");
        const value = inline?.value ?? run.env.get("CARGO_INCREMENTAL");
        if (value !== "1" && value !== "true") continue;
        const where = inline ? undefined : facts.definition(run, "CARGO_INCREMENTAL");
        if (where && incrementalReported.has(where)) continue;
        if (where) incrementalReported.add(where);
        hits.push({
          inst: where ?? run,
          span: inline?.span ?? (where ? nameSpan(where, "CARGO_INCREMENTAL") : call.span),
          message: `CARGO_INCREMENTAL=${value} with RUSTC_WRAPPER=${wrapper.value}: incremental compilations are never cached`,
        });
      }
    }
    return hits;
  },
};

/** Where an ENV/ARG instruction names a variable. */
function nameSpan(inst: Inst, name: string): Span {
  return declarations(inst.node).find((d) => d.name === name)?.nameSpan ?? inst.span;
}
