import { rootBase } from "../../parse.ts";
import { rustImage } from "../images.ts";
import type { Rule } from "../types.ts";

export const rule: Rule = {
  id: "GL110",
  name: "rust-image-runtime",
  severity: "warning",
  summary: "the final stage runs on a Rust toolchain image",
  why:
    "The final stage is the image you ship. A Rust toolchain image (`rust:*`, `rustlang/rust`, " +
    "`lukemathwalker/cargo-chef`) carries the compiler, cargo, the standard library's sources, a C " +
    "toolchain and build tools: hundreds of megabytes to pull on every deploy and a large attack " +
    "surface, none of it needed to run a compiled binary.",
  fix:
    "Build in a builder stage and copy the binary into a small runtime image of the same distribution " +
    "(`debian:trixie-slim` for `rust:1.90`, `gcr.io/distroless/cc-debian13`), or into `scratch` for a " +
    "static musl build.",
  example: {
    bad: 'FROM rust:1.90\nWORKDIR /app\nCOPY . .\nRUN cargo build --release --locked\nCMD ["/app/target/release/app"]',
    good:
      "FROM rust:1.90 AS build\nWORKDIR /app\nCOPY . .\nRUN cargo build --release --locked\n\n" +
      'FROM debian:trixie-slim\nCOPY --from=build /app/target/release/app /usr/local/bin/app\nCMD ["/usr/local/bin/app"]',
  },
  check({ facts }) {
    const final = facts.finalStage();
    const root = rootBase(final);
    if (!rustImage(facts.baseImage(final))) return [];
    const via = root.stage === final ? "" : ` (through stage ${final.rawBase})`;
    return [
      {
        inst: final.from,
        span: final.baseSpan,
        message: `the final stage runs on the Rust toolchain image ${root.base}${via}: ship the binary in a slim runtime image`,
      },
    ];
  },
};
