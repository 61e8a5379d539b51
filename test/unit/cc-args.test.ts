import { expect, test } from "bun:test";
import { parseCcArgs } from "../../src/cache/cc/args.ts";
import { parseMakeDepfile } from "../../src/cache/cc/make-depfile.ts";

test("a cc-rs compile is cacheable, with its object and no depfile", () => {
  const inv = parseCcArgs("cc", [
    "-O3",
    "-ffunction-sections",
    "-fPIC",
    "-I",
    "inc",
    "-DMODE=1",
    "-o",
    "/out/x.o",
    "-c",
    "src/x.c",
  ]);
  expect(inv.uncacheable).toBeUndefined();
  expect(inv.source).toBe("src/x.c");
  expect(inv.output).toBe("/out/x.o");
  expect(inv.depfile).toBeUndefined();
});

test("a requested depfile is an output too", () => {
  expect(parseCcArgs("cc", ["-MD", "-c", "a.c", "-o", "b/a.o"]).depfile).toBe("b/a.d");
  expect(parseCcArgs("cc", ["-MMD", "-MF", "deps/a.d", "-c", "a.c"]).depfile).toBe("deps/a.d");
  expect(parseCcArgs("cc", ["-c", "a.c"]).output).toBe("a.o");
});

test("what cannot be keyed runs as it is, with a reason", () => {
  const reason = (args: string[]) => parseCcArgs("cc", args).uncacheable;
  expect(reason(["src/a.c", "-o", "app"])).toMatch(/linking/);
  expect(reason(["-E", "a.c"])).toMatch(/preprocessing only/);
  expect(reason(["-c", "-", "-o", "x.o"])).toMatch(/stdin/);
  expect(reason(["-c", "a.c", "b.c"])).toMatch(/several source files/);
  expect(reason(["-c", "a.c", "-fprofile-use=prof.profdata"])).toMatch(/cannot key/);
  expect(reason(["-c", "a.c", "@args.rsp"])).toMatch(/cannot key/);
  expect(reason(["-c", "a.c", "weird.bin"])).toMatch(/cannot key/);
});

test("make depfiles: continuations, escaped spaces, $$", () => {
  const text =
    "out/a.o: src/a.c \\\n  include/a\\ b.h /usr/include/stdio.h \\\n  price$$.h\n\ninclude/a\\ b.h:\n";
  expect(parseMakeDepfile(text)).toEqual(["src/a.c", "include/a b.h", "/usr/include/stdio.h", "price$.h"]);
});
