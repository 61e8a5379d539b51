/** Cache size settings: `10G`, `500M`, `1.5GiB`, `2048` (bytes), with a clear error for anything else. */
import { InputError } from "../../errors.ts";

const UNITS: Record<string, number> = { "": 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

export const DEFAULT_CACHE_SIZE = 10 * 2 ** 30;

export function parseSize(text: string, variable: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toUpperCase()] : undefined;
  if (!m || unit === undefined || Number(m[1]) <= 0) {
    throw new InputError(
      `${variable}=${JSON.stringify(text)} is not a size`,
      `use a number with an optional unit, e.g. ${variable}=10G or ${variable}=500M`,
    );
  }
  return Math.floor(Number(m[1]) * unit);
}

/** GALLEY_CACHE_SIZE, else SCCACHE_CACHE_SIZE, else 10 GiB. */
export function cacheSizeFromEnv(env: Record<string, string | undefined>): number {
  for (const variable of ["GALLEY_CACHE_SIZE", "SCCACHE_CACHE_SIZE"]) {
    const value = env[variable];
    if (value !== undefined && value !== "") return parseSize(value, variable);
  }
  return DEFAULT_CACHE_SIZE;
}
