import { stageChain } from "../../parse.ts";
import { buildsProject, flagValues } from "../cargo.ts";
import type { Rule, RuleHit } from "../types.ts";

const PER_PLATFORM = /TARGETPLATFORM|TARGETARCH|TARGETOS|TARGETVARIANT/;

export const rule: Rule = {
  id: "GL104",
  name: "target-mount-per-platform",
  severity: "warning",
  summary: "a target-directory cache mount has no per-platform id in a multi-platform build",
  why:
    "BuildKit builds the platforms of a multi-platform build side by side, and a cache mount is shared " +
    "by id (the target path when `id` is not given). The platforms then take turns in one target " +
    "directory: each build finds the other architecture's outputs, recompiles everything, and a binary " +
    "copied out of the mount may be the other platform's.",
  fix:
    "Give the mount an id per platform: `--mount=type=cache,target=/app/target,id=target-$TARGETPLATFORM` " +
    "(with `ARG TARGETPLATFORM` in the stage). Cross-compiling stages (`FROM --platform=$BUILDPLATFORM` " +
    "and `cargo build --target ...`) keep each target's outputs apart already and are not reported.",
  example: {
    bad:
      "FROM rust:1.90 AS build\nARG TARGETPLATFORM\nWORKDIR /app\nCOPY . .\n" +
      "RUN --mount=type=cache,target=/app/target cargo build --release --locked && cp target/release/app /app/app",
    good:
      "FROM rust:1.90 AS build\nARG TARGETPLATFORM\nWORKDIR /app\nCOPY . .\n" +
      "RUN --mount=type=cache,target=/app/target,id=target-$TARGETPLATFORM \\\n    cargo build --release --locked && cp target/release/app /app/app",
  },
  check({ facts }) {
    if (!facts.multiPlatform()) return [];
    const hits: RuleHit[] = [];
    for (const run of facts.runs()) {
      if (!run.stage) continue;
      for (const m of run.mounts) {
        if (m.type !== "cache" || !facts.mountRoles(m, run).has("target")) continue;
        const written = `${m.rawId ?? m.rawTarget ?? ""} ${m.id ?? m.target ?? ""}`;
        if (PER_PLATFORM.test(written)) continue;
        const builds = facts.calls(run).filter(buildsProject);
        const crossStage = stageChain(run.stage).some((s) => /BUILDPLATFORM/.test(s.platform ?? ""));
        const crossBuild =
          builds.length > 0 &&
          builds.every(
            (c) =>
              flagValues(c, "--target").length > 0 ||
              c.command.assignments.some((a) => a.name === "CARGO_BUILD_TARGET") ||
              run.env.has("CARGO_BUILD_TARGET"),
          );
        if (crossStage && crossBuild) continue;
        hits.push({
          inst: run,
          span: m.span,
          message: `cache mount of ${m.target} is shared by every platform of this multi-platform build: add id=...-$TARGETPLATFORM`,
        });
      }
    }
    return hits;
  },
};
