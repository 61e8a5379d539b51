import { expect, test } from "bun:test";
import { parseRecipe, RECIPE_SCHEMA, serializeRecipe } from "../../src/recipe/recipe.ts";

test("serialisation is canonical: order of entries does not matter", () => {
  const a = serializeRecipe({
    schema: RECIPE_SCHEMA,
    files: [
      { path: "b/Cargo.toml", kind: "manifest", contents: "b" },
      { path: "Cargo.toml", kind: "manifest", contents: "a" },
    ],
    sources: [
      { path: "src/main.rs", kind: "main" },
      { path: "build.rs", kind: "build" },
    ],
    real: [],
  });
  const b = serializeRecipe({
    schema: RECIPE_SCHEMA,
    files: [
      { path: "Cargo.toml", kind: "manifest", contents: "a" },
      { path: "b/Cargo.toml", kind: "manifest", contents: "b" },
    ],
    sources: [
      { path: "build.rs", kind: "build" },
      { path: "src/main.rs", kind: "main" },
    ],
    real: [],
  });
  expect(a).toBe(b);
  expect(parseRecipe(a, "r.json").files.map((f) => f.path)).toEqual(["Cargo.toml", "b/Cargo.toml"]);
});

test("a recipe galley cannot read gets a clear error", () => {
  expect(() => parseRecipe("{", "r.json")).toThrow(/r.json: not a galley recipe \(invalid JSON/);
  expect(() => parseRecipe('{"skeleton":{}}', "r.json")).toThrow(/no "schema" field/);
  expect(() => parseRecipe('{"schema":"galley-recipe/99","files":[],"sources":[]}', "r.json")).toThrow(
    /schema "galley-recipe\/99" is not one this galley reads/,
  );
});

test("paths that would escape or be absolute are rejected", () => {
  const bad = (path: string) =>
    JSON.stringify({ schema: RECIPE_SCHEMA, files: [{ path, kind: "manifest", contents: "" }], sources: [] });
  expect(() => parseRecipe(bad("/etc/passwd"), "r")).toThrow(/invalid file entry/);
  expect(() => parseRecipe(bad("a/../../x"), "r")).toThrow(/invalid file entry/);
  expect(() => parseRecipe(bad(".."), "r")).toThrow(/invalid file entry/);
  expect(parseRecipe(bad("../lib/Cargo.toml"), "r").files[0]!.path).toBe("../lib/Cargo.toml");
});
