import { describe, expect, test } from "bun:test";
import { type OptionTable, parseArgs } from "../../src/cli/args.ts";

const TABLE = {
  release: { kind: "boolean", description: "" },
  jobs: { kind: "string", short: "j", description: "" },
  features: { kind: "list", short: "F", description: "" },
  verbose: { kind: "count", short: "v", description: "" },
} as const satisfies OptionTable;

describe("parseArgs", () => {
  test("long, short, inline and separate values; repeatable lists; passthrough", () => {
    const p = parseArgs("cook", TABLE, [
      "--release",
      "-j4",
      "--features=a,b",
      "-F",
      "c",
      "-vv",
      "--",
      "--x",
      "y",
    ]);
    expect(p.options.release).toBe(true);
    expect(p.options.jobs).toBe("4");
    expect(p.options.features).toEqual(["a,b", "c"]);
    expect(p.options.verbose).toBe(2);
    expect(p.rest).toEqual(["--x", "y"]);
  });

  test("unknown flag is an error naming the nearest known one", () => {
    expect(() => parseArgs("cook", TABLE, ["--relase"])).toThrow(/unknown flag --relase/);
    try {
      parseArgs("cook", TABLE, ["--relase"]);
    } catch (err) {
      expect((err as { hint: string }).hint).toContain("--release");
    }
  });

  test("missing value and unexpected value are errors", () => {
    expect(() => parseArgs("cook", TABLE, ["--jobs"])).toThrow(/needs a value/);
    expect(() => parseArgs("cook", TABLE, ["--release=yes"])).toThrow(/takes no value/);
    expect(() => parseArgs("cook", TABLE, ["stray"])).toThrow(/unexpected argument/);
  });
});
