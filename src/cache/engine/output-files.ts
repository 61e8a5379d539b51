/**
 * Writing a restored output. Always a fresh file, never a link into the store. The old file is
 * unlinked first, not overwritten: cargo hardlinks outputs (target/release/app is deps/app-<hash>),
 * and a write through one name would change the other. No one reads a unit's outputs while it
 * builds (cargo orders the units), and a torn file after a crash has no fingerprint, so cargo
 * rebuilds it; writing in place spares the rename, which costs a journal flush on ext4 when it
 * replaces a file.
 */
import { chmodSync, copyFileSync, rmSync, statSync, writeFileSync } from "node:fs";

/** From bytes in memory (a shared store's blob, or text with its paths rewritten). */
export function writeOutput(dest: string, bytes: Uint8Array, mode: number): void {
  rmSync(dest, { force: true });
  writeFileSync(dest, bytes, { mode });
  fixMode(dest, mode);
}

/**
 * From a verified blob file of the local store: the kernel copies it (a reflink where the file
 * system has them, else copy_file_range), so its bytes never pass through this process.
 */
export function copyOutput(dest: string, blob: string, mode: number): void {
  rmSync(dest, { force: true });
  copyFileSync(blob, dest);
  fixMode(dest, mode);
}

/** The umask may have narrowed a mode, and a copy takes the blob's. */
function fixMode(dest: string, mode: number): void {
  if ((statSync(dest).mode & 0o7777) !== mode) chmodSync(dest, mode);
}
