/**
 * The run view's own layout rules (column grids, the group table, the
 * per-kind table, the step charts), adopted as a constructed stylesheet:
 * no inline style attributes, nothing the CSP would have to allow. Colours
 * come from media/webview.css's theme variables.
 */
const RULES = `
.run-sections { display: flex; flex-direction: column; gap: 4px; }
.run-sections > details > summary { cursor: pointer; color: var(--tl-muted); font-size: 0.9em; }
.figure-ci { color: var(--tl-muted); font-size: 0.8em; font-variant-numeric: tabular-nums; }
.charts { display: flex; gap: 12px; flex-wrap: wrap; align-items: flex-start; }
.charts[hidden], .chart-box[hidden], [hidden] { display: none !important; }
#train-charts { display: contents; }
.chart-box.wide { width: auto; }
.chart.plot { width: auto; height: auto; overflow: visible; }
.chart .tick.end { text-anchor: end; }
.chart .tick.mid { text-anchor: middle; }
.chart .tick.count { fill: var(--tl-fg); }
.chart .axis.zero { stroke-dasharray: 2 2; }
.chart .marker { stroke: var(--tl-warn); stroke-width: 1; stroke-dasharray: 3 2; }
.chart .line { fill: none; stroke-width: 1.5; }
.chart .band { stroke: none; opacity: 0.25; }
.chart .series-a { stroke: var(--tl-neutral); fill: var(--tl-neutral); }
.chart .series-b { stroke: var(--tl-pos); fill: var(--tl-pos); }
.chart .series-c { stroke: var(--tl-warn); fill: var(--tl-warn); }
.chart .line.series-a, .chart .line.series-b, .chart .line.series-c { fill: none; }
.chart .legend { stroke: none; }
.chart .seg.gen { fill: var(--tl-neutral); }
.chart .seg.rew { fill: var(--tl-pos); }
.chart .seg.upd { fill: var(--tl-warn); }
.chart .seg.other { fill: var(--tl-muted); }
.chart .legend.gen { fill: var(--tl-neutral); }
.chart .legend.rew { fill: var(--tl-pos); }
.chart .legend.upd { fill: var(--tl-warn); }
.kind-table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 0.92em; }
.kind-table th, .kind-table td { border-bottom: 1px solid color-mix(in srgb, var(--tl-border) 60%, transparent); padding: 1px 10px 1px 0; text-align: right; white-space: nowrap; }
.kind-table th:first-child, .kind-table td:first-child { text-align: left; }
.kind-table th { color: var(--tl-muted); font-weight: 600; }
.kind-table tr.beats td[data-field=beats] { color: var(--tl-neg); font-weight: 600; }
.col-head { display: grid; gap: 8px; padding: 2px 8px; color: var(--tl-muted); border: 1px solid var(--tl-border); border-bottom: none; }
/* The font size on the cells, not the grid: its em-sized columns must match the rows'. */
.col-head > [role=columnheader] { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-size: 0.85em; }
.col-head > [data-sort] { cursor: pointer; }
.col-head > [aria-sort=ascending]::after { content: ' ▲'; }
.col-head > [aria-sort=descending]::after { content: ' ▼'; }
.sample-grid { grid-template-columns: minmax(7em, 2fr) minmax(5em, 1.6fr) minmax(4em, 1fr) minmax(3em, 1.2fr) 7.5em 9.5em 8.5em 7.5em 7.5em; }
.row-line.sample-grid { display: grid; gap: 8px; }
.row-line.sample-grid > * { min-width: 0; overflow: hidden; text-overflow: ellipsis; display: block; }
.group-grid { grid-template-columns: 1.2em minmax(7em, 2fr) minmax(5em, 1.2fr) minmax(6em, 1.3fr) 6em 6.5em 7.5em 9em 7em minmax(8em, 1.8fr); }
.group-item { display: grid; gap: 8px; padding: 0 8px; align-items: center; height: 100%; white-space: nowrap; }
.group-item > * { min-width: 0; overflow: hidden; text-overflow: ellipsis; }
.group-item.sample-item { background: color-mix(in srgb, var(--tl-border) 15%, transparent); }
.group-item.sample-item .g-problem { padding-left: 1em; font-weight: normal; }
.g-problem { font-weight: 600; }
.g-muted { color: var(--tl-muted); }
.group-item .c-num { text-align: right; }
.flag-beats-reference, .beats-badge { background: color-mix(in srgb, var(--tl-neg) 40%, transparent); font-weight: 600; white-space: nowrap; }
.best-negative { color: var(--tl-neg); font-weight: 600; }
`;

export function adoptRunViewStyles(): void {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(RULES);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}
