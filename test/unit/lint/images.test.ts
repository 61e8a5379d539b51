/** Image references, Rust images and the glibc table. */
import { expect, test } from "bun:test";
import { imageLibc, parseImageRef, runsAsNonRoot, rustImage } from "../../../src/docker/lint/images.ts";

test("references", () => {
  expect(parseImageRef("docker.io/library/rust:1.90@sha256:ab")).toEqual({
    registry: undefined,
    name: "rust",
    tag: "1.90",
    digest: "sha256:ab",
  });
  expect(parseImageRef("localhost:5000/team/app")).toEqual({
    registry: "localhost:5000",
    name: "team/app",
    tag: undefined,
    digest: undefined,
  });
});

const libc = (ref: string) => {
  const l = imageLibc(parseImageRef(ref));
  return l === undefined ? undefined : l.kind === "glibc" ? l.version : l.kind;
};

test("the rust image's default Debian follows the Rust version; ambiguous versions are unknown", () => {
  expect(libc("rust:1.90")).toBe("2.41");
  expect(libc("rust:1")).toBe("2.41");
  expect(libc("rust:latest")).toBe("2.41");
  expect(libc("rust:1.85.1-slim")).toBe("2.36");
  expect(libc("rust:1.60")).toBe("2.31");
  expect(libc("rust:1.89")).toBeUndefined();
  expect(libc("rust:1.71")).toBeUndefined();
  expect(libc("rust:1.90-bookworm")).toBe("2.36");
  expect(libc("rust:1-slim-bullseye")).toBe("2.31");
  expect(libc("rust:1.90-alpine3.22")).toBe("musl");
  expect(libc("lukemathwalker/cargo-chef:latest-rust-1.85-slim-bookworm")).toBe("2.36");
  expect(libc("clux/muslrust:stable")).toBe("musl");
});

test("runtime images", () => {
  expect(libc("debian:bookworm-slim")).toBe("2.36");
  expect(libc("debian:12")).toBe("2.36");
  expect(libc("debian:stable-slim")).toBe("2.41");
  expect(libc("ubuntu:20.04")).toBe("2.31");
  expect(libc("ubuntu:noble-20250101")).toBe("2.39");
  expect(libc("ubuntu:latest")).toBeUndefined();
  expect(libc("gcr.io/distroless/cc-debian12:nonroot")).toBe("2.36");
  expect(libc("gcr.io/distroless/static-debian12")).toBe("none");
  expect(libc("scratch")).toBe("none");
  expect(libc("alpine:3.22")).toBe("musl");
  expect(libc("registry.access.redhat.com/ubi9/ubi-minimal")).toBe("2.34");
  expect(libc("rockylinux:8")).toBe("2.28");
  expect(libc("amazonlinux:2023")).toBe("2.34");
  expect(libc("example.com/base:1")).toBeUndefined();
});

test("Rust versions in tags", () => {
  expect(rustImage(parseImageRef("rust:1.90.0-slim-trixie"))).toMatchObject({
    toolchain: "1.90.0",
    versioned: true,
  });
  expect(rustImage(parseImageRef("rust:slim"))).toMatchObject({ toolchain: "latest", versioned: false });
  expect(rustImage(parseImageRef("debian:12"))).toBeUndefined();
});

test("images that do not run as root", () => {
  expect(runsAsNonRoot(parseImageRef("gcr.io/distroless/cc-debian12:nonroot"))).toBe(true);
  expect(runsAsNonRoot(parseImageRef("cgr.dev/chainguard/glibc-dynamic"))).toBe(true);
  expect(runsAsNonRoot(parseImageRef("debian:trixie-slim"))).toBe(false);
});

test("a tag that depends on a build argument is unknown, unless it names the distribution", () => {
  expect(libc("rust:$RUST_VERSION")).toBeUndefined();
  expect(libc("rust:$RUST_VERSION-slim-bookworm")).toBe("2.36");
  expect(libc("debian:$DEBIAN")).toBeUndefined();
  expect(rustImage(parseImageRef("rust:$V"))).toMatchObject({ versioned: false, libc: undefined });
});
