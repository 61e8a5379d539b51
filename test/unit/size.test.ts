import { expect, test } from "bun:test";
import { cacheSizeFromEnv, DEFAULT_CACHE_SIZE, parseSize } from "../../src/cache/engine/size.ts";

test("sizes with units", () => {
  expect(parseSize("10G", "X")).toBe(10 * 2 ** 30);
  expect(parseSize("500M", "X")).toBe(500 * 2 ** 20);
  expect(parseSize("1.5GiB", "X")).toBe(1.5 * 2 ** 30);
  expect(parseSize("2048", "X")).toBe(2048);
  expect(parseSize("64k", "X")).toBe(65536);
});

test("anything else is a clear error naming the variable", () => {
  expect(() => parseSize("lots", "GALLEY_CACHE_SIZE")).toThrow('GALLEY_CACHE_SIZE="lots" is not a size');
  expect(() => parseSize("10X", "GALLEY_CACHE_SIZE")).toThrow(/is not a size/);
  expect(() => parseSize("0", "GALLEY_CACHE_SIZE")).toThrow(/is not a size/);
});

test("GALLEY_CACHE_SIZE wins over SCCACHE_CACHE_SIZE; default 10 GiB", () => {
  expect(cacheSizeFromEnv({ GALLEY_CACHE_SIZE: "1G", SCCACHE_CACHE_SIZE: "2G" })).toBe(2 ** 30);
  expect(cacheSizeFromEnv({ SCCACHE_CACHE_SIZE: "2G" })).toBe(2 * 2 ** 30);
  expect(cacheSizeFromEnv({})).toBe(DEFAULT_CACHE_SIZE);
});
