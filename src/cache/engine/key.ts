/**
 * Action keys: named parts hashed in name order. Parts stay named so that `galley explain` can say
 * which one changed; the direct-mode parts are the files and env vars the last miss read.
 */
import { resolve } from "node:path";
import { sha256Hex } from "./digest.ts";
import type { FileDigests } from "./file-digest.ts";

export type KeyParts = Record<string, string>;

/** Files and env vars the compiler reported, as key parts. A missing file is a part too. */
export function directPartsOf(
  files: string[],
  envNames: string[],
  cwd: string,
  env: Record<string, string | undefined>,
  digests: FileDigests,
): KeyParts {
  const parts: KeyParts = {};
  for (const f of files) parts[`file:${f}`] = digests.sourceDigest(resolve(cwd, f)) ?? "missing";
  for (const name of envNames) parts[`env-dep:${name}`] = env[name] === undefined ? "unset" : `=${env[name]}`;
  return parts;
}

export function keyOf(parts: KeyParts): string {
  const names = Object.keys(parts).sort();
  return sha256Hex(names.map((n) => `${n}\0${parts[n]}`).join("\n"));
}
