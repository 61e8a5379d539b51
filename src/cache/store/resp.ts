/**
 * A small Redis client for the store's few commands, made for reads that must be bounded: a
 * reply's length comes before its bytes, so a value larger than the caller allows is passed over
 * (read and dropped, never held) and answered as Oversize, while the replies after it stay in step.
 * Commands are pipelined: each is sent at once and answered in order on one connection.
 */
import type { Socket } from "bun";
import { Oversize } from "./bounded.ts";

export type Reply = null | number | string | Uint8Array;

/** An error reply (`-ERR …`): the server answered, and said no. */
export class RedisError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RedisError";
  }
}

/** The connection failed or the server broke the protocol: nothing more is asked on it. */
export class RedisConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RedisConnectionError";
  }
}

export interface RespOptions {
  host: string;
  port: number;
  tls?: boolean;
  /** PEM of a CA to trust besides the system's. */
  ca?: string;
  username?: string;
  password?: string;
  db?: number;
  connectTimeoutMs: number;
}

interface Waiting {
  /** The largest bulk string this command takes. */
  limit: number;
  what: string;
  resolve(reply: Reply): void;
  reject(err: Error): void;
}

/** Longest status, error or length line a server may send. */
const MAX_LINE = 64 * 1024;
const CRLF = Buffer.from("\r\n");

export class RespClient {
  private socket: Socket<undefined> | undefined;
  private connection: Promise<void> | undefined;
  private failure: Error | undefined;
  private readonly waiting: Waiting[] = [];
  private readonly incoming: Buffer[] = [];
  private buffered = 0;
  /** Bytes of a refused bulk string (and its CRLF) still to drop. */
  private skip = 0;
  /** The length of the bulk string being read, once its header is in. */
  private bulk: number | undefined;
  private unsent: Buffer[] = [];

  constructor(private readonly options: RespOptions) {}

  /**
   * Sends one command; bulk replies longer than `limit` bytes reject with Oversize. The first call
   * connects (AUTH and SELECT travel ahead of it on the same write).
   */
  async command(args: (string | Uint8Array)[], limit = MAX_LINE, what = String(args[0])): Promise<Reply> {
    await this.connect();
    return await this.send(args, limit, what);
  }

  close(): void {
    this.fail(new RedisConnectionError("closed"));
  }

  private connect(): Promise<void> {
    this.connection ??= this.open();
    return this.connection;
  }

  private async open(): Promise<void> {
    const o = this.options;
    const started = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RedisConnectionError(`no connection within ${o.connectTimeoutMs} ms`)),
        o.connectTimeoutMs,
      );
    });
    try {
      this.socket = await Promise.race([
        Bun.connect<undefined>({
          hostname: o.host,
          port: o.port,
          ...(o.tls ? { tls: o.ca ? { ca: o.ca } : true } : {}),
          socket: {
            data: (_s, chunk) => this.onData(chunk),
            drain: () => this.flush(),
            close: () => this.fail(new RedisConnectionError("the server closed the connection")),
            error: (_s, err) => this.fail(new RedisConnectionError(err.message)),
          },
        }),
        timeout,
      ]);
    } catch (err) {
      const e = err instanceof RedisConnectionError ? err : new RedisConnectionError((err as Error).message);
      this.fail(e);
      throw e;
    } finally {
      clearTimeout(timer);
    }
    // Sent ahead of the first command, without waiting: their answers come first, in order. The
    // first of them must be answered within what is left of the connect time-out: a server that
    // accepts connections and never answers costs that long, not a request's whole time-out.
    const setup: Promise<Reply>[] = [];
    if (o.password)
      setup.push(
        this.send(o.username ? ["AUTH", o.username, o.password] : ["AUTH", o.password], MAX_LINE, "AUTH"),
      );
    if (o.db) setup.push(this.send(["SELECT", String(o.db)], MAX_LINE, "SELECT"));
    if (setup.length === 0) setup.push(this.send(["PING"], MAX_LINE, "PING"));
    for (const p of setup)
      p.catch((err: Error) =>
        this.fail(
          err instanceof RedisError ? new RedisConnectionError(`credentials refused (${err.message})`) : err,
        ),
      );
    const left = Math.max(1, o.connectTimeoutMs - (performance.now() - started));
    const silence = setTimeout(
      () => this.fail(new RedisConnectionError(`no answer within ${o.connectTimeoutMs} ms of connecting`)),
      left,
    );
    void setup[0]!.finally(() => clearTimeout(silence)).catch(() => {});
  }

  private send(args: (string | Uint8Array)[], limit: number, what: string): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
    for (const a of args) {
      const bytes =
        typeof a === "string" ? Buffer.from(a) : Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
    }
    const reply = new Promise<Reply>((resolve, reject) =>
      this.waiting.push({ limit, what, resolve, reject }),
    );
    this.unsent.push(...parts);
    this.flush();
    return reply;
  }

  private flush(): void {
    const socket = this.socket;
    if (!socket || this.failure) return;
    while (this.unsent.length > 0) {
      const head = this.unsent[0]!;
      const n = socket.write(head);
      if (n < head.length) {
        this.unsent[0] = head.subarray(Math.max(n, 0));
        return; // the rest goes on `drain`
      }
      this.unsent.shift();
    }
  }

  private onData(chunk: Buffer): void {
    if (this.failure) return;
    this.incoming.push(chunk);
    this.buffered += chunk.length;
    try {
      while (this.step()) {}
    } catch (err) {
      this.fail(err as Error);
    }
  }

  /** Takes one step of the reply in front; false when it needs more bytes. */
  private step(): boolean {
    if (this.skip > 0) {
      this.skip -= this.drop(Math.min(this.skip, this.buffered));
      return this.skip === 0 && this.buffered > 0;
    }
    if (this.bulk !== undefined) {
      if (this.buffered < this.bulk + 2) return false;
      const bytes = this.take(this.bulk);
      if (!this.take(2).equals(CRLF)) throw new RedisConnectionError("malformed reply (bulk string end)");
      this.bulk = undefined;
      this.answer((w) => w.resolve(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
      return true;
    }
    const line = this.line();
    if (line === undefined) return false;
    const kind = line[0];
    const rest = line.slice(1);
    if (kind === "+") this.answer((w) => w.resolve(rest));
    else if (kind === "-") this.answer((w) => w.reject(new RedisError(rest)));
    else if (kind === ":") {
      const n = Number(rest);
      if (!Number.isSafeInteger(n)) throw new RedisConnectionError("malformed reply (integer)");
      this.answer((w) => w.resolve(n));
    } else if (kind === "$") {
      const n = Number(rest);
      if (n === -1) this.answer((w) => w.resolve(null));
      else if (!Number.isSafeInteger(n) || n < 0) throw new RedisConnectionError("malformed reply (length)");
      else if (n > this.front().limit) {
        const w = this.front();
        this.skip = n + 2;
        this.answer(() => w.reject(new Oversize(`${w.what} answer`, w.limit)));
      } else this.bulk = n;
    } else throw new RedisConnectionError(`unexpected reply type ${JSON.stringify(kind)}`);
    return true;
  }

  private front(): Waiting {
    const w = this.waiting[0];
    if (!w) throw new RedisConnectionError("a reply nobody asked for");
    return w;
  }

  private answer(how: (w: Waiting) => void): void {
    const w = this.front();
    this.waiting.shift();
    how(w);
  }

  /** The next line without its CRLF, or undefined when it is not all here. */
  private line(): string | undefined {
    const head = this.peek(Math.min(this.buffered, MAX_LINE + 2));
    const end = head.indexOf(CRLF);
    if (end < 0) {
      if (this.buffered > MAX_LINE) throw new RedisConnectionError("malformed reply (line too long)");
      return undefined;
    }
    const text = this.take(end).toString("latin1");
    this.drop(2);
    return text;
  }

  private peek(n: number): Buffer {
    if (this.incoming.length === 0) return Buffer.alloc(0);
    if (this.incoming[0]!.length >= n) return this.incoming[0]!.subarray(0, n);
    const whole = Buffer.concat(this.incoming);
    this.incoming.length = 0;
    this.incoming.push(whole);
    return whole.subarray(0, n);
  }

  private take(n: number): Buffer {
    const bytes = Buffer.from(this.peek(n));
    this.drop(n);
    return bytes;
  }

  /** Drops up to `n` buffered bytes; returns how many. */
  private drop(n: number): number {
    let left = n;
    while (left > 0 && this.incoming.length > 0) {
      const head = this.incoming[0]!;
      if (head.length <= left) {
        left -= head.length;
        this.incoming.shift();
      } else {
        this.incoming[0] = head.subarray(left);
        left = 0;
      }
    }
    this.buffered -= n - left;
    return n - left;
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const w of this.waiting.splice(0)) w.reject(err);
    this.incoming.length = 0;
    this.unsent = [];
    this.socket?.end();
  }
}
