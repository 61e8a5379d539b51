/** Where the cache lives and how big it may grow, from the environment (sccache's names too). */
import { homedir } from "node:os";
import { join } from "node:path";
import { cacheSizeFromEnv } from "./size.ts";

export interface CacheConfig {
  dir: string;
  maxSize: number;
  /** GALLEY_SALT: changing it misses everything, on purpose. */
  salt: string;
}

export function cacheDir(env: Record<string, string | undefined>): string {
  const explicit = env.GALLEY_DIR || env.SCCACHE_DIR;
  if (explicit) return explicit;
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache");
  return join(base, "galley");
}

export function cacheConfig(env: Record<string, string | undefined>): CacheConfig {
  return { dir: cacheDir(env), maxSize: cacheSizeFromEnv(env), salt: env.GALLEY_SALT ?? "" };
}
