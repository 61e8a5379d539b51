/**
 * A Redis proxy on 127.0.0.1: forwards each client command to the real redis-server and parses the
 * RESP2/RESP3 replies, pairing them with the commands in order (clients pipeline), so that a
 * bulk-string reply to GET/GETRANGE of a blob (`cas-zstd:`) or a record (`ac:`) can be rewritten,
 * delayed, trickled, cut short or reset. Replies always leave in the order of the commands.
 */
import { createServer, connect as netConnect, type Socket } from "node:net";
import {
  ascii,
  bytesOf,
  type Connection,
  crlf,
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
  type Mode,
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
  zstdBomb,
} from "./proxy.ts";
import { absurdJson } from "./records.ts";

/** The faults this proxy injects. */
export const REDIS_FAULTS: readonly FaultName[] = [
  "bomb",
  "prefillBomb",
  "oversize",
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

const READS = new Set(["GET", "GETRANGE", "GETEX", "SUBSTR", "GETDEL"]);
const WRITES = new Set([
  "SET",
  "SETEX",
  "PSETEX",
  "SETNX",
  "MSET",
  "APPEND",
  "SETRANGE",
  "DEL",
  "UNLINK",
  "EXPIRE",
  "PEXPIRE",
  "EXPIREAT",
  "PEXPIREAT",
  "PERSIST",
  "FLUSHALL",
  "FLUSHDB",
  "RENAME",
  "RENAMENX",
  "COPY",
  "MOVE",
  "RESTORE",
  "GETSET",
]);
/** Writes whose reply is an integer (the others answer +OK). */
const INTEGER_WRITES =
  /^(DEL|UNLINK|EXPIRE|PEXPIRE|EXPIREAT|PEXPIREAT|PERSIST|RENAMENX|COPY|MOVE|APPEND|SETRANGE|SETNX)$/;

interface Command {
  name: string;
  key: string;
  args: string[];
  raw: Uint8Array;
}

interface Reply {
  raw: Uint8Array;
  /** The payload of a top-level bulk string (`$`), absent for other replies and null bulks. */
  bulk?: Uint8Array;
}

/** One client command from `b`, or undefined when it has not all arrived. */
function parseCommand(b: Uint8Array): { cmd: Command; end: number } | undefined {
  if (b.length === 0) return undefined;
  if (b[0] !== 0x2a) {
    // An inline command (telnet style).
    const eol = crlf(b, 0);
    if (eol < 0) return undefined;
    const words = ascii(b.subarray(0, eol)).trim().split(/\s+/);
    const raw = b.slice(0, eol + 2);
    return {
      cmd: { name: (words[0] ?? "").toUpperCase(), key: words[1] ?? "", args: words.slice(1), raw },
      end: eol + 2,
    };
  }
  const eol = crlf(b, 1);
  if (eol < 0) return undefined;
  const n = Number(ascii(b.subarray(1, eol)));
  let at = eol + 2;
  const args: string[] = [];
  for (let i = 0; i < n; i++) {
    if (at >= b.length) return undefined;
    if (b[at] !== 0x24) throw new Error("redis proxy: expected a bulk string in a command");
    const e = crlf(b, at + 1);
    if (e < 0) return undefined;
    const len = Number(ascii(b.subarray(at + 1, e)));
    if (e + 2 + len + 2 > b.length) return undefined;
    // Only the name and the first arguments matter (a SET's value may be megabytes).
    if (i < 4) args.push(ascii(b.subarray(e + 2, e + 2 + Math.min(len, 512))));
    at = e + 2 + len + 2;
  }
  const name = (args[0] ?? "").toUpperCase();
  return { cmd: { name, key: args[1] ?? "", args: args.slice(1), raw: b.slice(0, at) }, end: at };
}

/** The end of one RESP2/RESP3 value at `at`, or undefined when it has not all arrived. */
function skipValue(b: Uint8Array, at: number): number | undefined {
  if (at >= b.length) return undefined;
  const type = String.fromCharCode(b[at]!);
  const eol = crlf(b, at + 1);
  if (eol < 0) return undefined;
  const head = ascii(b.subarray(at + 1, eol));
  const next = eol + 2;
  switch (type) {
    case "+":
    case "-":
    case ":":
    case "_":
    case "#":
    case ",":
    case "(":
      return next;
    case "$":
    case "!":
    case "=": {
      const len = Number(head);
      if (len < 0) return next;
      return next + len + 2 <= b.length ? next + len + 2 : undefined;
    }
    case "*":
    case "~":
    case ">":
    case "%":
    case "|": {
      const n = Number(head);
      if (n < 0) return next;
      const count = type === "%" || type === "|" ? 2 * n : n;
      let end: number | undefined = next;
      for (let i = 0; i < count && end !== undefined; i++) end = skipValue(b, end);
      // An attribute map goes with the value after it.
      if (type === "|" && end !== undefined) return skipValue(b, end);
      return end;
    }
    default:
      throw new Error(`redis proxy: unknown reply type ${JSON.stringify(type)}`);
  }
}

export interface RedisProxy extends HostileProxy {
  port: number;
}

export async function startRedisProxy(upstreamPort: number): Promise<RedisProxy> {
  const sockets = new Sockets();
  const proxy: RedisProxy = {
    name: "redis",
    supports: REDIS_FAULTS,
    port: 0,
    mode: { writes: "forward" },
    injected: 0,
    seen: newSeen(),
    env: () => ({ GALLEY_STORE: `redis://127.0.0.1:${proxy.port}` }),
    shownAs: () => [`127.0.0.1:${proxy.port}`],
    stop: async () => {
      sockets.closeAll();
      await new Promise((r) => server.close(r));
    },
  };
  const server = createServer((client) => serve(client, upstreamPort, proxy, sockets));
  proxy.port = await new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
  );
  return proxy;
}

function serve(client: Socket, upstreamPort: number, proxy: RedisProxy, sockets: Sockets): void {
  sockets.track(client);
  const upstream = netConnect(upstreamPort, "127.0.0.1");
  sockets.track(upstream);
  const closeBoth = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("close", closeBoth);
  upstream.on("close", () => client.end());

  const conn = { resp3: false, huge: 0 };
  const fromClient = new Incoming();
  const fromServer = new Incoming();
  /** Commands forwarded, waiting for their reply from the server, oldest first. */
  const waiting: { cmd: Command; reply: Deferred<Reply | "hang"> }[] = [];
  /** The answers in command order: each runs when the one before it is written. */
  let chain: Promise<void> = Promise.resolve();

  const answerInOrder = (cmd: Command, reply: Promise<Reply | "hang">) => {
    chain = chain.then(async () => {
      const r = await reply;
      if (client.destroyed) return;
      if (r === "hang") {
        // A write left hanging: nothing more is answered on this connection until it gives up.
        await pause(GIVE_UP_MS, sockets.stopped);
        closeBoth();
        return;
      }
      await answer(cmd, r, proxy.mode, client, upstream, conn, proxy, sockets.stopped);
    });
    chain.catch(() => closeBoth());
  };

  client.on("data", (chunk: Buffer) => {
    fromClient.push(chunk);
    for (;;) {
      let parsed: ReturnType<typeof parseCommand>;
      try {
        parsed = parseCommand(fromClient.view());
      } catch {
        closeBoth();
        return;
      }
      if (!parsed) return;
      fromClient.consume(parsed.end);
      const { cmd } = parsed;
      if (cmd.name === "HELLO" && cmd.args[0] === "3") conn.resp3 = true;
      const mode = proxy.mode;
      if (WRITES.has(cmd.name)) note(proxy.seen, "write");
      else if (READS.has(cmd.name)) note(proxy.seen, kindOf(cmd.key));
      if (WRITES.has(cmd.name) && mode.writes !== "forward") {
        // Acknowledged here and dropped, or never answered.
        if (mode.writes === "hang" && mode.fault === "hangWrites") proxy.injected++;
        const local: Reply | "hang" =
          mode.writes === "hang"
            ? "hang"
            : {
                raw: bytesOf(INTEGER_WRITES.test(cmd.name) ? ":1\r\n" : "+OK\r\n"),
              };
        answerInOrder(cmd, Promise.resolve(local));
        continue;
      }
      const reply = new Deferred<Reply | "hang">();
      waiting.push({ cmd, reply });
      answerInOrder(cmd, reply.promise);
      upstream.write(cmd.raw);
    }
  });

  upstream.on("data", (chunk: Buffer) => {
    fromServer.push(chunk);
    for (;;) {
      const b = fromServer.view();
      let end: number | undefined;
      try {
        end = skipValue(b, 0);
      } catch {
        closeBoth();
        return;
      }
      if (end === undefined) return;
      const raw = b.slice(0, end);
      fromServer.consume(end);
      // Out-of-band pushes belong to no command.
      if (raw[0] === 0x3e) {
        chain = chain.then(() => send(client, raw).then(() => {}));
        continue;
      }
      const next = waiting.shift();
      if (!next) {
        closeBoth();
        return;
      }
      next.reply.resolve({ raw, bulk: bulkPayload(raw) });
    }
  });
}

function bulkPayload(raw: Uint8Array): Uint8Array | undefined {
  if (raw[0] !== 0x24) return undefined;
  const eol = crlf(raw, 1);
  const len = Number(ascii(raw.subarray(1, eol)));
  return len < 0 ? undefined : raw.subarray(eol + 2, eol + 2 + len);
}

function kindOf(key: string): "blob" | "record" | "other" {
  if (/(^|:)cas-zstd:[0-9a-f]{64}$/.test(key)) return "blob";
  if (/(^|:)ac:[0-9a-f]{64}$/.test(key)) return "record";
  return "other";
}

const bulk = (payload: Uint8Array) => {
  const head = bytesOf(`$${payload.length}\r\n`);
  const out = new Uint8Array(head.length + payload.length + 2);
  out.set(head, 0);
  out.set(payload, head.length);
  out.set([13, 10], head.length + payload.length);
  return out;
};

async function answer(
  cmd: Command,
  reply: Reply,
  mode: Mode,
  client: Socket,
  upstream: Socket,
  conn: Connection & { resp3: boolean },
  proxy: RedisProxy,
  stopped: Promise<void>,
): Promise<void> {
  const kind = READS.has(cmd.name) ? kindOf(cmd.key) : "other";
  const fault = mode.fault;
  const payload = reply.bulk;
  const pass = () => send(client, reply.raw);
  if (fault === undefined || kind === "other") return void (await pass());
  if (fault === "hangWrites") {
    proxy.injected++;
    return void (await send(client, bytesOf(conn.resp3 ? "_\r\n" : "$-1\r\n")));
  }
  if (payload === undefined) return void (await pass());
  const blobFault = kind === "blob";
  switch (fault) {
    case "bomb":
      if (!blobFault) break;
      proxy.injected++;
      return void (await send(client, bulk(await zstdBomb())));
    case "prefillBomb":
      if (!blobFault || isUnitRecord(tryUnpack(payload))) break;
      proxy.injected++;
      return void (await send(client, bulk(await zstdBomb())));
    case "oversize":
      if (!blobFault || !hugeAllowed(conn)) break;
      proxy.injected++;
      if (await send(client, bytesOf(`$${HUGE_BYTES}\r\n`)))
        if (await sendFill(client, HUGE_BYTES, stopped)) await send(client, bytesOf("\r\n"));
      return;
    case "truncate":
      if (!blobFault) break;
      proxy.injected++;
      return void (await send(client, bulk(payload.subarray(0, Math.floor(payload.length / 2)))));
    case "reset": {
      if (!blobFault) break;
      proxy.injected++;
      const whole = reply.raw;
      await send(client, whole.subarray(0, Math.floor(whole.length / 2)));
      reset(client);
      upstream.destroy();
      return;
    }
    case "trickle":
      if (!blobFault) break;
      proxy.injected++;
      if (!(await trickle(client, reply.raw, stopped))) client.destroy();
      return;
    case "wrongDigest":
      if (!blobFault) break;
      proxy.injected++;
      return void (await send(client, bulk(otherPackedBlob(payload) ?? flipLast(payload))));
    case "garbageRecord":
      if (blobFault) break;
      proxy.injected++;
      return void (await send(client, bulk(GARBAGE)));
    case "hugeRecord":
      if (blobFault || !hugeAllowed(conn)) break;
      proxy.injected++;
      if (await send(client, bytesOf(`$${HUGE_BYTES + payload.length}\r\n`)))
        if (await sendFill(client, HUGE_BYTES, stopped, SPACES))
          await send(client, new Uint8Array([...payload, 13, 10]));
      return;
    case "absurdSize":
    case "absurdCount": {
      if (blobFault) break;
      const text = absurdJson(
        Buffer.from(payload).toString("utf8"),
        fault === "absurdSize" ? "size" : "count",
      );
      if (text === undefined) break;
      proxy.injected++;
      return void (await send(client, bulk(new Uint8Array(Buffer.from(text)))));
    }
    default:
      break;
  }
  await pass();
}
