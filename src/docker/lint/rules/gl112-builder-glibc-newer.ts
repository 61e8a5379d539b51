import { compareGlibc, fullName } from "../images.ts";
import { binaryCopies } from "../libc.ts";
import type { Rule, RuleHit } from "../types.ts";

export const rule: Rule = {
  id: "GL112",
  name: "builder-glibc-newer",
  severity: "warning",
  summary: "the builder's glibc is newer than the runtime's",
  why:
    "A binary linked against a newer glibc may need symbol versions the runtime's older glibc does " +
    "not have, and then fails at start with `version 'GLIBC_2.xx' not found`. Whether it does depends " +
    "on which C functions the program and its C dependencies call, so it can work today and break " +
    "after a dependency update. The rust image's default tags follow Debian's newest release (trixie, " +
    "glibc 2.41, since Rust 1.90), which is newer than most runtimes people pair it with. (A runtime " +
    "older than glibc 2.34 cannot run it at all: GL111.)",
  fix:
    "Pin the builder to the runtime's release (`rust:1.90-bookworm` with `debian:bookworm-slim`), or " +
    "use a runtime at least as new as the builder (`debian:trixie-slim` for `rust:1.90`).",
  example: {
    bad:
      "FROM rust:1.90 AS build\nWORKDIR /app\nCOPY . .\nRUN cargo build --release --locked\n\n" +
      "FROM ubuntu:24.04\nCOPY --from=build /app/target/release/app /usr/local/bin/app",
    good:
      "FROM rust:1.90-bookworm AS build\nWORKDIR /app\nCOPY . .\nRUN cargo build --release --locked\n\n" +
      "FROM ubuntu:24.04\nCOPY --from=build /app/target/release/app /usr/local/bin/app",
  },
  check({ facts, context }) {
    const hits: RuleHit[] = [];
    for (const b of binaryCopies(facts, context)) {
      if (b.runtimeLibc.kind !== "glibc") continue;
      const runtime = b.runtimeLibc.version;
      if (compareGlibc(runtime, "2.34") < 0 && compareGlibc(b.builderGlibc.version, "2.34") >= 0) continue; // GL111
      if (compareGlibc(b.builderGlibc.version, runtime) <= 0) continue;
      const builder = `${fullName(b.builderImage)}${b.builderImage.tag ? `:${b.builderImage.tag}` : ""}`;
      const rt = `${fullName(b.runtimeImage)}${b.runtimeImage.tag ? `:${b.runtimeImage.tag}` : ""}`;
      hits.push({
        inst: b.copy,
        span: b.word.span,
        message: `${b.path} is linked against glibc ${b.builderGlibc.version} (${builder} is ${b.builderGlibc.distro}) but the runtime ${rt} has glibc ${runtime} (${b.runtimeLibc.distro}): it may fail with GLIBC_2.xx not found`,
      });
    }
    return hits;
  },
};
