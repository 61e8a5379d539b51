import { expand, type StageInfo } from "../../parse.ts";
import { parseImageRef, rustImage } from "../images.ts";
import type { Rule, RuleHit } from "../types.ts";

export const rule: Rule = {
  id: "GL202",
  name: "unpinned-base-image",
  severity: "warning",
  summary: "a base image has no tag, the tag latest, or (for Rust images) a tag without a Rust version",
  why:
    "`FROM debian` means `debian:latest`: whatever the registry serves on the day of the build. " +
    "The same Dockerfile then builds on a new distribution release or a new compiler without any " +
    "change of yours, and builders with a warm cache disagree with fresh ones. For the rust image, a " +
    "tag such as `slim` or `bookworm` names a distribution but no Rust version, so the toolchain moves " +
    "with every Rust release. A version tag (`rust:1.90`, `debian:trixie-slim`, `ubuntu:24.04`) is " +
    "pinned enough: it follows only that release's patch updates. A digest pins exactly.",
  fix:
    "Name a version (`rust:1.90-slim-trixie`, `debian:trixie-slim`), optionally with its digest " +
    "(`debian:trixie-slim@sha256:...`) and a tool such as Renovate or Dependabot to move it on purpose.",
  example: {
    bad: "FROM rust AS build\n\nFROM debian:latest",
    good: "FROM rust:1.90 AS build\n\nFROM debian:trixie-slim",
  },
  check({ file }) {
    const hits: RuleHit[] = [];
    for (const stage of file.stages) {
      const message = problem(stage);
      if (message) hits.push({ inst: stage.from, span: stage.baseSpan, message });
    }
    return hits;
  },
};

function problem(stage: StageInfo): string | undefined {
  if (stage.parent) return undefined;
  const expanded = expand(stage.rawBase, stage.from.env);
  if (expanded.unknown.length > 0 || stage.base === "" || stage.base.toLowerCase() === "scratch")
    return undefined;
  const ref = parseImageRef(stage.base);
  if (ref.digest) return undefined;
  if (!ref.tag) return `${stage.base} has no tag, so it is ${stage.base}:latest: name a version`;
  if (ref.tag === "latest") return `${stage.base} is not pinned: name a version instead of latest`;
  const rust = rustImage(ref);
  if (rust && !rust.versioned && ref.name === "rust")
    return `${stage.base} names no Rust version: the toolchain changes with every Rust release; name one (rust:1.90-${ref.tag})`;
  return undefined;
}
