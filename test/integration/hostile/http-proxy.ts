/**
 * An HTTP/1.1 proxy on 127.0.0.1 for bazel-remote's HTTP side, nginx WebDAV and S3 (s3s-fs). It
 * forwards each request byte for byte over a connection of its own to the upstream (so the Host
 * header and everything an S3 signature covers arrive as the client sent them), reads the whole
 * answer, and writes it back as it came or rewritten: body replaced, a Content-Length that lies, a
 * chunked body that never ends, trickled, truncated, reset. Requests on one connection are answered
 * in turn (HTTP/1.1 clients do not pipeline).
 */
import { createServer, connect as netConnect, type Socket } from "node:net";
import {
  ascii,
  bytesOf,
  type Connection,
  Deferred,
  type FaultName,
  flipLast,
  GARBAGE,
  GIVE_UP_MS,
  type HostileProxy,
  HUGE_BYTES,
  hugeAllowed,
  Incoming,
  isUnitRecord,
  LYING_BYTES,
  newSeen,
  note,
  otherPackedBlob,
  pause,
  reset,
  Sockets,
  SPACES,
  send,
  sendFill,
  trickle,
  tryUnpack,
  ZEROS,
  zstdBomb,
} from "./proxy.ts";
import { absurdJson, absurdProto, unknownFieldHeader } from "./records.ts";

/** The faults this proxy injects. */
export const HTTP_FAULTS: readonly FaultName[] = [
  "bomb",
  "prefillBomb",
  "oversize",
  "lyingLength",
  "endless",
  "truncate",
  "reset",
  "trickle",
  "wrongDigest",
  "garbageRecord",
  "hugeRecord",
  "absurdSize",
  "absurdCount",
  "hangWrites",
];

const WRITE_METHODS = new Set(["PUT", "POST", "DELETE", "PATCH", "MKCOL", "MOVE", "COPY"]);

interface Message {
  /** Request: method and target; response: status. */
  method: string;
  target: string;
  status: number;
  headers: [string, string][];
  /** The body, de-chunked. */
  body: Uint8Array;
  /** The message as it arrived. */
  raw: Uint8Array;
}

const header = (m: Message, name: string) => m.headers.find(([n]) => n.toLowerCase() === name)?.[1];

/**
 * One message from `b`, or undefined while it has not all arrived. A response to HEAD, or with a
 * status without a body, is the head alone; a response without length ends when the server closes
 * (`closed`).
 */
function parseMessage(
  b: Uint8Array,
  response: boolean,
  requestMethod = "GET",
  closed = false,
): { message: Message; end: number } | undefined {
  const headEnd = Buffer.from(b.buffer, b.byteOffset, b.byteLength).indexOf("\r\n\r\n", 0, "latin1");
  if (headEnd < 0) return undefined;
  const lines = ascii(b.subarray(0, headEnd)).split("\r\n");
  const first = (lines[0] ?? "").split(" ");
  const headers = lines.slice(1).map((l): [string, string] => {
    const i = l.indexOf(":");
    return [l.slice(0, i).trim(), l.slice(i + 1).trim()];
  });
  const message: Message = {
    method: response ? "" : (first[0] ?? ""),
    target: response ? "" : (first[1] ?? ""),
    status: response ? Number(first[1]) : 0,
    headers,
    body: new Uint8Array(0),
    raw: new Uint8Array(0),
  };
  const start = headEnd + 4;
  const done = (end: number, body: Uint8Array) => {
    message.body = body;
    message.raw = b.slice(0, end);
    return { message, end };
  };
  const noBody =
    response &&
    (requestMethod === "HEAD" || message.status < 200 || message.status === 204 || message.status === 304);
  if (noBody) return done(start, new Uint8Array(0));
  if ((header(message, "transfer-encoding") ?? "").toLowerCase().includes("chunked")) {
    const parts: Uint8Array[] = [];
    let at = start;
    for (;;) {
      const eol = Buffer.from(b.buffer, b.byteOffset, b.byteLength).indexOf("\r\n", at, "latin1");
      if (eol < 0) return undefined;
      const size = Number.parseInt(ascii(b.subarray(at, eol)).split(";")[0]!, 16);
      if (size === 0) {
        // The last chunk, then trailers (if any) up to an empty line.
        const blank = Buffer.from(b.buffer, b.byteOffset, b.byteLength).indexOf("\r\n\r\n", eol, "latin1");
        return blank < 0 ? undefined : done(blank + 4, Buffer.concat(parts));
      }
      if (eol + 2 + size + 2 > b.length) return undefined;
      parts.push(b.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
  }
  const length = header(message, "content-length");
  if (length !== undefined) {
    const end = start + Number(length);
    return end <= b.length ? done(end, b.subarray(start, end)) : undefined;
  }
  if (!response) return done(start, new Uint8Array(0));
  return closed ? done(b.length, b.subarray(start)) : undefined;
}

export interface HttpProxyOptions {
  /** bazel-remote HTTP, WebDAV or S3: for the report. */
  name: string;
  upstreamPort: number;
  /** The store's settings for galley, given the proxy's base URL (http://127.0.0.1:port). */
  env(base: string): Record<string, string>;
  /** Records are galley's JSON (S3) or REAPI ActionResults (bazel-remote, WebDAV). */
  records: "json" | "proto";
  /** How galley names the store in its messages, if not by the proxy's address (S3: by bucket). */
  shownAs?: string;
}

export interface HttpProxy extends HostileProxy {
  port: number;
}

export async function startHttpProxy(options: HttpProxyOptions): Promise<HttpProxy> {
  const sockets = new Sockets();
  const proxy: HttpProxy = {
    name: options.name,
    supports: HTTP_FAULTS,
    port: 0,
    mode: { writes: "forward" },
    injected: 0,
    seen: newSeen(),
    env: () => options.env(`http://127.0.0.1:${proxy.port}`),
    shownAs: () => [`127.0.0.1:${proxy.port}`, ...(options.shownAs ? [options.shownAs] : [])],
    stop: async () => {
      sockets.closeAll();
      await new Promise((r) => server.close(r));
    },
  };
  const server = createServer((client) => serve(client, options, proxy, sockets));
  proxy.port = await new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
  );
  return proxy;
}

/** Blob paths: /cas/<sha256> (bazel-remote, WebDAV), …/cas-zstd/<sha256> (S3, zstd-packed). */
function kindOf(target: string): { kind: "blob" | "record" | "other"; packed: boolean } {
  const path = target.split("?")[0]!;
  if (/\/cas-zstd\/[0-9a-f]{64}$/.test(path)) return { kind: "blob", packed: true };
  if (/\/cas\/[0-9a-f]{64}$/.test(path)) return { kind: "blob", packed: false };
  if (/\/ac\/[0-9a-f]{64}$/.test(path)) return { kind: "record", packed: false };
  return { kind: "other", packed: false };
}

/** The upstream connection of one client connection, opened again when the server closed it. */
class Upstream {
  private sock: Socket | undefined;
  private readonly incoming = new Incoming();
  private waiter: { method: string; done: Deferred<Message> } | undefined;
  private closed = false;

  constructor(
    private readonly port: number,
    private readonly sockets: Sockets,
  ) {}

  async exchange(request: Message): Promise<Message> {
    if (!this.sock || this.sock.destroyed) this.open();
    const done = new Deferred<Message>();
    this.waiter = { method: request.method, done };
    this.sock!.write(request.raw);
    const timer = setTimeout(() => done.reject(new Error("upstream did not answer")), GIVE_UP_MS);
    try {
      return await done.promise;
    } finally {
      clearTimeout(timer);
    }
  }

  destroy(): void {
    this.sock?.destroy();
  }

  private open(): void {
    this.closed = false;
    this.incoming.consume(this.incoming.view().length);
    const sock = netConnect(this.port, "127.0.0.1");
    this.sockets.track(sock);
    sock.on("data", (c: Buffer) => {
      this.incoming.push(c);
      this.parse();
    });
    sock.on("close", () => {
      this.closed = true;
      this.parse();
      this.waiter?.done.reject(new Error("upstream closed"));
      this.waiter = undefined;
    });
    this.sock = sock;
  }

  private parse(): void {
    while (this.waiter) {
      const parsed = parseMessage(this.incoming.view(), true, this.waiter.method, this.closed);
      if (!parsed) return;
      this.incoming.consume(parsed.end);
      // Interim answers (100 Continue) were sent to the client by the proxy itself.
      if (parsed.message.status >= 100 && parsed.message.status < 200) continue;
      const w = this.waiter;
      this.waiter = undefined;
      w.done.resolve(parsed.message);
    }
  }
}

function serve(client: Socket, options: HttpProxyOptions, proxy: HttpProxy, sockets: Sockets): void {
  sockets.track(client);
  const upstream = new Upstream(options.upstreamPort, sockets);
  const conn: Connection = { huge: 0 };
  client.on("close", () => upstream.destroy());
  const incoming = new Incoming();
  let busy = false;
  let continued = false;

  const pump = async () => {
    if (busy) return;
    busy = true;
    try {
      for (;;) {
        const b = incoming.view();
        const parsed = parseMessage(b, false);
        if (!parsed) {
          // A client that waits for 100 Continue before its body.
          const head = ascii(b.subarray(0, Math.min(b.length, 8192))).toLowerCase();
          if (!continued && head.includes("\r\n\r\n") && /\r\nexpect:\s*100-continue/.test(head)) {
            continued = true;
            await send(client, bytesOf("HTTP/1.1 100 Continue\r\n\r\n"));
          }
          return;
        }
        incoming.consume(parsed.end);
        continued = false;
        const keepOpen = await handle(
          parsed.message,
          client,
          upstream,
          conn,
          options,
          proxy,
          sockets.stopped,
        );
        if (!keepOpen || client.destroyed) {
          client.destroy();
          return;
        }
      }
    } catch {
      client.destroy();
    } finally {
      busy = false;
    }
  };
  client.on("data", (chunk: Buffer) => {
    incoming.push(chunk);
    void pump();
  });
}

function head(status: number, reason: string, headers: [string, string][]): Uint8Array {
  return bytesOf(`HTTP/1.1 ${status} ${reason}\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n`);
}

/** The upstream's headers without those about the body's length and coding. */
function keptHeaders(res: Message): [string, string][] {
  return res.headers.filter(
    ([n]) =>
      !["content-length", "transfer-encoding", "content-encoding", "connection"].includes(n.toLowerCase()),
  );
}

const NO_SUCH_KEY = bytesOf(
  '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>',
);

/** Answers one request; false when the connection is to close. */
async function handle(
  req: Message,
  client: Socket,
  upstream: Upstream,
  conn: Connection,
  options: HttpProxyOptions,
  proxy: HttpProxy,
  stopped: Promise<void>,
): Promise<boolean> {
  const mode = proxy.mode;
  const { kind, packed } = kindOf(req.target);
  const write = WRITE_METHODS.has(req.method);
  note(proxy.seen, write ? "write" : `${req.method} ${kind}`);
  if (write && mode.writes === "sink") {
    const status = req.method === "DELETE" ? 204 : 200;
    return await send(
      client,
      head(status, "OK", [
        ["Content-Length", "0"],
        ["ETag", '"hostile-sink"'],
      ]),
    );
  }
  if (write && mode.writes === "hang") {
    if (mode.fault === "hangWrites") proxy.injected++;
    await pause(GIVE_UP_MS, stopped);
    return false;
  }
  const fault = mode.fault;
  if (fault === "hangWrites" && req.method === "GET" && kind !== "other") {
    proxy.injected++;
    return await send(
      client,
      Buffer.concat([
        head(404, "Not Found", [
          ["Content-Type", "application/xml"],
          ["Content-Length", String(NO_SUCH_KEY.length)],
        ]),
        NO_SUCH_KEY,
      ]),
    );
  }
  let res: Message;
  try {
    res = await upstream.exchange(req);
  } catch {
    return false;
  }
  const closeAfter = (header(res, "connection") ?? "").toLowerCase() === "close";
  const pass = async () => (await send(client, res.raw)) && !closeAfter;
  if (
    fault === undefined ||
    req.method !== "GET" ||
    (res.status !== 200 && res.status !== 206) ||
    kind === "other"
  )
    return await pass();
  const kept = keptHeaders(res);
  const whole = async (body: Uint8Array, extra: [string, string][] = []) => {
    proxy.injected++;
    return await send(
      client,
      Buffer.concat([head(200, "OK", [...kept, ...extra, ["Content-Length", String(body.length)]]), body]),
    );
  };
  const body = res.body;
  if (kind === "blob") {
    switch (fault) {
      case "bomb":
      case "prefillBomb": {
        if (fault === "prefillBomb" && isUnitRecord(packed ? tryUnpack(body) : body)) return await pass();
        const bomb = await zstdBomb();
        // A packed blob is a zstd frame already; a plain one arrives zstd-coded by the HTTP layer.
        return await whole(bomb, packed ? [] : [["Content-Encoding", "zstd"]]);
      }
      case "oversize":
        if (!hugeAllowed(conn)) return await pass();
        proxy.injected++;
        if (!(await send(client, head(200, "OK", [...kept, ["Content-Length", String(HUGE_BYTES)]]))))
          return false;
        return await sendFill(client, HUGE_BYTES, stopped);
      case "lyingLength":
        proxy.injected++;
        if (!(await send(client, head(200, "OK", [...kept, ["Content-Length", String(LYING_BYTES)]]))))
          return false;
        await sendFill(client, LYING_BYTES, stopped);
        return false;
      case "endless": {
        proxy.injected++;
        if (!(await send(client, head(200, "OK", [...kept, ["Transfer-Encoding", "chunked"]])))) return false;
        const chunk = Buffer.concat([bytesOf(`${ZEROS.length.toString(16)}\r\n`), ZEROS, bytesOf("\r\n")]);
        const end = Date.now() + GIVE_UP_MS;
        let stop = false;
        stopped.then(() => (stop = true));
        while (!stop && Date.now() < end && (await send(client, chunk))) {}
        return false;
      }
      case "truncate":
        return await whole(body.subarray(0, Math.floor(body.length / 2)));
      case "reset":
        proxy.injected++;
        await send(client, head(200, "OK", [...kept, ["Content-Length", String(body.length)]]));
        await send(client, body.subarray(0, Math.floor(body.length / 2)));
        reset(client);
        return false;
      case "trickle":
        proxy.injected++;
        if (!(await send(client, head(200, "OK", [...kept, ["Content-Length", String(body.length)]]))))
          return false;
        return await trickle(client, body, stopped);
      case "wrongDigest":
        return await whole(packed ? (otherPackedBlob(body) ?? flipLast(body)) : flipLast(body));
      default:
        return await pass();
    }
  }
  // A record.
  switch (fault) {
    case "garbageRecord":
      return await whole(GARBAGE);
    case "hugeRecord": {
      if (!hugeAllowed(conn)) return await pass();
      proxy.injected++;
      if (options.records === "json") {
        // Whitespace, then the record: still one valid JSON value.
        const total = HUGE_BYTES + body.length;
        if (!(await send(client, head(200, "OK", [...kept, ["Content-Length", String(total)]]))))
          return false;
        if (!(await sendFill(client, HUGE_BYTES, stopped, SPACES))) return false;
        return await send(client, body);
      }
      // The record, then an unknown field of HUGE_BYTES that a protobuf reader skips.
      const field = unknownFieldHeader(HUGE_BYTES);
      const total = body.length + field.length + HUGE_BYTES;
      if (!(await send(client, head(200, "OK", [...kept, ["Content-Length", String(total)]])))) return false;
      if (!(await send(client, Buffer.concat([body, field])))) return false;
      return await sendFill(client, HUGE_BYTES, stopped);
    }
    case "absurdSize":
    case "absurdCount": {
      const how = fault === "absurdSize" ? "size" : "count";
      if (options.records === "json") {
        const text = absurdJson(Buffer.from(body).toString("utf8"), how);
        return text === undefined ? await pass() : await whole(new Uint8Array(Buffer.from(text)));
      }
      const rewritten = absurdProto(body, how);
      return rewritten === undefined ? await pass() : await whole(rewritten);
    }
    default:
      return await pass();
  }
}
