/**
 * Once a process has left its uploads to the background queue, the queue sends them again from
 * the local store: an upload still streaming in the process stops at its next chunk rather than
 * keep sending (and holding buffers) until the process exits.
 */
let leftToQueue = false;

export function leaveUploadsToQueue(): void {
  leftToQueue = true;
}

export function uploadsLeftToQueue(): boolean {
  return leftToQueue;
}

/** An upload stopped because the queue sends it. */
export class LeftToQueue extends Error {
  constructor() {
    super("upload left to the background queue");
    this.name = "LeftToQueue";
  }
}
