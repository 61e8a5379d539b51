/** A cargo command's key leaves out the flags that only change what cargo prints or its job count. */
import { expect, test } from "bun:test";
import { unitArgs } from "../../src/cache/prefill/cargo-call.ts";

test("output and job flags are not part of the command", () => {
  const base = ["cargo", "build", "--release", "--locked"];
  for (const extra of [
    ["-v"],
    ["-vv", "-q"],
    ["--timings"],
    ["--timings=html"],
    ["--color", "always"],
    ["--color=never"],
    ["-j", "4"],
    ["-j4"],
    ["--jobs=2"],
    ["--message-format", "json"],
  ])
    expect(unitArgs([...base, ...extra], "/ws")).toEqual(base);
});

test("flags that change the units stay", () => {
  for (const args of [
    ["cargo", "build"],
    ["cargo", "build", "--features", "x"],
    ["cargo", "build", "--target-dir", "t"],
    ["cargo", "test", "-p", "app"],
    ["cargo", "build", "--profile", "dist"],
  ])
    expect(unitArgs(args, "/ws")).toEqual(args);
});

test("--manifest-path naming the working directory's manifest is the command without it", () => {
  const base = ["cargo", "build", "--release"];
  expect(unitArgs(["cargo", "build", "--manifest-path", "/ws/Cargo.toml", "--release"], "/ws")).toEqual(base);
  expect(unitArgs(["cargo", "build", "--manifest-path=Cargo.toml", "--release"], "/ws")).toEqual(base);
  const other = ["cargo", "build", "--manifest-path", "/ws/sub/Cargo.toml", "--release"];
  expect(unitArgs(other, "/ws")).toEqual(other);
});
