import { compareGlibc, fullName } from "../images.ts";
import { binaryCopies } from "../libc.ts";
import type { Rule, RuleHit } from "../types.ts";

export const rule: Rule = {
  id: "GL111",
  name: "runtime-lacks-glibc",
  severity: "error",
  summary: "the runtime image cannot run the builder's binary (too old a glibc, or none at all)",
  why:
    "A Rust binary built for a `-gnu` target links dynamically against the builder's glibc and needs " +
    "at least that glibc's symbol versions at run time. Every program linked against glibc 2.34 or " +
    "newer needs `GLIBC_2.34` (its start-up code moved there), so it cannot start on an older " +
    "runtime (Debian bullseye, Ubuntu 20.04, UBI 8: `GLIBC_2.34 not found`), and it cannot start at " +
    "all on a runtime without glibc (`scratch`, `distroless/static`, Alpine's musl: `no such file or " +
    "directory` for the missing loader).",
  fix:
    "Use a runtime of the builder's distribution and release (`rust:1.90` is Debian trixie: " +
    "`debian:trixie-slim`, `gcr.io/distroless/cc-debian13`), or pin the builder to the runtime's " +
    "release (`rust:1.90-bullseye`), or build a static binary for a `-musl` target for scratch and Alpine.",
  example: {
    bad:
      "FROM rust:1.90 AS build\nWORKDIR /app\nCOPY . .\nRUN cargo build --release --locked\n\n" +
      "FROM debian:bullseye-slim\nCOPY --from=build /app/target/release/app /usr/local/bin/app",
    good:
      "FROM rust:1.90-bullseye AS build\nWORKDIR /app\nCOPY . .\nRUN cargo build --release --locked\n\n" +
      "FROM debian:bullseye-slim\nCOPY --from=build /app/target/release/app /usr/local/bin/app",
  },
  check({ facts, context }) {
    const hits: RuleHit[] = [];
    for (const b of binaryCopies(facts, context)) {
      const built = `${fullName(b.builderImage)}${b.builderImage.tag ? `:${b.builderImage.tag}` : ""} (${b.builderGlibc.distro}, glibc ${b.builderGlibc.version})`;
      const runtime = `${fullName(b.runtimeImage)}${b.runtimeImage.tag ? `:${b.runtimeImage.tag}` : ""}`;
      let message: string | undefined;
      if (b.runtimeLibc.kind === "glibc") {
        const old = compareGlibc(b.runtimeLibc.version, "2.34") < 0;
        const linkedNew = compareGlibc(b.builderGlibc.version, "2.34") >= 0;
        if (old && linkedNew)
          message = `${b.path} is built on ${built} but the runtime ${runtime} has glibc ${b.runtimeLibc.version}: it will not start (GLIBC_2.34 not found)`;
      } else if (!b.compat) {
        const what = b.runtimeLibc.kind === "musl" ? "musl, not glibc" : "no C library";
        message = `${b.path} is built on ${built} and linked against glibc, but the runtime ${runtime} has ${what}: it will not start`;
      }
      if (message) hits.push({ inst: b.copy, span: b.word.span, message });
    }
    return hits;
  },
};
