/** Running the real compiler: as if galley were not there, or with its output kept for the cache. */
import { writeAllSync } from "../../util/write-sync.ts";
import { stdioWithJobserver } from "./jobserver.ts";

export interface Captured {
  code: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
}

/** All stdio inherited (in `env` when given, else galley's own environment) (and cargo's jobserver descriptors passed on). */
export async function runPlain(argv: string[], env?: Record<string, string | undefined>): Promise<number> {
  const stdio = stdioWithJobserver(process.env, ["inherit", "inherit", "inherit"]);
  // biome-ignore lint/suspicious/noExplicitAny: Bun's stdio tuple type does not admit raw fds past index 2
  const proc = Bun.spawn(argv, { stdio: stdio as any, ...(env ? { env } : {}) });
  return await proc.exited;
}

/** Output streamed through as it comes (cargo's pipelining waits for rustc's metadata notice) and kept. */
export async function runCapturing(
  argv: string[],
  env?: Record<string, string | undefined>,
): Promise<Captured> {
  const stdio = stdioWithJobserver(process.env, ["inherit", "pipe", "pipe"]);
  // biome-ignore lint/suspicious/noExplicitAny: Bun's stdio tuple type does not admit raw fds past index 2
  const proc = Bun.spawn(argv, { stdio: stdio as any, ...(env ? { env } : {}) });
  // A reader loop, not `for await`: the async iterator costs ~0.2 ms of CPU more per compile.
  const pump = async (stream: ReadableStream<Uint8Array>, fd: number) => {
    const chunks: Uint8Array[] = [];
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      writeAllSync(fd, value);
    }
    return Buffer.concat(chunks);
  };
  const [stdout, stderr, code] = await Promise.all([
    pump(proc.stdout as unknown as ReadableStream<Uint8Array>, 1),
    pump(proc.stderr as unknown as ReadableStream<Uint8Array>, 2),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}
