/** One wrapper invocation as statistics and the build journal record it. */

export type Outcome = "hit" | "miss" | "passthrough" | "error";

export interface StatEvent {
  outcome: Outcome;
  /** Passthrough or error reason; for misses, whether the result was stored. */
  reason?: string;
  crate?: string;
  /** hits: compile time recorded when the entry was stored; misses: measured compile time. */
  compileMs?: number;
  /** hits: restored by prefill, before cargo looked at the unit (no wrapper ran for it). */
  prefilled?: boolean;
  /** hits: time to restore. */
  restoreMs?: number;
  bytesRead?: number;
  bytesWritten?: number;
  /** The wrapper's own time from start to exit. */
  wrapperMs?: number;
  /**
   * The CPU (user+sys) of the wrapper process itself up to its record, compilers and build scripts
   * excluded: what galley costs a build. On the first event of a process only.
   */
  cpuMs?: number;
  /** The peak resident memory of the wrapper process up to its record, in KiB (beside cpuMs). */
  peakRssKb?: number;
  corrupt?: number;
  /** A failed compile started by a build script: a feature probe, failing on purpose. */
  probe?: boolean;
  /** Misses: what the lookup found, then the key parts that changed (as `galley explain` says). */
  why?: string[];
  /** With a shared store: which tier served the records of this lookup. */
  tier?: "local" | "remote";
  /** Records from the shared store refused as unsafe / for their signature. */
  rejected?: number;
  unsigned?: number;
  /** Failed requests to the shared store, and whether it was left alone after another's failure. */
  remoteErrors?: number;
  storeSkipped?: boolean;
  /**
   * Not a unit: what the upload queue's drainer or the prefill probe saw. Its fault counts are summed;
   * its outcome is not counted.
   */
  side?: "uploads" | "probe";
  /** A drainer of the upload queue: jobs it took, and those it dropped (the store failing). */
  uploadsQueued?: number;
  uploadsDropped?: number;
}
