/**
 * Signed records: a writer signs each record with an HMAC-SHA256 over the action key and the
 * record; a reader holding the secret ignores records that are unsigned or signed with another
 * secret (counted, said once), so whoever can write to the shared store but lacks the secret
 * cannot make a build restore their outputs. Blobs need no signature: they are read by digest.
 */
import { noticeOnce } from "../engine/notice.ts";
import { ForwardingStore } from "./forwarding.ts";
import type { StoreReport } from "./report.ts";
import type { ActionResult, Store } from "./store.ts";

export class SignedStore extends ForwardingStore {
  override readonly name: string;

  constructor(
    inner: Store,
    private readonly secret: string,
    private readonly report: StoreReport,
  ) {
    super(inner);
    this.name = `${inner.name} (signed)`;
  }

  override async getAction(key: string): Promise<ActionResult | undefined> {
    const result = await this.inner.getAction(key);
    if (!result) return undefined;
    if (result.signature !== signatureOf(this.secret, key, result)) {
      this.report.unsigned++;
      noticeOnce(
        "unsigned",
        `ignored a record in ${this.inner.name} that is ${result.signature ? "signed with another secret" : "not signed"} (GALLEY_STORE_SECRET is set)`,
      );
      return undefined;
    }
    const { signature: _, ...checked } = result;
    return checked;
  }

  override putAction(key: string, result: ActionResult): Promise<void> {
    return this.inner.putAction(key, { ...result, signature: signatureOf(this.secret, key, result) });
  }
}

/**
 * HMAC-SHA256 (hex) of the key and the record without its signature, its fields in sorted order.
 * The sizes of stdout and stderr are left out: a backend that knows them from elsewhere (a REAPI
 * digest) adds them, and a wrong one only bounds a read that then fails its digest.
 */
export function signatureOf(secret: string, key: string, result: ActionResult): string {
  const { signature: _, stdoutSize: _o, stderrSize: _e, ...unsigned } = result;
  const h = new Bun.CryptoHasher("sha256", secret);
  h.update(`galley-record-v1\0${key}\0${canonical(unsigned)}`);
  return h.digest("hex");
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
