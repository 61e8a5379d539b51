/**
 * Deadlines of a request to a shared store over HTTP. The whole request (its body read included)
 * has the store's time-out; the first request of a process must also begin to be answered (its
 * headers) within the connect time-out, so a server that accepts connections and never answers
 * costs that, not a request's whole time-out. A body cut off by the deadline is the store failing
 * (a trickle), not a damaged entry.
 */

/** A request that did not end, or did not begin to be answered, in time. */
export class NoAnswer extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = "NoAnswer";
  }
}

export interface TimedResponse {
  res: Response;
  /** Why the request was stopped, if its deadline passed (its body then breaks off). */
  late(): NoAnswer | undefined;
}

export async function fetchWithin(
  url: string,
  init: RequestInit,
  deadlines: { totalMs: number; headersMs?: number },
): Promise<TimedResponse> {
  const stop = new AbortController();
  const late = () => (stop.signal.reason instanceof NoAnswer ? stop.signal.reason : undefined);
  // unref: a command that is done does not wait for the timer of a request that ended.
  const total = setTimeout(() => stop.abort(new NoAnswer(deadlines.totalMs)), deadlines.totalMs);
  total.unref();
  const firstAnswer =
    deadlines.headersMs === undefined
      ? undefined
      : setTimeout(() => stop.abort(new NoAnswer(deadlines.headersMs!)), deadlines.headersMs);
  try {
    // No compressed answers: fetch would unpack them itself, with no bound (a zstd bomb). Blobs
    // come as stored; a server that compresses anyway sends bytes that fail their digest.
    const headers = new Headers(init.headers);
    headers.set("accept-encoding", "identity");
    const res = await fetch(url, { ...init, headers, decompress: false, signal: stop.signal });
    return { res, late };
  } catch (err) {
    clearTimeout(total);
    throw late() ?? err;
  } finally {
    clearTimeout(firstAnswer);
  }
}
