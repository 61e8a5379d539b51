/** The error every store raises for an entry that fails its checks. */

/** Raised (and counted) when a stored entry fails verification; the entry has been removed. */
export class CorruptEntry extends Error {
  constructor(readonly what: string) {
    super(`corrupt cache entry ${what} (removed)`);
    this.name = "CorruptEntry";
  }
}
