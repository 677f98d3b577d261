/** The status page's CSS: light and dark (prefers-color-scheme), one column on a phone. */
export const STYLE = `
:root { color-scheme: light dark; --bg: #f6f8fa; --card: #ffffff; --fg: #1b1f24; --muted: #59636e; --line: #d8dee4;
  --calls: #2f81f7; --errors: #d1242f; --p50: #1a7f37; --p95: #bf8700; --ok: #1a7f37; --bad: #d1242f; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --card: #161b22; --fg: #e6edf3; --muted: #9198a1; --line: #30363d;
    --calls: #4493f8; --errors: #f85149; --p50: #3fb950; --p95: #d29922; --ok: #3fb950; --bad: #f85149; }
}
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; background: var(--bg); color: var(--fg); }
header { display: flex; flex-wrap: wrap; gap: .6rem 1rem; align-items: center; padding: .8rem 1rem; border-bottom: 1px solid var(--line); background: var(--card); position: sticky; top: 0; z-index: 1; }
header h1 { font-size: 1.15rem; margin: 0; flex: 1 1 auto; }
main { padding: 1rem; max-width: 78rem; margin: 0 auto; }
h2 { font-size: 1rem; margin: 1.6rem 0 .6rem; }
.muted { color: var(--muted); }
.ok { color: var(--ok); } .failing, .drop, .bad { color: var(--bad); font-weight: 600; }
#error:empty, #signin[hidden] { display: none; }
#error { color: var(--bad); margin: .4rem 0; }
.switch button, button { font: inherit; color: inherit; background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .25rem .7rem; cursor: pointer; }
.switch button[aria-pressed="true"] { background: var(--calls); border-color: var(--calls); color: #fff; }
button.danger { color: var(--bad); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(22rem, 1fr)); gap: .8rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .8rem; min-width: 0; }
.card h3 { margin: 0 0 .2rem; font-size: 1rem; display: flex; gap: .5rem; align-items: baseline; flex-wrap: wrap; }
.card .totals { color: var(--muted); margin-bottom: .4rem; }
.chart { width: 100%; height: auto; display: block; margin: .2rem 0 .6rem; }
.chart .axis { stroke: var(--line); stroke-width: 1; }
.chart text { fill: var(--muted); font-size: 11px; }
.chart rect.calls { fill: var(--calls); } .chart rect.errors { fill: var(--errors); }
.chart polyline { fill: none; stroke-width: 1.5; } .chart .p50 { stroke: var(--p50); } .chart .p95 { stroke: var(--p95); }
.chart circle.p50 { fill: var(--p50); stroke: none; } .chart circle.p95 { fill: var(--p95); stroke: none; }
.legend { display: flex; gap: .8rem; color: var(--muted); font-size: 12px; }
.legend i { display: inline-block; width: .7rem; height: .7rem; border-radius: 2px; margin-right: .25rem; vertical-align: -1px; }
.table { overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .7rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
tr:last-child td { border-bottom: 0; }
th { color: var(--muted); font-weight: 600; }
td.events { white-space: normal; min-width: 14rem; }
form#signin { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem; margin: 1rem 0; display: flex; flex-wrap: wrap; gap: .6rem; align-items: center; }
form#signin input { font: inherit; padding: .3rem .5rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); min-width: 16rem; flex: 1 1 16rem; }
@media (max-width: 40rem) { main { padding: .6rem; } .cards { grid-template-columns: 1fr; } th, td { padding: .35rem .5rem; } }
`;
