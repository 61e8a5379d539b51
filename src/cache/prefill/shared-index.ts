/**
 * Prefill records through a shared store, so that a fresh machine (a CI runner) is prefilled by
 * what another one built. The records are blobs; their list for a cargo command is one action
 * record (the index), rewritten whole by each wrapper that records units, so a store that holds
 * only records and blobs (REAPI, HTTP, S3, Redis) needs nothing more. A shared record is input to
 * check: every blob by its digest, and the places a record writes to must be the cargo command's.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { sha256Hex } from "../engine/digest.ts";
import { isWithin } from "../engine/path-tokens.ts";
import { batchesBySize } from "../store/bounded.ts";
import { IN_MEMORY_BATCH_BYTES, MAX_RECORD_BYTES } from "../store/limits.ts";
import { getBlobs, type Store, type StoredOutput } from "../store/store.ts";
import type { CargoCall } from "./cargo-call.ts";
import { recordFiles, type UnitRecord, writeRecordText } from "./unit-record.ts";

const indexKey = (key: string) => sha256Hex(`galley prefill index v1\0${key}`);

/**
 * Uploads an index listing every record this machine holds for `key`. A record file is written
 * only after its bytes were uploaded, so the index never names a blob the store lacks. Two
 * processes may publish at once, each with what it saw; each lists again after its upload and
 * publishes again if that changed, so the index the last publisher leaves holds every record.
 */
export async function publishIndex(cacheDir: string, key: string, store: Store): Promise<void> {
  let published = "";
  for (let round = 0; round < 3; round++) {
    const outputs: StoredOutput[] = [];
    for (const f of recordFiles(cacheDir, key).sort((a, b) => (a.unit < b.unit ? -1 : 1))) {
      try {
        outputs.push({ path: `${f.unit}.json`, digest: f.digest, size: statSync(f.path).size, mode: 0o644 });
      } catch {}
    }
    const listing = outputs.map((o) => o.digest).join();
    if (outputs.length === 0 || listing === published) return;
    await store.putAction(indexKey(key), { outputs, compileMs: 0 });
    published = listing;
  }
}

/**
 * Fetches the shared store's records for the cargo command into the local record set, with the
 * blobs they need. Returns how many records were taken; records whose places are not the
 * command's (its working directory or the target dir it names) are refused.
 */
export async function fetchIndex(cacheDir: string, call: CargoCall, store: Store): Promise<number> {
  const index = await store.getAction(indexKey(call.key));
  if (!index) return 0;
  // The unit records, each no larger than a record may be, a batch at a time; each waits in a
  // file of its own until its blobs are here, so none is held in memory past its batch.
  const listed = index.outputs.filter((o) => o.size <= MAX_RECORD_BYTES);
  // Beside the local store's temporary files, which gc removes should this process die.
  const staging = join(cacheDir, "v1", "tmp");
  mkdirSync(staging, { recursive: true });
  const records: { unit: string; file: string }[] = [];
  const wanted = new Map<string, number>();
  try {
    for (const batch of batchesBySize(listed, (o) => o.size, IN_MEMORY_BATCH_BYTES)) {
      const blobs = await getBlobs(
        store,
        batch.map((o) => o.digest),
        new Map(batch.map((o) => [o.digest, o.size])),
      );
      for (const out of batch) {
        const bytes = blobs.get(out.digest);
        if (!bytes) continue;
        let record: UnitRecord;
        try {
          record = JSON.parse(Buffer.from(bytes).toString("utf8")) as UnitRecord;
        } catch {
          continue;
        }
        if (typeof record.unit !== "string" || !isCommandsPlace(record, call)) continue;
        const file = join(staging, `prefill-${process.pid}-${out.digest}`);
        writeFileSync(file, bytes);
        records.push({ unit: record.unit, file });
        // The outputs' blobs not here yet, with the sizes the records declare (a REAPI server needs
        // them, and every read is bounded by them).
        for (const f of Array.isArray(record.files) ? record.files : [])
          if (
            typeof f.digest === "string" &&
            Number.isSafeInteger(f.size) &&
            f.size >= 0 &&
            !store.localBlobPath?.(f.digest)
          )
            wanted.set(f.digest, f.size);
      }
    }
    // Into the local store, big ones streamed to their files; a unit missing one is left to cargo.
    if (wanted.size > 0) {
      if (store.fetchToLocal) await store.fetchToLocal(wanted);
      else
        for (const batch of batchesBySize([...wanted], ([, size]) => size, IN_MEMORY_BATCH_BYTES))
          await getBlobs(
            store,
            batch.map(([d]) => d),
            wanted,
          );
    }
    for (const r of records) writeRecordText(cacheDir, call.key, r.unit, readFileSync(r.file, "utf8"));
  } finally {
    for (const r of records) rmSync(r.file, { force: true });
  }
  return records.length;
}

/** The record writes below the cargo command's working directory or a target dir it names. */
function isCommandsPlace(record: UnitRecord, call: CargoCall): boolean {
  const roots = [call.cwd, ...call.targetDirs.map((d) => resolve(call.cwd, d))];
  const inside = (p: unknown) =>
    typeof p === "string" && resolve(p) === p && roots.some((root) => isWithin(p, root));
  return inside(record.profileDir) && (record.targetRoot === undefined || inside(record.targetRoot.path));
}
