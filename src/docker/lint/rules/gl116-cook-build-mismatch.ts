import type { RunInst } from "../../parse.ts";
import { type CargoCall, flagValues, hasFlag, installsProject, resolveCall } from "../cargo.ts";
import type { Rule, RuleHit } from "../types.ts";

export const rule: Rule = {
  id: "GL116",
  name: "cook-build-mismatch",
  severity: "warning",
  summary: "the build after a cook step uses another profile, target, feature set or target directory",
  why:
    "A cook step (`galley cook`, `cargo chef cook`) compiles the dependencies so that the real build " +
    "finds them done. cargo reuses a compiled dependency only for the same profile, target triple and " +
    "features, in the same target directory: cook with `--release` and build without it (or with " +
    "another `--target` or `--features`) and the build compiles every dependency again while the " +
    "cooked layer sits unused.",
  fix: "Give the cook step the same `--release`/`--profile`, `--target`, `--features` and `--target-dir` as the build.",
  example: {
    bad: "RUN galley cook --locked --recipe-path recipe.json\nCOPY . .\nRUN cargo build --release --locked",
    good: "RUN galley cook --release --locked --recipe-path recipe.json\nCOPY . .\nRUN cargo build --release --locked",
  },
  check({ facts }) {
    const hits: RuleHit[] = [];
    for (const stage of facts.file.stages) {
      let cook: { run: RunInst; call: CargoCall } | undefined;
      for (const inst of stage.instructions) {
        if (inst.keyword !== "RUN" || !("mounts" in inst)) continue;
        const run = inst as RunInst;
        for (const raw of facts.calls(run)) {
          if (raw.action === "cook") {
            const call = resolveCall(raw, run.env);
            cook = call ? { run, call } : undefined;
            continue;
          }
          if (!cook || !(raw.action === "build" || installsProject(raw))) continue;
          const build = resolveCall(raw, run.env);
          const c = cook;
          cook = undefined;
          if (!build) continue;
          const diffs: string[] = [];
          const pc = profile(c.call);
          const pb = profile(build);
          if (pc !== pb) diffs.push(`profile ${pb} (cooked: ${pc})`);
          const tc = flagValues(c.call, "--target").sort().join(",");
          const tb = flagValues(build, "--target").sort().join(",");
          if (tc !== tb) diffs.push(`target ${tb || "host"} (cooked: ${tc || "host"})`);
          const fc = features(c.call);
          const fb = features(build);
          if (fc !== fb) diffs.push(`features ${fb || "default"} (cooked: ${fc || "default"})`);
          const dc = facts.targetDirs(c.run, c.call)[0];
          const db = facts.targetDirs(run, build)[0];
          if (dc !== db) diffs.push(`target directory ${db} (cooked: ${dc})`);
          if (diffs.length === 0) continue;
          hits.push({
            inst: run,
            span: build.span,
            message: `${build.label} differs from ${c.call.label} (line ${c.call.span.start.line}) in ${diffs.join(", ")}: the cooked dependencies are not reused`,
          });
        }
      }
    }
    return hits;
  },
};

function profile(call: CargoCall): string {
  const named = flagValues(call, "--profile")[0];
  if (named) return named === "dev" ? "dev" : named;
  if (hasFlag(call, "--release", "-r")) return "release";
  if (installsProject(call)) return hasFlag(call, "--debug") ? "dev" : "release";
  return "dev";
}

function features(call: CargoCall): string {
  const list = flagValues(call, "--features", "-F")
    .flatMap((f) => f.split(/[\s,]+/))
    .filter((f) => f !== "")
    .sort();
  const flags = [
    hasFlag(call, "--all-features") ? "all" : "",
    hasFlag(call, "--no-default-features") ? "no-default" : "",
  ];
  return [...flags.filter((f) => f !== ""), ...list].join(",");
}
