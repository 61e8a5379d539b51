/**
 * Every rule: Dockerfiles that trigger it (with the exact 1-based line and column of each finding)
 * and Dockerfiles that must not.
 */
import { describe, expect, test } from "bun:test";
import { RULES } from "../../../src/docker/lint/registry.ts";
import { df, type LintOpts, lint, positionsOf } from "./helpers.ts";

interface Case {
  text: string;
  opts?: LintOpts;
}
interface RuleCases {
  bad: (Case & { at: [number, number][] })[];
  good: Case[];
}

const RUST = "FROM rust:1.90 AS build\nWORKDIR /app\nCOPY . .\n";

const CASES: Record<string, RuleCases> = {
  GL101: {
    bad: [
      { text: `${RUST}RUN cargo build --release --locked\n`, at: [[4, 5]] },
      {
        // A cook step needs the registry, not the target directory; git only with git dependencies.
        text: df`
          FROM rust:1.90
          WORKDIR /app
          COPY recipe.json .
          RUN --mount=type=cache,target=/app/target galley cook --release --locked
        `,
        opts: { context: { "Cargo.lock": 'source = "git+https://example.com/x#abc"' } },
        at: [[4, 43]],
      },
    ],
    good: [
      {
        text: `${RUST}RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \\\n    --mount=type=cache,target=target \\\n    cargo build --release --locked && cp target/release/app /app/bin\n`,
      },
      {
        // The compiler cache's directory stands in for the target directory.
        text: `${RUST}ENV RUSTC_WRAPPER=sccache SCCACHE_DIR=/sccache\nRUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked --mount=type=cache,target=$SCCACHE_DIR cargo build --release --locked\n`,
      },
      // Tool installs are cached by their own layer.
      { text: "FROM rust:1.90\nRUN cargo install ripgrep@14.1.1 --locked\n" },
      {
        // After a cook without a registry mount, the crates and the dependencies are in the layer.
        text: df`
          FROM rust:1.90
          WORKDIR /app
          COPY recipe.json .
          RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked galley cook --release --locked
          COPY . .
          RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked cargo build --release --locked
        `,
      },
    ],
  },
  GL102: {
    bad: [
      {
        text: df`
          FROM rust:1.90
          RUN --mount=type=cache,target=/usr/local/cargo/registry \
              --mount=type=cache,target=/usr/local/cargo/git,sharing=shared \
              --mount=type=cache,target=/app/target \
              cargo build --release --locked
        `,
        at: [
          [2, 5],
          [3, 5],
        ],
      },
    ],
    good: [
      {
        text: df`
          FROM rust:1.90
          RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
              --mount=type=cache,target=/usr/local/cargo/git,sharing=private \
              --mount=type=cache,target=/app/target \
              cargo build --release --locked
        `,
      },
      {
        // A mount of the whole cargo home shares cargo's own lock file too.
        text: "FROM debian:trixie\nENV CARGO_HOME=/cargo\nRUN --mount=type=cache,target=/cargo cargo fetch --locked\n",
      },
    ],
  },
  GL103: {
    bad: [
      {
        text: df`
          FROM rust:1.90 AS build
          WORKDIR /app
          COPY . .
          RUN --mount=type=cache,target=target cargo build --release --locked
          FROM debian:trixie-slim
          COPY --from=build /app/target/release/app /usr/local/bin/app
        `,
        at: [[6, 19]],
      },
    ],
    good: [
      {
        text: df`
          FROM rust:1.90 AS build
          WORKDIR /app
          COPY . .
          RUN --mount=type=cache,target=/app/target cargo build --release --locked && cp target/release/app /usr/local/bin/app
          FROM debian:trixie-slim
          COPY --from=build /usr/local/bin/app /usr/local/bin/app
        `,
      },
    ],
  },
  GL104: {
    bad: [
      {
        text: df`
          FROM rust:1.90 AS build
          ARG TARGETPLATFORM
          WORKDIR /app
          COPY . .
          RUN --mount=type=cache,target=/app/target cargo build --release --locked && cp target/release/app /app/app
        `,
        at: [[5, 5]],
      },
    ],
    good: [
      {
        text: df`
          FROM rust:1.90 AS build
          ARG TARGETPLATFORM
          WORKDIR /app
          COPY . .
          RUN --mount=type=cache,target=/app/target,id=target-$TARGETPLATFORM cargo build --release --locked && cp target/release/app /app/app
        `,
      },
      // Not a multi-platform build: no platform ARG, no --platform.
      {
        text: `${RUST}RUN --mount=type=cache,target=/app/target cargo build --release --locked && cp target/release/app /app/app\n`,
      },
      {
        // Cross-compiling on the build platform keeps each target's outputs apart.
        text: df`
          FROM --platform=$BUILDPLATFORM rust:1.90 AS build
          ARG RUST_TARGET=aarch64-unknown-linux-gnu
          WORKDIR /app
          COPY . .
          RUN --mount=type=cache,target=/app/target cargo build --release --locked --target $RUST_TARGET && cp target/$RUST_TARGET/release/app /app/app
        `,
      },
    ],
  },
  GL105: {
    bad: [
      {
        // In a heredoc script, in exec form, and after a backtick continuation (escape directive).
        text: '# escape=`\nFROM rust:1.90\nRUN <<EOF\nset -e\n  cargo build --release\nEOF\nRUN ["cargo", "build"]\nRUN echo `\n  && cargo build\n',
        at: [
          [5, 3],
          [7, 6],
          [9, 6],
        ],
      },
      {
        text: df`
          FROM rust:1.90
          RUN cargo build --release
          RUN cargo +nightly install --path .
          RUN cargo chef cook --release --recipe-path recipe.json
          RUN cargo install ripgrep@14.1.1
        `,
        at: [
          [2, 5],
          [3, 5],
          [4, 5],
          [5, 5],
        ],
      },
    ],
    good: [
      {
        text: df`
          FROM rust:1.90
          ARG FLAGS=--locked
          RUN cargo build --release --locked
          RUN cargo --frozen build
          RUN cargo build $FLAGS
          RUN cargo build $UNKNOWN_FLAGS
          RUN cargo test
        `,
      },
      // A package without Cargo.lock (a library) cannot build --locked.
      {
        text: "FROM rust:1.90\nRUN cargo build --release\n",
        opts: { context: { "Cargo.toml": "[package]" } },
      },
    ],
  },
  GL106: {
    bad: [
      { text: `${RUST}RUN cargo build --release --locked\n`, at: [[3, 1]] },
      {
        text: df`
          FROM rust:1.90
          WORKDIR /app
          COPY Cargo.toml Cargo.lock ./
          COPY src ./src
          RUN cargo build --release --locked
        `,
        at: [[4, 1]],
      },
    ],
    good: [
      {
        text: df`
          FROM rust:1.90
          WORKDIR /app
          COPY recipe.json .
          RUN galley cook --release --locked
          COPY . .
          RUN cargo build --release --locked
        `,
      },
      {
        // The dummy-main trick is a dependency layer too.
        text: df`
          FROM rust:1.90
          WORKDIR /app
          COPY Cargo.toml Cargo.lock ./
          RUN mkdir src && echo 'fn main() {}' > src/main.rs && cargo build --release --locked
          COPY . .
          RUN cargo build --release --locked
        `,
      },
      {
        text: `${RUST}RUN --mount=type=cache,target=/app/target cargo build --release --locked && cp target/release/app /\n`,
      },
      {
        text: `${RUST}ENV RUSTC_WRAPPER=sccache SCCACHE_DIR=/sccache\nRUN --mount=type=cache,target=/sccache cargo build --release --locked\n`,
      },
      {
        // A tool copied in is not the project's sources.
        text: "FROM rust:1.90\nCOPY --chmod=0755 galley /usr/local/bin/galley\nWORKDIR /app\nCOPY Cargo.toml Cargo.lock ./\nRUN cargo fetch --locked\nCOPY . .\nRUN cargo build --release --locked\n",
      },
    ],
  },
  GL107: {
    bad: [
      {
        text: df`
          FROM rust:1.90 AS planner
          WORKDIR /app
          COPY Cargo.toml Cargo.lock ./
          RUN cargo chef prepare --recipe-path recipe.json
        `,
        at: [[4, 5]],
      },
      {
        // A tool copied in (here from an image) does not count as the project.
        text: "FROM rust:1.90 AS planner\nCOPY --from=example.com/galley:1 /galley /usr/local/bin/galley\nWORKDIR /app\nCOPY Cargo.toml Cargo.lock ./\nRUN galley prepare\n",
        at: [[5, 5]],
      },
    ],
    good: [
      {
        text: "FROM rust:1.90 AS planner\nWORKDIR /app\nCOPY . .\nRUN galley prepare --recipe-path recipe.json\n",
      },
      // Sources from another stage are sources too.
      {
        text: "FROM alpine AS src\nFROM rust:1.90 AS planner\nCOPY --from=src /repo /app\nCOPY Cargo.lock /app/\nRUN galley prepare\n",
      },
      {
        text: "FROM rust:1.90 AS planner\nWORKDIR /app\nCOPY Cargo.toml Cargo.lock ./\nCOPY crates crates\nRUN galley prepare\n",
      },
      {
        text: "FROM rust:1.90 AS planner\nWORKDIR /app\nRUN --mount=type=bind,target=. galley prepare --recipe-path /recipe.json\n",
      },
    ],
  },
  GL108: {
    bad: [
      {
        text: df`
          FROM rust:1.89 AS planner
          WORKDIR /app
          COPY . .
          RUN cargo chef prepare --recipe-path recipe.json
          FROM rust:1.90 AS builder
          WORKDIR /src
          COPY --from=planner /app/recipe.json recipe.json
          RUN cargo chef cook --release --locked --recipe-path recipe.json
        `,
        at: [
          [5, 6],
          [8, 5],
        ],
      },
    ],
    good: [
      {
        text: df`
          FROM rust:1.90 AS chef
          WORKDIR /app
          FROM chef AS planner
          COPY . .
          RUN cargo chef prepare --recipe-path recipe.json
          FROM chef AS builder
          COPY --from=planner /app/recipe.json recipe.json
          RUN cargo chef cook --release --locked --recipe-path recipe.json
        `,
      },
      {
        // The same toolchain in a slim variant is fine.
        text: df`
          FROM rust:1.90-slim AS planner
          WORKDIR /app
          COPY . .
          RUN galley prepare
          FROM rust:1.90 AS builder
          WORKDIR /app
          COPY --from=planner /app/recipe.json recipe.json
          RUN galley cook --release --locked
        `,
      },
    ],
  },
  GL109: {
    bad: [
      {
        text: df`
          FROM rust:1.90
          ENV RUSTC_WRAPPER=sccache CARGO_INCREMENTAL=1
          RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked cargo build --release --locked
        `,
        at: [
          [2, 27],
          [3, 72],
        ],
      },
    ],
    good: [
      {
        text: "FROM rust:1.90\nENV RUSTC_WRAPPER=sccache\nRUN --mount=type=cache,target=/root/.cache/sccache cargo build --release --locked\n",
      },
      {
        // galley under the name sccache, with its own directory.
        text: "FROM rust:1.90\nENV RUSTC_WRAPPER=/usr/local/bin/sccache GALLEY_DIR=/var/cache/galley CARGO_INCREMENTAL=0\nRUN --mount=type=cache,target=/var/cache/galley cargo build --release --locked\n",
      },
      {
        text: "FROM rust:1.90\nENV RUSTC_WRAPPER=sccache SCCACHE_BUCKET=builds\nRUN cargo build --release --locked\n",
      },
    ],
  },
  GL110: {
    bad: [
      { text: `${RUST}RUN cargo build --release --locked\nCMD ["/app/target/release/app"]\n`, at: [[1, 6]] },
      { text: "FROM rust:1.90-slim AS base\nFROM base\n", at: [[2, 6]] },
    ],
    good: [{ text: `${RUST}RUN cargo build --release --locked\nFROM debian:trixie-slim\n` }],
  },
  GL111: {
    bad: [
      {
        text: `${RUST}RUN cargo build --release --locked\nFROM debian:bullseye-slim\nCOPY --from=build /app/target/release/app /usr/local/bin/app\n`,
        at: [[6, 19]],
      },
      {
        text: `${RUST}RUN cargo build --release --locked\nFROM alpine:3.22\nCOPY --from=build /app/target/release/app /usr/local/bin/app\n`,
        at: [[6, 19]],
      },
    ],
    good: [
      {
        text: `FROM rust:1.90-bullseye AS build\nWORKDIR /app\nCOPY . .\nRUN cargo build --release --locked\nFROM debian:bullseye-slim\nCOPY --from=build /app/target/release/app /usr/local/bin/app\n`,
      },
      {
        text: `${RUST}RUN cargo build --release --locked --target x86_64-unknown-linux-musl\nFROM scratch\nCOPY --from=build /app/target/x86_64-unknown-linux-musl/release/app /app\n`,
      },
      {
        text: `${RUST}RUN cargo build --release --locked\nFROM alpine:3.22\nRUN apk add --no-cache gcompat\nCOPY --from=build /app/target/release/app /usr/local/bin/app\n`,
      },
      {
        // Static glibc linking configured in the context.
        text: `${RUST}RUN cargo build --release --locked\nFROM scratch\nCOPY --from=build /app/target/release/app /app\n`,
        opts: {
          context: { ".cargo/config.toml": '[build]\nrustflags = ["-C", "target-feature=+crt-static"]' },
        },
      },
      {
        // A zigbuild target names an old glibc.
        text: `${RUST}RUN cargo zigbuild --release --locked --target x86_64-unknown-linux-gnu.2.28\nFROM debian:bullseye-slim\nCOPY --from=build /app/target/x86_64-unknown-linux-gnu/release/app /app\n`,
      },
    ],
  },
  GL112: {
    bad: [
      {
        text: `${RUST}RUN cargo build --release --locked\nFROM ubuntu:24.04\nCOPY --from=build /app/target/release/app /usr/local/bin/app\n`,
        at: [[6, 19]],
      },
    ],
    good: [
      {
        text: `FROM rust:1.90-bookworm AS build\nWORKDIR /app\nCOPY . .\nRUN cargo build --release --locked\nFROM ubuntu:24.04\nCOPY --from=build /app/target/release/app /usr/local/bin/app\n`,
      },
      {
        text: `${RUST}RUN cargo build --release --locked\nFROM debian:trixie-slim\nCOPY --from=build /app/target/release/app /usr/local/bin/app\n`,
      },
      {
        // Unknown images are unknown: nothing is said.
        text: `${RUST}RUN cargo build --release --locked\nFROM example.com/base:7\nCOPY --from=build /app/target/release/app /usr/local/bin/app\n`,
      },
      {
        // Certificates are not a program.
        text: `${RUST}RUN cargo build --release --locked\nFROM ubuntu:24.04\nCOPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/\n`,
      },
    ],
  },
  GL113: {
    bad: [
      {
        text: `${RUST}RUN cargo build --locked\nFROM debian:trixie-slim\nCOPY --from=build /app/target/debug/app /usr/local/bin/app\n`,
        at: [[6, 19]],
      },
    ],
    good: [
      {
        text: `${RUST}RUN cargo build --release --locked\nFROM debian:trixie-slim\nCOPY --from=build /app/target/release/app /usr/local/bin/app\n`,
      },
    ],
  },
  GL114: {
    bad: [
      {
        text: `${RUST}RUN cargo build --release --locked\n`,
        opts: { context: { "Cargo.toml": "" } },
        at: [[3, 1]],
      },
      {
        text: `${RUST}RUN cargo build --release --locked\n`,
        opts: { context: { ".dockerignore": ".git\ntarget\n!target\n" } },
        at: [[3, 1]],
      },
    ],
    good: [
      {
        text: `${RUST}RUN cargo build --release --locked\n`,
        opts: { context: { ".dockerignore": "/target/\n" } },
      },
      {
        text: `${RUST}RUN cargo build --release --locked\n`,
        opts: { context: { ".dockerignore": "**/target\n" } },
      },
      // No context known: nothing to check.
      { text: `${RUST}RUN cargo build --release --locked\n` },
      // Only named files are copied.
      { text: "FROM rust:1.90\nCOPY Cargo.toml src/ /app/\n", opts: { context: {} } },
    ],
  },
  GL115: {
    bad: [{ text: "FROM rust:1.90\nRUN cargo install cargo-chef sccache --locked\n", at: [[2, 5]] }],
    good: [
      {
        text: df`
          FROM rust:1.90
          RUN cargo install cargo-chef@0.1.72 --locked
          RUN cargo install sccache --version 0.10.0 --locked
          RUN cargo install --git https://example.com/tool --tag v1 --locked
          RUN cargo install --path . --locked
        `,
      },
    ],
  },
  GL116: {
    bad: [
      {
        text: df`
          FROM rust:1.90
          WORKDIR /app
          COPY recipe.json .
          RUN galley cook --locked --features metrics
          COPY . .
          RUN cargo build --release --locked
        `,
        at: [[6, 5]],
      },
    ],
    good: [
      {
        text: df`
          FROM rust:1.90
          WORKDIR /app
          COPY recipe.json .
          RUN cargo chef cook --release --locked --features a,b --recipe-path recipe.json
          COPY . .
          RUN cargo build --release --locked --features b --features a
        `,
      },
    ],
  },
  GL117: {
    bad: [
      {
        // The project is the context; its member's path dependency lies beside it.
        text: df`
          FROM rust:1.90 AS planner
          WORKDIR /app
          COPY . .
          RUN galley prepare --recipe-path recipe.json
        `,
        opts: { context: { "Cargo.toml": "" }, project: { root: "/ctx", outside: ["/shared-lib"] } },
        at: [[4, 5]],
      },
      {
        // No planner: the build itself is where it fails.
        text: df`
          FROM rust:1.90
          WORKDIR /app
          COPY . .
          RUN cargo build --release --locked
        `,
        opts: { context: {}, project: { root: "/ctx/ws", outside: ["/ctx/shared-lib", "/elsewhere/lib"] } },
        at: [[4, 5]],
      },
    ],
    good: [
      {
        // The context is the common directory: it holds the path dependency.
        text: df`
          FROM rust:1.90 AS planner
          WORKDIR /app/ws
          COPY ws/ /app/ws/
          COPY shared-lib/ /app/shared-lib/
          RUN galley prepare --recipe-path recipe.json
        `,
        opts: { context: {}, project: { root: "/ctx/ws", outside: ["/ctx/shared-lib"] } },
      },
      {
        // Without the project (lint was not given it), nothing is known about its path dependencies.
        text: "FROM rust:1.90\nWORKDIR /app\nCOPY . .\nRUN galley prepare --recipe-path recipe.json\n",
        opts: { context: {} },
      },
    ],
  },
  GL118: {
    bad: [
      {
        text: `${RUST}ARG AWS_ACCESS_KEY_ID\nENV GALLEY_STORE=redis://:hunter2@cache:6379 SCCACHE_REDIS=redis://cache:6379\n`,
        at: [
          [4, 5],
          [5, 5],
        ],
      },
      {
        text: `${RUST}RUN AWS_SECRET_ACCESS_KEY=abc123 cargo build --release --locked\nRUN export SCCACHE_REDIS_ENDPOINT=redis://u:pw@cache:6379 && cargo build --release --locked\n`,
        at: [
          [4, 5],
          [5, 12],
        ],
      },
      {
        text: `${RUST}COPY .aws/credentials /root/.aws/credentials\nCOPY galley-store.env /run/secrets/galley-store\n`,
        at: [
          [4, 6],
          [5, 6],
        ],
      },
    ],
    good: [
      // The URL alone, the credentials as a secret: what galley dockerfile --store writes.
      {
        text: `${RUST}ENV GALLEY_STORE=s3://bucket/ci SCCACHE_BUCKET=b\nRUN --mount=type=secret,id=galley-store cargo build --release --locked\n`,
      },
      // A value from an ARG is reported at the ARG (by GL204), not again at the RUN.
      {
        text: `${RUST}RUN --mount=type=secret,id=aws,env=AWS_SECRET_ACCESS_KEY AWS_REGION=eu-west-1 cargo build --release --locked\n`,
      },
      { text: `${RUST}RUN GALLEY_STORE_PASSWORD="$(cat /run/secrets/pw)" cargo build --release --locked\n` },
    ],
  },
  GL201: {
    bad: [
      { text: 'FROM debian:trixie-slim\nENTRYPOINT ["/app"]\n', at: [[1, 6]] },
      { text: 'FROM debian:trixie-slim\nUSER app\nUSER root\nENTRYPOINT ["/app"]\n', at: [[3, 1]] },
      { text: "FROM debian:trixie-slim AS base\nUSER 0:0\nFROM base\n", at: [[2, 1]] },
    ],
    good: [
      { text: "FROM debian:trixie-slim\nUSER 10001\n" },
      { text: 'FROM gcr.io/distroless/cc-debian13:nonroot\nENTRYPOINT ["/app"]\n' },
      { text: 'FROM debian:trixie-slim AS base\nUSER app\nFROM base\nENTRYPOINT ["/app"]\n' },
      // A scratch stage without ENTRYPOINT or CMD only exports files.
      { text: "FROM rust:1.90 AS build\nFROM scratch\nCOPY --from=build /app /app\n" },
    ],
  },
  GL202: {
    bad: [
      {
        text: "FROM debian\nFROM ubuntu:latest\nFROM rust:slim-bookworm\n",
        at: [
          [1, 6],
          [2, 6],
          [3, 6],
        ],
      },
      { text: "ARG BASE=debian:latest\nFROM $" + "{BASE}\n", at: [[2, 6]] },
    ],
    good: [
      {
        text: df`
          FROM rust:1.90 AS build
          FROM build AS again
          FROM debian@sha256:0000000000000000000000000000000000000000000000000000000000000000
          FROM scratch
          FROM $UNKNOWN_BASE
          FROM rustlang/rust:nightly
          FROM lukemathwalker/cargo-chef:latest-rust-1
        `,
      },
    ],
  },
  GL203: {
    bad: [
      {
        text: "FROM debian:trixie-slim\nUSER 1\nENTRYPOINT /app --port 80\nCMD serve\n",
        at: [
          [3, 12],
          [4, 5],
        ],
      },
      { text: 'FROM debian:trixie-slim\nUSER 1\nCMD ["/app" "x"]\n', at: [[3, 5]] },
    ],
    good: [
      { text: 'FROM debian:trixie-slim\nUSER 1\nENTRYPOINT ["/app", "--port", "80"]\nCMD ["serve"]\n' },
      { text: "FROM debian:trixie-slim\nUSER 1\nENTRYPOINT exec /app\n" },
      // Overridden, and in a stage that is not shipped.
      { text: 'FROM rust:1.90 AS build\nCMD cargo test\nFROM debian:trixie-slim\nUSER 1\nCMD ["/app"]\n' },
    ],
  },
  GL204: {
    bad: [
      {
        text: "ARG GITHUB_TOKEN\nFROM debian:trixie-slim\nENV DB_PASSWORD=hunter2 MODE=prod API_KEY=x\n",
        at: [
          [1, 5],
          [3, 5],
          [3, 35],
        ],
      },
      {
        text: "FROM debian:trixie-slim\nARG GPG_PRIVATE_KEY\nARG SIGNING_KEY\n",
        at: [
          [2, 5],
          [3, 5],
        ],
      },
    ],
    good: [
      {
        text: "FROM python:3.13\nENV TOKENIZERS_PARALLELISM=false GPG_KEY=ABCD SECRET_FILE=/run/secrets/x AWS_ACCESS_KEY_ID=x PUBLIC_KEY=y\n",
      },
    ],
  },
  GL205: {
    bad: [{ text: 'FROM scratch\nCOPY app /app\nUSER app:10001\nENTRYPOINT ["/app"]\n', at: [[3, 1]] }],
    good: [
      { text: "FROM scratch\nUSER 10001:10001\n" },
      { text: "FROM debian:trixie-slim\nUSER app\n" },
      {
        text: "FROM rust:1.90 AS build\nFROM scratch\nCOPY --from=build /etc/passwd /etc/passwd\nUSER app\n",
      },
    ],
  },
};

test("every rule has cases", () => {
  expect(Object.keys(CASES).sort()).toEqual(RULES.map((r) => r.id).sort());
});

for (const rule of RULES) {
  describe(`${rule.id} ${rule.name}`, () => {
    const cases = CASES[rule.id];
    if (!cases) return;
    cases.bad.forEach((c, i) => {
      test(`reports (${i + 1})`, () => {
        const findings = lint(c.text, c.opts);
        expect(positionsOf(findings, rule.id)).toEqual(c.at);
        for (const f of findings.filter((x) => x.id === rule.id)) {
          expect(f.severity).toBe(rule.severity);
          expect(f.message).not.toContain("\n");
        }
      });
    });
    cases.good.forEach((c, i) => {
      test(`stays quiet (${i + 1})`, () => {
        expect(positionsOf(lint(c.text, c.opts), rule.id)).toEqual([]);
      });
    });
  });
}
