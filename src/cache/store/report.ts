/**
 * What the stores that wrap a shared store saw during one wrapper process: which tier served the
 * records, and the faults they turned into misses. The wrapper adds it to its stats event.
 */
export interface StoreReport {
  /** Records found in the local store / fetched from the shared one. */
  localRecords: number;
  remoteRecords: number;
  /** Records from the shared store refused as unsafe (climbing paths, huge sizes, bad fields). */
  rejected: number;
  /** Records refused for a missing or wrong signature. */
  unsigned: number;
  /** Requests to the shared store that failed (time-out, refused, server error). */
  remoteErrors: number;
  /** The store was left alone: another process of this build found it failing a moment ago. */
  skipped: boolean;
}

export function newReport(): StoreReport {
  return {
    localRecords: 0,
    remoteRecords: 0,
    rejected: 0,
    unsigned: 0,
    remoteErrors: 0,
    skipped: false,
  };
}
