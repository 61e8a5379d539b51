/**
 * The bounds every read from a shared store is held to. What a shared store sends is hostile until
 * checked: a record or a blob is read only up to the size that the record or the digest declares,
 * and anything past a bound is a damaged entry (a miss), never a reason to hold more in memory.
 */

/** A record (an action result, an index of prefill records) is never larger than this on the wire. */
export const MAX_RECORD_BYTES = 4 * 1024 * 1024;

/** Outputs one record may name: far more than one rustc, cc or build-script run writes. */
export const MAX_RECORD_OUTPUTS = 10_000;

/** No single output of one rustc or cc run comes near this. */
export const MAX_OUTPUT_BYTES = 4 * 2 ** 30;

/** Blobs up to this size are read into memory; larger ones stream to a file of the local store. */
export const IN_MEMORY_BLOB_MAX = 8 * 1024 * 1024;

/** What one read of several blobs holds in memory at once: the rest waits for the next batch. */
export const IN_MEMORY_BATCH_BYTES = 16 * 1024 * 1024;

/**
 * The peak resident memory one galley wrapper process may reach, whatever it reads or stores: the
 * executable's own footprint plus the batches above plus a streaming buffer. bench/memory.ts and
 * the hostile-store tests check it.
 */
export const WRAPPER_MEMORY_BUDGET_BYTES = 192 * 1024 * 1024;
