/**
 * Which shared store the cache uses, if any: galley's own variables, then sccache's names (so a CI
 * set-up made for sccache works unchanged), then the config file. Nothing is loaded or parsed when
 * no store is configured: this runs at the start of every wrapper process.
 *
 * Secrets may also come from a file of KEY=VALUE lines (GALLEY_STORE_SECRETS_FILE, or
 * /run/secrets/galley-store where a Docker build mounts a BuildKit secret of that id); its values
 * stand in for variables that are not set.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { InputError } from "../../errors.ts";
import { flag } from "../../util/flag.ts";
import { sccacheStoreSettings } from "./sccache-env.ts";
import type { StoreConfig, StoreSettings } from "./store-settings.ts";

type Env = Record<string, string | undefined>;

/** Where a BuildKit secret with id `galley-store` is mounted by default. */
export const DEFAULT_SECRETS_FILE = "/run/secrets/galley-store";

export type { StoreConfig, StoreSettings } from "./store-settings.ts";

const DEFAULTS = { connectTimeoutMs: 500, requestTimeoutMs: 5000, retryAfterMs: 60_000, writeGraceMs: 250 };

export function configFilePath(env: Env): string {
  if (env.GALLEY_CONFIG) return env.GALLEY_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "galley", "config.toml");
}

/** The store configured for this process, or undefined for the local cache alone. */
export async function storeConfig(processEnv: Env): Promise<StoreConfig | undefined> {
  const env = withSecretsFile(processEnv);
  const fromEnv = galleyStoreSettings(env);
  const sccache = sccacheStoreSettings(env);
  const fromSccache: StoreSettings = fromEnv.url ? { ignored: sccache.ignored } : sccache;
  const file = configFilePath(env);
  const fromFile = existsSync(file) ? await fileStoreSettings(file) : {};
  // Variables win over the file; galley's names over sccache's.
  const merged: StoreSettings = { ...fromFile, ...dropUndefined(fromSccache), ...dropUndefined(fromEnv) };
  merged.options = { ...fromFile.options, ...fromSccache.options, ...fromEnv.options };
  if (!merged.url) {
    return undefined;
  }
  return {
    ...DEFAULTS,
    ...merged,
    url: merged.url,
    source: merged.source ?? "?",
    readOnly: merged.readOnly ?? false,
    options: merged.options,
    ignored: fromSccache.ignored ?? [],
  };
}

/** Settings galley ignores, even when no store is configured (for `galley cache ping`). */
export function ignoredSettings(env: Env): string[] {
  return sccacheStoreSettings(withSecretsFile(env)).ignored ?? [];
}

function galleyStoreSettings(env: Env): StoreSettings {
  const s: StoreSettings = { options: {} };
  if (env.GALLEY_STORE) {
    s.url = env.GALLEY_STORE;
    s.source = "GALLEY_STORE";
  }
  if (env.GALLEY_STORE_READ_ONLY !== undefined && env.GALLEY_STORE_READ_ONLY !== "")
    s.readOnly = flag(env.GALLEY_STORE_READ_ONLY, "GALLEY_STORE_READ_ONLY");
  s.secret = env.GALLEY_STORE_SECRET || undefined;
  s.username = env.GALLEY_STORE_USERNAME || undefined;
  s.password = env.GALLEY_STORE_PASSWORD || undefined;
  s.token = env.GALLEY_STORE_TOKEN || undefined;
  s.connectTimeoutMs = millis(env, "GALLEY_STORE_CONNECT_TIMEOUT_MS");
  s.requestTimeoutMs = millis(env, "GALLEY_STORE_TIMEOUT_MS");
  s.retryAfterMs = millis(env, "GALLEY_STORE_RETRY_AFTER_MS");
  s.writeGraceMs = millis(env, "GALLEY_STORE_WRITE_GRACE_MS", true);
  return s;
}

/** The `[store]` table of the config file. */
async function fileStoreSettings(path: string): Promise<StoreSettings> {
  const { parse } = await import("smol-toml");
  let table: unknown;
  try {
    table = parse(readFileSync(path, "utf8")).store;
  } catch (err) {
    throw new InputError(`${path}: ${(err as Error).message.split("\n")[0]}`, "fix the TOML syntax");
  }
  if (table === undefined) return {};
  if (typeof table !== "object" || table === null || Array.isArray(table))
    throw new InputError(`${path}: [store] must be a table`);
  const s: StoreSettings = { source: path, options: {} };
  for (const [name, value] of Object.entries(table)) {
    const where = `${path}: store.${name}`;
    const text = typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
    if (name === "read_only") s.readOnly = typeof value === "boolean" ? value : flag(text ?? "", where);
    else if (text === undefined && typeof value === "boolean") s.options![name] = value ? "1" : "0";
    else if (text === undefined) throw new InputError(`${where} must be a string, number or boolean`);
    else if (name === "url") s.url = text;
    else if (name === "secret") s.secret = text;
    else if (name === "username") s.username = text;
    else if (name === "password") s.password = text;
    else if (name === "token") s.token = text;
    else if (name === "connect_timeout_ms") s.connectTimeoutMs = positive(text, where);
    else if (name === "timeout_ms") s.requestTimeoutMs = positive(text, where);
    else if (name === "retry_after_ms") s.retryAfterMs = positive(text, where);
    else if (name === "write_grace_ms") s.writeGraceMs = positive(text, where, true);
    else s.options![name] = text;
  }
  return s;
}

/** The environment with the secrets file's values under variables that are not set. */
function withSecretsFile(env: Env): Env {
  const path = env.GALLEY_STORE_SECRETS_FILE || DEFAULT_SECRETS_FILE;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (env.GALLEY_STORE_SECRETS_FILE && (err as NodeJS.ErrnoException).code !== "ENOENT")
      throw new InputError(`cannot read GALLEY_STORE_SECRETS_FILE=${path}: ${(err as Error).message}`);
    return env;
  }
  const extra: Env = {};
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new InputError(`${path}:${i + 1}: expected KEY=VALUE`);
    extra[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, "$2");
  }
  return { ...extra, ...dropEmpty(env) };
}

function millis(env: Env, name: string, zeroAllowed = false): number | undefined {
  const v = env[name];
  return v === undefined || v === "" ? undefined : positive(v, name, zeroAllowed);
}

function positive(text: string, where: string, zeroAllowed = false): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !zeroAllowed))
    throw new InputError(
      `${where}=${JSON.stringify(text)} is not a ${zeroAllowed ? "non-negative" : "positive"} number`,
    );
  return n;
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function dropEmpty(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
}
