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
    expect(unitArgs([...base, ...extra])).toEqual(base);
});

test("flags that change the units stay", () => {
  for (const args of [
    ["cargo", "build"],
    ["cargo", "build", "--features", "x"],
    ["cargo", "build", "--target-dir", "t"],
    ["cargo", "test", "-p", "app"],
    ["cargo", "build", "--profile", "dist"],
  ])
    expect(unitArgs(args)).toEqual(args);
});
