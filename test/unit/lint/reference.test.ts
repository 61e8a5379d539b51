/**
 * The reference Dockerfile (Depot's Rust example, kept as test/fixtures/lint/depot-rust.Dockerfile):
 * exactly its real problems, and nothing once they are fixed.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES } from "../../helpers.ts";
import { lint } from "./helpers.ts";

const reference = readFileSync(join(FIXTURES, "lint", "depot-rust.Dockerfile"), "utf8");
const fixed = readFileSync(join(FIXTURES, "lint", "depot-rust-fixed.Dockerfile"), "utf8");
const where = (fs: ReturnType<typeof lint>) =>
  fs.map((f) => `${f.span.start.line}:${f.span.start.column} ${f.id}`);

test("without a build context: its five findings, at their places", () => {
  expect(where(lint(reference))).toEqual([
    "3:5 GL115", // cargo install cargo-chef sccache: no versions (info)
    "8:5 GL107", // cargo chef prepare after COPY Cargo.toml Cargo.lock ./ only
    "12:1 GL105", // cargo chef cook --release --recipe-path recipe.json: no --locked
    "17:1 GL105", // cargo build --release --bin app: no --locked
    "21:44 GL112", // rust:1.90 is Debian trixie (glibc 2.41); ubuntu:24.04 has glibc 2.39
  ]);
});

test("none of them is an error, so the default --fail-on error passes", () => {
  expect(lint(reference).filter((f) => f.severity === "error")).toEqual([]);
  expect(lint(reference).map((f) => f.severity)).toEqual([
    "info",
    "warning",
    "warning",
    "warning",
    "warning",
  ]);
});

test("things it does right are not reported", () => {
  const ids = new Set(lint(reference).map((f) => f.id));
  for (const id of [
    "GL101", // its cook and build have registry, git and $SCCACHE_DIR mounts
    "GL102", // all sharing=locked
    "GL106", // the cook step comes before COPY . .
    "GL109", // RUSTC_WRAPPER=sccache with a mount for SCCACHE_DIR=/sccache
    "GL110", // the runtime is ubuntu, not a Rust image
    "GL201", // USER appuser
    "GL202", // rust:1.90 and ubuntu:24.04 name versions
    "GL203", // exec-form ENTRYPOINT
  ])
    expect(ids.has(id)).toBe(false);
});

test("with a build context that has no .dockerignore: also GL114 at COPY . .", () => {
  const context = { "Cargo.toml": '[package]\nname = "app"', "Cargo.lock": "version = 4\n" };
  expect(where(lint(reference, { context })).filter((w) => w.endsWith("GL114"))).toEqual(["13:1 GL114"]);
  const ignored = { ...context, ".dockerignore": "target/\n.git/\n" };
  expect(where(lint(reference, { context: ignored }))).toHaveLength(5);
});

test("the fixed version lints clean", () => {
  expect(where(lint(fixed, { context: { "Cargo.lock": "", ".dockerignore": "target\n" } }))).toEqual([]);
});
