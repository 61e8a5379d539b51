/**
 * `galley cache ping`: does the shared store answer, and may galley read and write there? Each
 * request has the configured time-out; writing stores one small fixed blob (the same every time).
 */

import { sha256Hex } from "../engine/digest.ts";
import type { StoreConfig } from "../engine/store-config.ts";
import { StoreTimeout } from "./breaker.ts";
import { openBackend } from "./open.ts";
import type { Store } from "./store.ts";

export interface PingLine {
  what: "answers" | "read" | "write";
  ok: boolean;
  text: string;
}

const PROBE = new TextEncoder().encode("galley cache ping\n");

export async function pingStore(config: StoreConfig): Promise<PingLine[]> {
  const store = await openBackend(config);
  try {
    return await pingOpen(store, config);
  } finally {
    store.close?.();
  }
}

async function pingOpen(store: Store, config: StoreConfig): Promise<PingLine[]> {
  const digest = sha256Hex(PROBE);
  const timed = <T>(p: Promise<T>): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StoreTimeout(config.requestTimeoutMs)), config.requestTimeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  };
  const lines: PingLine[] = [];
  const started = performance.now();
  try {
    await timed(store.getAction(sha256Hex("galley cache ping record")));
    const ms = (performance.now() - started).toFixed(0);
    lines.push({ what: "answers", ok: true, text: `store ${store.name} answers (${ms} ms)` });
    lines.push({ what: "read", ok: true, text: "read: yes" });
  } catch (err) {
    const reason = errorText(err);
    const refused = /denied|forbidden|403|401|auth|NOPERM|WRONGPASS|credentials|signature/i.test(reason);
    lines.push({
      what: "answers",
      ok: refused,
      text: refused ? `store ${store.name} answers` : `store ${store.name} does not answer (${reason})`,
    });
    lines.push({ what: "read", ok: false, text: `read: no (${reason})` });
  }
  if (config.readOnly) {
    lines.push({ what: "write", ok: true, text: "write: no (read-only mode)" });
    return lines;
  }
  try {
    await timed(store.putBlob(digest, PROBE));
    const back = await timed(store.getBlob(digest));
    lines.push(
      back
        ? { what: "write", ok: true, text: "write: yes" }
        : { what: "write", ok: false, text: "write: no (written blob not found)" },
    );
  } catch (err) {
    lines.push({ what: "write", ok: false, text: `write: no (${errorText(err)})` });
  }
  return lines;
}

function errorText(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const msg = (e?.message ?? String(err)).split("\n")[0]!;
  return e?.code && !msg.includes(e.code) ? `${e.code}: ${msg}` : msg;
}
