/**
 * Whole writes to a file descriptor, synchronously. The wrapper exits with process.exit() as soon as
 * it is done (waiting for the runtime to wind down costs more than a cache hit), so nothing it
 * prints may sit in an asynchronous stream buffer.
 */
import { writeSync } from "node:fs";

const sleeper = new Int32Array(new SharedArrayBuffer(4));

export function writeAllSync(fd: number, data: Uint8Array | string): void {
  let bytes = typeof data === "string" ? Buffer.from(data) : data;
  while (bytes.length > 0) {
    try {
      const n = writeSync(fd, bytes);
      bytes = bytes.subarray(n);
    } catch (err) {
      // A non-blocking pipe that is full: wait a moment for the reader (cargo).
      if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
      Atomics.wait(sleeper, 0, 0, 1);
    }
  }
}
