/**
 * Which build a wrapper process belongs to: the nearest `cargo` among its ancestors (a rustc
 * wrapper is cargo's child; a C compile runs under a build script, cargo's child). A build is named
 * by that process's pid, its start time (pids are reused) and the pid namespace (two containers of
 * a BuildKit build can hold the same pid at once), so two builds sharing one cache dir never mix.
 */
import { readFileSync, readlinkSync } from "node:fs";

export interface ProcessInfo {
  pid: number;
  comm: string;
  ppid: number;
  /** Start time in clock ticks since boot. */
  startTicks: string;
}

export interface BuildIdentity {
  /** `<start ticks>-<pid>-<pid namespace>`: the journal's name. */
  id: string;
  /** The build's cargo process, when one was found among the ancestors. */
  cargo?: ProcessInfo;
}

export function processInfo(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" ");
    return {
      pid,
      comm: stat.slice(stat.indexOf("(") + 1, close),
      ppid: Number(fields[1]),
      startTicks: fields[19] ?? "",
    };
  } catch {
    return undefined;
  }
}

let namespace: string | undefined;
function pidNamespace(): string {
  if (namespace === undefined) {
    try {
      namespace = /\d+/.exec(readlinkSync("/proc/self/ns/pid"))?.[0] ?? "0";
    } catch {
      namespace = "0";
    }
  }
  return namespace;
}

export function processId(p: ProcessInfo): string {
  return `${p.startTicks}-${p.pid}-${pidNamespace()}`;
}

/** How far up to look for cargo: wrapper <- cargo, or cc <- build script <- its launcher <- cargo, with room for shells. */
const MAX_DEPTH = 6;

let memo: BuildIdentity | undefined;

export function currentBuild(): BuildIdentity {
  if (memo) return memo;
  let pid = process.ppid;
  let parent: ProcessInfo | undefined;
  for (let depth = 0; depth < MAX_DEPTH && pid > 1; depth++) {
    const p = processInfo(pid);
    if (!p) break;
    parent ??= p;
    if (p.comm === "cargo") {
      memo = { id: processId(p), cargo: p };
      return memo;
    }
    pid = p.ppid;
  }
  // Not under cargo (a direct call, or no /proc): the parent process stands for the build.
  memo = { id: parent ? processId(parent) : `0-${process.ppid}-${pidNamespace()}` };
  return memo;
}
