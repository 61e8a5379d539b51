/** What `galley explain <crate>` reads: the key parts of a crate's last lookup and last stored entry. */

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isDigest } from "./digest.ts";
import type { KeyParts } from "./key.ts";

export interface StoredParts {
  parts: KeyParts;
  at: string;
}

export interface ExplainRecord {
  /** The last miss, with the entry that was stored for this crate when it happened. */
  lookup?: { parts: KeyParts; outcome: string; at: string; against?: StoredParts };
  stored?: StoredParts;
}

const fileOf = (dir: string, crate: string) =>
  join(dir, "v1", "explain", `${crate.replace(/[^A-Za-z0-9_-]/g, "_")}.json`);

export function readExplain(dir: string, crate: string): ExplainRecord | undefined {
  try {
    return JSON.parse(readFileSync(fileOf(dir, crate), "utf8")) as ExplainRecord;
  } catch {
    return undefined;
  }
}

export function writeExplain(dir: string, crate: string, record: ExplainRecord): void {
  try {
    const path = fileOf(dir, crate);
    mkdirSync(join(path, ".."), { recursive: true });
    // Written in place: a torn record reads as none, and this is diagnostics only.
    writeFileSync(path, JSON.stringify(record));
  } catch {
    // diagnostics never fail a build
  }
}

/** Why a lookup missed, compared with the entry stored before it: the key parts that differ. */
export function whyMissed(lookup: NonNullable<ExplainRecord["lookup"]>): string[] {
  if (!lookup.against) return ["nothing of this crate was stored before: its first build with this cache"];
  // A lookup that found no entry for its arguments never read the files of direct mode: compare
  // the parts it has, so the answer names what changed (an argument, a dependency), not every file.
  let before = lookup.against.parts;
  if (!Object.keys(lookup.parts).some(isDirectPart))
    before = Object.fromEntries(Object.entries(before).filter(([name]) => !isDirectPart(name)));
  const diff = diffParts(lookup.parts, before);
  return diff.length > 0 ? diff : ["(same key parts: the entry was evicted or damaged)"];
}

const isDirectPart = (name: string) => name.startsWith("file:") || name.startsWith("env-dep:");

/** Key parts that differ between two lookups, as human lines. */
export function diffParts(now: KeyParts, before: KeyParts): string[] {
  const lines: string[] = [];
  for (const name of new Set([...Object.keys(now), ...Object.keys(before)])) {
    if (name === "base") continue;
    const a = before[name];
    const b = now[name];
    if (a === b) continue;
    if (a === undefined) lines.push(`+ ${name} (new: ${short(b!)})`);
    else if (b === undefined) lines.push(`- ${name} (was: ${short(a)})`);
    else lines.push(`~ ${name}: ${short(a)} -> ${short(b)}`);
  }
  return lines.sort();
}

function short(v: string): string {
  return isDigest(v) ? v.slice(0, 12) : v.length > 80 ? `${v.slice(0, 77)}...` : v;
}
