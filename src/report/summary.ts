/**
 * Short texts of builds for the places CI users look: one line for a Docker build log, and a
 * Markdown summary (totals, the top misses with their reasons, a text timeline) for a CI job page.
 */
import { type BuildView, duration, missReason, type ViewUnit } from "./build-view.ts";

/** `galley: 212 units, 200 hits, 10 misses, 2 passed through; 95.2 s saved; top miss: app (bin) 4.1 s: ~ file:src/main.rs`. */
export function oneLine(view: BuildView): string {
  const t = view.totals;
  const parts = [`${t.units} units`, `${t.hits} hits`, `${t.misses} misses`];
  if (t.passthroughs > 0) parts.push(`${t.passthroughs} passed through`);
  if (t.errors > 0) parts.push(`${t.errors} errors`);
  let line = `galley: ${parts.join(", ")}; ${duration(t.savedMs)} saved`;
  const top = view.misses[0];
  if (top) line += `; top miss: ${top.name} ${duration(top.end - top.start)}: ${missReason(top)}`;
  return line;
}

const TOP_MISSES = 10;
const TIMELINE_ROWS = 12;
const TIMELINE_WIDTH = 40;
const FILL: Record<ViewUnit["outcome"], string> = { hit: "=", miss: "#", passthrough: "-", error: "!" };

/** The Markdown a CI job page shows: every build given, most recent last. */
export function summaryMarkdown(views: BuildView[]): string {
  const out: string[] = ["### galley: compiler cache", ""];
  if (views.length === 0) return `${out.join("\n")}No build was journaled in this job.\n`;
  const sum = (f: (v: BuildView) => number) => views.reduce((s, v) => s + f(v), 0);
  const units = sum((v) => v.totals.units);
  const hits = sum((v) => v.totals.hits);
  out.push(
    `**${hits} hits**, **${sum((v) => v.totals.misses)} misses**, ${sum((v) => v.totals.passthroughs)} passed through, ` +
      `${sum((v) => v.totals.errors)} errors in ${units} units of ${views.length} build${views.length === 1 ? "" : "s"}` +
      `${units ? ` (${Math.round((hits / units) * 100)}% hits)` : ""}; ` +
      `**${duration(sum((v) => v.totals.savedMs))} saved**, ${duration(sum((v) => v.totals.compiledMs))} compiling.`,
    "",
  );
  const misses = views
    .flatMap((v) => v.misses)
    .sort((a, b) => b.end - b.start - (a.end - a.start))
    .slice(0, TOP_MISSES);
  if (misses.length > 0) {
    out.push("| Top misses | Time | Why |", "| --- | ---: | --- |");
    for (const u of misses)
      out.push(`| ${cell(u.name)} | ${duration(u.end - u.start)} | ${cell(missReason(u))} |`);
    out.push("");
  }
  for (const v of views) out.push("```text", ...textTimeline(v), "```", "");
  return `${out.join("\n")}\n`;
}

/** The longest units of a build on a shared time axis, in plain text (no links, no images). */
export function textTimeline(view: BuildView): string[] {
  const span = Math.max(1, view.end - view.start);
  const rows = view.units
    .slice()
    .sort((a, b) => b.end - b.start - (a.end - a.start))
    .slice(0, TIMELINE_ROWS)
    .sort((a, b) => a.start - b.start);
  const nameWidth = Math.min(28, Math.max(4, ...rows.map((u) => u.name.length)));
  const col = (ms: number) => Math.min(TIMELINE_WIDTH - 1, Math.floor((ms / span) * TIMELINE_WIDTH));
  const cmd = view.argv ? view.argv.map((a, i) => (i === 0 ? a.replace(/^.*\//, "") : a)).join(" ") : view.id;
  const lines = [
    `${cmd}: ${duration(view.end - view.start)}, ${view.totals.units} units (${rows.length} longest shown; = hit, # miss, - passed through, ! error)`,
    `${"".padEnd(nameWidth)} |0${"".padEnd(TIMELINE_WIDTH - 2 - duration(span).length)}${duration(span)}|`,
  ];
  for (const u of rows) {
    const from = col(u.start - view.start);
    const to = Math.max(from, col(u.end - view.start));
    const bar = `${" ".repeat(from)}${FILL[u.outcome].repeat(to - from + 1)}`.padEnd(TIMELINE_WIDTH);
    const name = u.name.length > nameWidth ? `${u.name.slice(0, nameWidth - 1)}…` : u.name.padEnd(nameWidth);
    lines.push(
      `${name} |${bar}| ${u.outcome.padEnd(11)} ${duration(u.end - u.start)}${u.critical ? " (critical path)" : ""}`,
    );
  }
  return lines;
}

function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}
