/**
 * For bench/memory.ts: runs a command (galley as RUSTC_WRAPPER) and appends its whole-process peak
 * resident memory, as the kernel reports it when the process is reaped (wait4), to a log. This is
 * the check on galley's own `peakRssKb` stamp, which is taken when the process records its stats:
 * anything the process does after that shows here and not there. wait4 counts the largest child the
 * process reaped too, so for a miss it is at least rustc's own peak.
 *
 *   bun bench/peak-rss.ts <log> <command> [args...]
 */
import { appendFileSync } from "node:fs";

const [log, ...argv] = process.argv.slice(2);
if (!log || argv.length === 0) throw new Error("usage: peak-rss.ts <log> <command> [args...]");
const p = Bun.spawnSync(argv, { stdio: ["inherit", "inherit", "inherit"] });
const at = argv.indexOf("--crate-name");
const what = at >= 0 ? argv[at + 1] : argv.includes("-vV") ? "-vV" : "other";
// Bun.spawnSync reports maxRSS in bytes (process.resourceUsage() reports KiB).
const rssKb = Math.round((p.resourceUsage?.maxRSS ?? 0) / 1024);
appendFileSync(log, `${JSON.stringify({ what, rssKb, code: p.exitCode })}\n`);
process.exit(p.exitCode ?? 1);
