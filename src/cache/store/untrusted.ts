/**
 * A shared store's records are untrusted input: anyone who can write there could try to make a
 * build write outside its output directory, set odd file modes or hand over damaged bytes. A
 * record that fails these checks is refused (counted, said once) and never written anywhere; a
 * blob must match its digest, whatever the backend already checked.
 */
import { isDigest, sha256Hex } from "../engine/digest.ts";
import { noticeOnce } from "../engine/notice.ts";
import type { BlobSink } from "./blob-sink.ts";
import { ForwardingStore, readBlobTo } from "./forwarding.ts";
import { MAX_OUTPUT_BYTES, MAX_RECORD_OUTPUTS } from "./limits.ts";
import type { StoreReport } from "./report.ts";
import {
  type ActionResult,
  type BlobSizes,
  CorruptEntry,
  getBlobs,
  isActionResult,
  type Store,
} from "./store.ts";

const MAX_INLINE_CHARS = 1024 * 1024;

export class UntrustedStore extends ForwardingStore {
  constructor(
    inner: Store,
    private readonly report: StoreReport,
  ) {
    super(inner);
  }

  override async getAction(key: string): Promise<ActionResult | undefined> {
    let result: ActionResult | undefined;
    try {
      result = await this.inner.getAction(key);
    } catch (err) {
      // Damaged, oversized or not a record at all: a miss, counted by the caller, said once here.
      if (err instanceof CorruptEntry)
        noticeOnce("damaged-record", `ignored a damaged record in ${this.name}`);
      throw err;
    }
    if (result === undefined) return undefined;
    const problem = recordProblem(result);
    if (problem) {
      this.report.rejected++;
      noticeOnce("rejected", `refused a record from ${this.name}: ${problem}`);
      return undefined;
    }
    return result;
  }

  override async getBlob(digest: string): Promise<Uint8Array | undefined> {
    return (await this.getBlobs([digest])).get(digest);
  }

  override async getBlobs(digests: string[], sizes?: BlobSizes): Promise<Map<string, Uint8Array>> {
    let found: Map<string, Uint8Array>;
    try {
      found = await getBlobs(this.inner, digests, sizes);
    } catch (err) {
      if (err instanceof CorruptEntry) noticeOnce("damaged", `ignored a damaged blob in ${this.name}`);
      throw err;
    }
    for (const [digest, bytes] of found) {
      if (sha256Hex(bytes) !== digest) {
        noticeOnce("damaged", `ignored a damaged blob in ${this.name}`);
        throw new CorruptEntry(`blob ${digest} from ${this.name}`);
      }
    }
    return found;
  }

  override async readBlobTo(digest: string, size: number, sink: BlobSink): Promise<boolean> {
    const checked = new VerifyingSink(sink);
    let found: boolean;
    try {
      found = await readBlobTo(this.inner, digest, size, checked);
    } catch (err) {
      if (err instanceof CorruptEntry) noticeOnce("damaged", `ignored a damaged blob in ${this.name}`);
      throw err;
    }
    if (found && (checked.bytes !== size || checked.digest() !== digest)) {
      noticeOnce("damaged", `ignored a damaged blob in ${this.name}`);
      throw new CorruptEntry(`blob ${digest} from ${this.name}`);
    }
    return found;
  }
}

/** A sink that hashes what passes through it, so the blob is checked here whatever the backend did. */
class VerifyingSink implements BlobSink {
  private readonly hasher = new Bun.CryptoHasher("sha256");
  bytes = 0;
  constructor(private readonly inner: BlobSink) {}
  async write(chunk: Uint8Array): Promise<void> {
    this.bytes += chunk.length;
    this.hasher.update(chunk);
    await this.inner.write(chunk);
  }
  digest(): string {
    return this.hasher.digest("hex");
  }
}

/** Why a record must not be used, or undefined when it is sound. */
export function recordProblem(value: unknown): string | undefined {
  if (!isActionResult(value)) return "malformed fields";
  if (value.outputs.length > MAX_RECORD_OUTPUTS) return `${value.outputs.length} outputs`;
  if (!Number.isFinite(value.compileMs) || value.compileMs < 0) return "malformed compile time";
  for (const out of value.outputs) {
    const p = out.path;
    if (p === "" || p.startsWith("/") || p.includes("\\") || p.includes("\0"))
      return `output path ${JSON.stringify(p)} is not relative`;
    if (p.split("/").some((seg) => seg === ".." || seg === "." || seg === ""))
      return `output path ${JSON.stringify(p)} climbs out of the output directory`;
    if (!Number.isInteger(out.size) || out.size < 0 || out.size > MAX_OUTPUT_BYTES)
      return `output ${JSON.stringify(p)} has size ${out.size}`;
    if (!Number.isInteger(out.mode) || out.mode < 0 || out.mode > 0o777)
      return `output ${JSON.stringify(p)} has mode ${out.mode}`;
    if (out.inline !== undefined && out.inline.length > MAX_INLINE_CHARS)
      return `output ${JSON.stringify(p)} carries ${out.inline.length} inline bytes`;
  }
  for (const d of [value.stdout, value.stderr])
    if (d !== undefined && !isDigest(d)) return "malformed output digest";
  // Only the local store carries blobs inside records.
  if (value.carried !== undefined) return "carries blobs inside it";
  return undefined;
}
