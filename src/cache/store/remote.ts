/**
 * What every network store shares: errors that name the store and say what went wrong in one line,
 * blobs checked against their digest before anyone uses them, and a memory of the damaged entries
 * a server cannot delete (so this process treats them as missing and never restores them).
 */
import { readFileSync } from "node:fs";
import { sha256Hex } from "../engine/digest.ts";
import type { StoreConfig } from "../engine/store-config.ts";
import { CorruptEntry } from "./store.ts";

/** Default time a request may take before the store counts as unreachable. */
export const DEFAULT_TIMEOUT_MS = 5000;

/** A remote store did not answer, refused, or answered something galley cannot use. */
export class StoreUnavailable extends Error {
  constructor(store: string, what: string) {
    super(`${store}: ${what}`);
    this.name = "StoreUnavailable";
  }
}

/** Damaged entries seen by this process, which the server may still hold. */
export class DamagedEntries {
  private readonly seen = new Set<string>();
  has(id: string): boolean {
    return this.seen.has(id);
  }
  add(id: string): void {
    this.seen.add(id);
  }
  /** A good copy was stored again: it is whole from now on. */
  delete(id: string): void {
    this.seen.delete(id);
  }
}

/** The bytes if they match the digest; otherwise the blob is marked damaged and CorruptEntry thrown. */
export function verifiedBlob(digest: string, bytes: Uint8Array, damaged: DamagedEntries): Uint8Array {
  if (sha256Hex(bytes) === digest) return bytes;
  damaged.add(digest);
  throw new CorruptEntry(`blob ${digest}`);
}

export interface Credentials {
  username?: string;
  password?: string;
  token?: string;
}

/**
 * The Authorization header: a bearer token, or basic auth from the given user name and password or
 * else the URL's user-info (`user:password@`; `:token@` is a bearer token).
 */
export function authHeader(url: URL, given: Credentials = {}): string | undefined {
  if (given.token) return `Bearer ${given.token}`;
  const user = given.username ?? decodeURIComponent(url.username);
  const password = given.password ?? decodeURIComponent(url.password);
  if (!user && !password) return undefined;
  if (!user) return `Bearer ${password}`;
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

/** The URL as it may be shown: without credentials. */
export function displayUrl(url: URL): string {
  const shown = new URL(url.href);
  shown.username = "";
  shown.password = "";
  return shown.href.replace(/\/$/, "");
}

/** The PEM named by the store option `ca_cert` (a file), for servers with their own certificate. */
export function caCertOption(config: StoreConfig): string | undefined {
  const path = config.options.ca_cert;
  if (!path) return undefined;
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new StoreUnavailable(
      config.source,
      `cannot read ca_cert ${path} (${(e as NodeJS.ErrnoException).code})`,
    );
  }
}
