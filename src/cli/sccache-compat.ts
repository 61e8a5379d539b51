/**
 * The `sccache` name: existing Dockerfiles set RUSTC_WRAPPER=sccache and call its maintenance
 * flags; cc-rs sends C/C++ compiles as `sccache <cc> <args>`.
 */

import { runCcWrapper } from "../cache/cc/wrapper.ts";
import { cacheConfig } from "../cache/engine/config.ts";
import { zeroStats } from "../cache/engine/stats.ts";
import { UsageError } from "../errors.ts";

export async function runSccacheCompat(
  args: string[],
  showStats: (o: { format: "text" | "json"; zero: boolean }) => Promise<number>,
): Promise<number> {
  const [first, ...rest] = args;
  switch (first) {
    case "--show-stats":
    case "-s":
      return await showStats({
        format: rest.includes("--stats-format=json") || rest.includes("json") ? "json" : "text",
        zero: false,
      });
    case "--zero-stats":
    case "-z":
      zeroStats(cacheConfig(process.env).dir);
      return 0;
    case "--start-server":
    case "--stop-server":
      // There is no server: each wrapper process works on its own.
      return 0;
    case undefined:
    case "--help":
    case "-h":
      process.stdout.write(
        "galley (as sccache): RUSTC_WRAPPER=sccache caches rustc; sccache <cc> <args> runs C/C++ compiles.\n" +
          "Flags: --show-stats, --zero-stats, --start-server, --stop-server (no server: they succeed).\n",
      );
      return 0;
    default:
      if (first.startsWith("-"))
        throw new UsageError(
          `unknown sccache flag ${first}`,
          "galley accepts --show-stats, --zero-stats, --start-server, --stop-server",
        );
      // A C/C++/assembler compile from cc-rs.
      return await runCcWrapper(first, rest);
  }
}
