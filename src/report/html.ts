/**
 * `galley report`'s page: one self-contained HTML file (inline CSS and a few lines of JS, nothing
 * fetched, works from file://). Everything is drawn here as static HTML, so the page reads the same
 * without JS and in print; the script only filters by crate name.
 *
 * Outcomes are told apart three ways, so they survive colour blindness and black-and-white print:
 * the Okabe–Ito colours, a pattern (misses striped, passthroughs dotted, errors cross-hatched), and
 * a symbol in each label.
 */
import { type BuildView, duration, mib, missReason, type ViewUnit } from "./build-view.ts";

const SYMBOL: Record<ViewUnit["outcome"], string> = { hit: "✓", miss: "✗", passthrough: "→", error: "!" };
const LANE_PX = 22;
/** Misses shown open; the rest are one click away. */
const TOP_MISSES = 10;

export function renderReport(view: BuildView, generatedAt = new Date()): string {
  const t = view.totals;
  const span = Math.max(1, view.end - view.start);
  const pct = (ms: number) => ((ms / span) * 100).toFixed(3);
  const title = `galley report: ${view.argv ? commandLine(view.argv) : `build ${view.id}`}`;
  const cards: [string, string, string][] = [
    ["units", "Units", String(t.units)],
    ["hit", "Hits", `${t.hits}${t.units ? ` (${Math.round((t.hits / t.units) * 100)}%)` : ""}`],
    ["miss", "Misses", String(t.misses)],
    ["passthrough", "Passed through", String(t.passthroughs)],
    ["error", "Errors", String(t.errors)],
    ["saved", "Time saved", duration(t.savedMs)],
    ["compiled", "Time compiling", duration(t.compiledMs)],
    ["restored", "Restored", mib(t.bytesRestored)],
    ["stored", "Stored", mib(t.bytesStored)],
  ];
  const bars = view.units
    .map(
      (u) =>
        `<a class="bar ${u.outcome}${u.critical ? " crit" : ""}" href="#u-${u.index}" data-name="${attr(key(u))}" ` +
        `style="left:${pct(u.start - view.start)}%;width:${pct(u.end - u.start)}%;top:${u.lane * LANE_PX}px" ` +
        `title="${attr(tooltip(u))}"><span class="sym">${SYMBOL[u.outcome]}</span>${esc(u.name)}</a>`,
    )
    .join("\n");
  const missItem = (u: ViewUnit) => {
    const reason = missReason(u);
    const rest = (u.why ?? []).filter((l, i) => i > 0 && l !== reason);
    return (
      `<li class="miss-item ${u.outcome}" data-name="${attr(key(u))}"><a class="unit" href="#u-${u.index}">${esc(u.name)}</a>` +
      ` <span class="dur">${duration(u.end - u.start)}</span> <span class="reason">${esc(reason)}</span>` +
      `${u.why?.[0] ? ` <span class="found">(${esc(u.why[0])})</span>` : ""}` +
      `${rest.length > 0 ? `<pre class="why">${esc(rest.join("\n"))}</pre>` : ""}</li>`
    );
  };
  const shownMisses = view.misses.slice(0, TOP_MISSES).map(missItem).join("\n");
  const moreMisses = view.misses.slice(TOP_MISSES).map(missItem).join("\n");
  const order: Record<ViewUnit["outcome"], number> = { miss: 0, error: 1, passthrough: 2, hit: 3 };
  const rows = view.units
    .slice()
    .sort((a, b) => order[a.outcome] - order[b.outcome] || b.end - b.start - (a.end - a.start))
    .map(
      (u) =>
        `<tr id="u-${u.index}" class="row ${u.outcome}" data-name="${attr(key(u))}">` +
        `<td>${esc(u.name)}${u.critical ? ' <span class="critmark" title="on the critical path">◆</span>' : ""}</td>` +
        `<td><span class="swatch ${u.outcome}"></span>${SYMBOL[u.outcome]} ${u.outcome}</td>` +
        `<td>${u.kind}</td><td class="num">${duration(u.start - view.start)}</td><td class="num">${duration(u.end - u.start)}</td>` +
        `<td class="num">${u.outcome === "hit" ? duration(u.savedMs) : ""}</td>` +
        `<td>${esc(u.outcome === "hit" ? `restored (${u.tier ?? "local"})` : missReason(u))}</td></tr>`,
    )
    .join("\n");
  const critical = view.criticalPath
    .map(
      (u) =>
        `<li><a href="#u-${u.index}">${esc(u.name)}</a> <span class="dur">${duration(u.end - u.start)}</span> ${SYMBOL[u.outcome]} ${u.outcome}</li>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="galley report">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${esc(title)}</h1>
<p class="meta">build <code>${esc(view.id)}</code>${view.cwd ? ` in <code>${esc(view.cwd)}</code>` : ""} · started ${esc(new Date(view.start).toISOString())} · ${duration(view.end - view.start)} · report written ${esc(generatedAt.toISOString())}</p>
</header>
<section id="totals" class="totals">
${cards.map(([cls, label, value]) => `<div class="card ${cls}"><div class="value">${esc(value)}</div><div class="label">${label}</div></div>`).join("\n")}
</section>
<section id="timeline">
<h2>Timeline</h2>
<div class="legend"><span class="key"><span class="swatch hit"></span>✓ hit</span> <span class="key"><span class="swatch miss"></span>✗ miss</span> <span class="key"><span class="swatch passthrough"></span>→ passed through</span> <span class="key"><span class="swatch error"></span>! error</span> <span class="key"><span class="swatch critkey"></span>◆ critical path (outlined)</span></div>
<div class="filter"><label>Filter by crate <input id="filter" type="search" placeholder="name" autocomplete="off"></label> <span id="shown">${view.units.length} units</span></div>
<div class="axis">${axis(span, pct)}</div>
<div class="chart" style="height:${Math.max(1, view.lanes) * LANE_PX}px">
${bars}
</div>
</section>
<section id="misses">
<h2>Misses, most expensive first (${view.misses.length})</h2>
${view.misses.length > 0 ? `<ol class="misses">\n${shownMisses}\n</ol>` : '<p class="none">No misses: every unit galley handled was restored from the cache or passed through.</p>'}
${moreMisses ? `<details class="more"><summary>${view.misses.length - TOP_MISSES} more misses</summary>\n<ol class="misses" start="${TOP_MISSES + 1}">\n${moreMisses}\n</ol></details>` : ""}
</section>
<section id="critical">
<h2>Critical path (${view.criticalPath.length} units, ${duration(view.criticalPath.reduce((s, u) => s + u.end - u.start, 0))})</h2>
<p class="note">The chain of dependencies that ended last: from the last unit, each step goes to the dependency (a linked crate, or its package's build script) that finished last.</p>
<ol class="critical">
${critical}
</ol>
</section>
<section id="units">
<h2>All units (${view.units.length}), misses first</h2>
<table>
<thead><tr><th>Unit</th><th>Outcome</th><th>Kind</th><th class="num">Start</th><th class="num">Time</th><th class="num">Saved</th><th>Reason</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</section>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

function axis(span: number, pct: (ms: number) => string): string {
  const steps = [100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 30_000, 60_000, 120_000, 300_000, 600_000];
  const step = steps.find((s) => span / s <= 10) ?? 1_800_000;
  const ticks: string[] = [];
  for (let at = 0; at <= span; at += step)
    ticks.push(`<span class="tick" style="left:${pct(at)}%">${duration(at)}</span>`);
  return ticks.join("");
}

/** What the filter matches: the unit's name and package, lower case, `-` as `_`. */
function key(u: ViewUnit): string {
  return `${u.name} ${u.pkg ?? ""}`.toLowerCase().replace(/-/g, "_");
}

function tooltip(u: ViewUnit): string {
  const head = `${u.name}: ${u.outcome}, ${duration(u.end - u.start)}${u.critical ? ", on the critical path" : ""}`;
  if (u.outcome === "hit") return `${head}, saved ${duration(u.savedMs)}`;
  return `${head}\n${missReason(u)}`;
}

function commandLine(argv: string[]): string {
  const [first, ...rest] = argv;
  return [first ? first.replace(/^.*\//, "") : "", ...rest].join(" ");
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function attr(s: string): string {
  return esc(s).replace(/"/g, "&quot;").replace(/\n/g, "&#10;");
}

const CSS = `
:root { --hit: #009E73; --miss: #D55E00; --pass: #56B4E9; --error: #CC79A7; --ink: #1b1b1b; --muted: #5f5f5f; --line: #d9d9d9; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); margin: 0 auto; padding: 16px 24px 48px; max-width: 1400px; }
h1 { font-size: 20px; margin: 0 0 4px; word-break: break-all; }
h2 { font-size: 16px; margin: 28px 0 8px; }
.meta, .note { color: var(--muted); margin: 0; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.totals { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 16px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; min-width: 110px; border-top-width: 4px; }
.card .value { font-size: 20px; font-weight: 600; }
.card .label { color: var(--muted); font-size: 12px; }
.card.hit { border-top-color: var(--hit); } .card.miss { border-top-color: var(--miss); }
.card.passthrough { border-top-color: var(--pass); } .card.error { border-top-color: var(--error); }
.hit { --c: var(--hit); background: var(--hit); }
.miss { --c: var(--miss); background: repeating-linear-gradient(135deg, var(--miss) 0 6px, #f3b48c 6px 9px); }
.passthrough { --c: var(--pass); background: radial-gradient(#0b4f7a 1px, transparent 1.5px) 0 0 / 6px 6px, var(--pass); }
.error { --c: var(--error); background: repeating-linear-gradient(45deg, transparent 0 5px, #1b1b1b 5px 6px), repeating-linear-gradient(135deg, var(--error) 0 5px, #1b1b1b 5px 6px); }
.card, .row, .miss-item { background: none; }
.swatch { display: inline-block; width: 14px; height: 14px; border-radius: 3px; vertical-align: -2px; margin-right: 4px; border: 1px solid #0006; }
.swatch.critkey { background: #fff; border: 2px solid #000; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; margin-bottom: 8px; font-size: 13px; }
.filter { margin: 8px 0; } .filter input { font: inherit; padding: 3px 6px; width: 240px; } #shown { color: var(--muted); margin-left: 8px; }
.axis { position: relative; height: 18px; border-bottom: 1px solid var(--line); font-size: 11px; color: var(--muted); }
.tick { position: absolute; top: 0; padding-left: 3px; border-left: 1px solid var(--line); height: 18px; white-space: nowrap; }
.chart { position: relative; margin-top: 4px; min-height: ${LANE_PX}px; }
.bar { position: absolute; height: ${LANE_PX - 4}px; min-width: 2px; border-radius: 3px; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; font-size: 11px; line-height: ${LANE_PX - 4}px; padding: 0 3px; color: #000; text-decoration: none; border: 1px solid #0005; }
.bar .sym { font-weight: 700; margin-right: 2px; }
.bar.miss, .bar.error, .bar.passthrough { color: #000; font-weight: 600; text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 1px #fff; }
.bar.crit { border: 2px solid #000; z-index: 1; }
.bar:hover, .bar:focus { z-index: 2; overflow: visible; outline: 2px solid #0072B2; }
.filtered.bar { opacity: 0.12; } .filtered.row, .filtered.miss-item { display: none; }
ol.misses { padding-left: 24px; } .miss-item { margin: 6px 0; } .miss-item .unit { font-weight: 600; }
.miss-item::marker { color: var(--miss); font-weight: 700; }
.found { color: var(--muted); font-size: 12px; }
details.more { margin-left: 4px; } details.more summary { cursor: pointer; color: var(--muted); }
#units, details.more { content-visibility: auto; contain-intrinsic-size: auto 2000px; }
.chart { contain: layout; }
.dur { color: var(--muted); font-variant-numeric: tabular-nums; } .reason { margin-left: 6px; }
pre.why { margin: 4px 0 0; padding: 6px 8px; background: #f6f6f6; border-left: 3px solid var(--c, var(--miss)); white-space: pre-wrap; word-break: break-all; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr:target { outline: 2px solid #0072B2; }
.critmark { font-size: 11px; }
@media print {
  body { padding: 0; font-size: 11px; max-width: none; }
  .filter, script { display: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
  section { break-inside: auto; } tr, .miss-item { break-inside: avoid; }
  .filtered.row, .filtered.miss-item { display: revert; } .filtered.bar { opacity: 1; }
  #units, details.more { content-visibility: visible; }
}
`;

const SCRIPT = `
(function () {
  var input = document.getElementById("filter");
  var shown = document.getElementById("shown");
  var items = Array.prototype.slice.call(document.querySelectorAll("[data-name]"));
  var bars = items.filter(function (el) { return el.classList.contains("bar"); }).length;
  input.addEventListener("input", function () {
    var q = input.value.trim().toLowerCase().replace(/-/g, "_");
    var n = 0;
    items.forEach(function (el) {
      var hit = !q || el.getAttribute("data-name").indexOf(q) !== -1;
      el.classList.toggle("filtered", !hit);
      if (hit && el.classList.contains("bar")) n++;
    });
    shown.textContent = q ? n + " of " + bars + " units" : bars + " units";
  });
})();
`;
