/** Small inline-SVG charts built with DOM APIs (no markup strings). */
import { svg } from './dom';
import { count, num } from './format';

const W = 240;
const H = 64;

/** Uplift histogram over [-1, 1]: negative bins red, positive green, the zero bin neutral. */
export function histogram(bins: number[], unknown: number): SVGElement {
  const max = Math.max(1, ...bins);
  const bw = W / Math.max(1, bins.length);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H + 12}`, preserveAspectRatio: 'none', class: 'chart', 'aria-hidden': 'true' });
  bins.forEach((n, i) => {
    const lo = -1 + (2 * i) / bins.length;
    const hi = -1 + (2 * (i + 1)) / bins.length;
    const h = (n / max) * H;
    const cls = hi <= 0 ? 'neg' : lo >= 0 ? 'pos' : 'zero';
    const rect = svg('rect', { x: i * bw + 0.5, y: H - h, width: Math.max(0.5, bw - 1), height: Math.max(0, h), class: `bar ${cls}` });
    rect.appendChild(svg('title', {}, `uplift ${num(lo, 1)} … ${num(hi, 1)}: ${count(n)}`));
    root.appendChild(rect);
  });
  root.appendChild(svg('line', { x1: W / 2, y1: 0, x2: W / 2, y2: H, class: 'axis' }));
  root.appendChild(svg('text', { x: 0, y: H + 10, class: 'tick' }, '−1'));
  root.appendChild(svg('text', { x: W / 2 - 3, y: H + 10, class: 'tick' }, '0'));
  root.appendChild(svg('text', { x: W - 14, y: H + 10, class: 'tick' }, '+1'));
  if (unknown) root.appendChild(svg('text', { x: W - 70, y: 9, class: 'tick' }, `${count(unknown)} unknown`));
  return root;
}

export function histogramLabel(bins: number[], unknown: number): string {
  const half = bins.length / 2;
  const neg = bins.slice(0, half).reduce((a, b) => a + b, 0);
  const pos = bins.slice(half).reduce((a, b) => a + b, 0);
  return `Uplift histogram: ${count(neg)} traces below zero, ${count(pos)} at or above zero, ${count(unknown)} unknown`;
}

/** Mean reward over time as a polyline (x: group or step buckets). */
export function lineChart(points: Array<{ x: number; y: number }>, xLabel: string): SVGElement {
  const root = svg('svg', { viewBox: `0 0 ${W} ${H + 12}`, preserveAspectRatio: 'none', class: 'chart', 'aria-hidden': 'true' });
  if (!points.length) {
    root.appendChild(svg('text', { x: 4, y: H / 2, class: 'tick' }, 'no rewards yet'));
    return root;
  }
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const y0 = Math.min(0, ...ys);
  let y1 = Math.max(1, ...ys);
  if (y1 === y0) y1 = y0 + 1;
  const px = (x: number) => (x1 === x0 ? W / 2 : ((x - x0) / (x1 - x0)) * (W - 2) + 1);
  const py = (y: number) => H - ((y - y0) / (y1 - y0)) * (H - 2) - 1;
  if (y0 < 0) root.appendChild(svg('line', { x1: 0, y1: py(0), x2: W, y2: py(0), class: 'axis' }));
  root.appendChild(
    svg('polyline', { points: points.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' '), class: 'series' }),
  );
  root.appendChild(svg('text', { x: 0, y: H + 10, class: 'tick' }, `${xLabel} ${Math.round(x0)}`));
  root.appendChild(svg('text', { x: W - 60, y: H + 10, class: 'tick' }, `${xLabel} ${Math.round(x1)}`));
  root.appendChild(svg('text', { x: 2, y: 9, class: 'tick' }, num(y1, 2)));
  return root;
}

// ------------------------------------------------------------------ charts with axes, counts and bands

export interface PlotSize {
  width?: number;
  height?: number;
}
const PAD = { left: 34, right: 6, top: 8, bottom: 16 };

/** Tick text for an axis value: short, with a real minus sign. */
function tickText(v: number): string {
  const a = Math.abs(v);
  const s = a >= 1000 ? count(Math.round(a)) : a >= 10 ? a.toFixed(0) : a >= 1 ? a.toFixed(1) : a.toFixed(2);
  return v < 0 ? `−${s}` : s;
}

function frame(width: number, height: number, label: string): SVGElement {
  return svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart plot', role: 'img', 'aria-label': label, width, height });
}

/**
 * Uplift distribution over [-1, 1] with its counts: the y axis in traces
 * (0 and the largest bin), the count written over every non-empty bar, x
 * ticks at −1, 0, +1 and a caption of the unknowns.
 */
export function countHistogram(bins: number[], unknown: number, size: PlotSize = {}): SVGElement {
  const width = size.width ?? 300;
  const height = size.height ?? 110;
  const total = bins.reduce((a, b) => a + b, 0);
  const root = frame(width, height, histogramLabel(bins, unknown));
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom - 8;
  const top = PAD.top + 8;
  const max = Math.max(1, ...bins);
  const bw = plotW / Math.max(1, bins.length);
  const y = (n: number) => top + plotH - (n / max) * plotH;
  root.appendChild(svg('line', { x1: PAD.left, y1: top + plotH, x2: PAD.left + plotW, y2: top + plotH, class: 'axis' }));
  root.appendChild(svg('line', { x1: PAD.left, y1: top, x2: PAD.left, y2: top + plotH, class: 'axis' }));
  root.appendChild(svg('text', { x: PAD.left - 3, y: top + 3, class: 'tick end' }, count(max)));
  root.appendChild(svg('text', { x: PAD.left - 3, y: top + plotH, class: 'tick end' }, '0'));
  root.appendChild(svg('text', { x: 2, y: top + plotH / 2, class: 'tick' }, 'traces'));
  bins.forEach((n, i) => {
    const lo = -1 + (2 * i) / bins.length;
    const hi = -1 + (2 * (i + 1)) / bins.length;
    const cls = hi <= 0 ? 'neg' : lo >= 0 ? 'pos' : 'zero';
    const x = PAD.left + i * bw;
    const rect = svg('rect', {
      x: x + 0.5,
      y: y(n),
      width: Math.max(0.5, bw - 1),
      height: Math.max(0, top + plotH - y(n)),
      class: `bar ${cls}`,
    });
    rect.appendChild(svg('title', {}, `uplift ${num(lo, 1)} … ${num(hi, 1)}: ${count(n)} trace${n === 1 ? '' : 's'}`));
    root.appendChild(rect);
    if (n > 0) root.appendChild(svg('text', { x: x + bw / 2, y: y(n) - 2, class: 'tick mid count', 'data-bin': i }, count(n)));
  });
  const base = top + plotH + 10;
  root.appendChild(svg('text', { x: PAD.left, y: base, class: 'tick' }, '−1'));
  root.appendChild(svg('text', { x: PAD.left + plotW / 2, y: base, class: 'tick mid' }, '0'));
  root.appendChild(svg('text', { x: PAD.left + plotW, y: base, class: 'tick end' }, '+1 uplift'));
  root.appendChild(
    svg('text', { x: PAD.left + 2, y: PAD.top, class: 'tick' }, `${count(total)} traces${unknown ? ` · ${count(unknown)} unknown` : ''}`),
  );
  return root;
}

/** One line of a step chart: points with an optional band (lo…hi) around them. */
export interface BandSeries {
  name: string;
  /** CSS class of the line and band (series-a, series-b…). */
  cls: string;
  points: Array<{ x: number; y: number | null; lo?: number | null; hi?: number | null }>;
}

export interface StepChartOptions extends PlotSize {
  xLabel: string;
  /** x positions to mark with a vertical line (checkpoints). */
  markers?: number[];
  /** Include 0 in the y range. */
  zero?: boolean;
}

function extent(values: number[], zero: boolean): [number, number] {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (zero) {
    lo = Math.min(lo, 0);
    hi = Math.max(hi, 0);
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi === lo) return [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

/** Lines over steps with their bands (a 95 % interval or ±1 sd), axes with ticks, a legend and markers. */
export function bandChart(series: BandSeries[], o: StepChartOptions): SVGElement {
  const width = o.width ?? 300;
  const height = o.height ?? 110;
  const names = series.map((s) => s.name).join(', ');
  const root = frame(width, height, `${names} over ${o.xLabel}s`);
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p.x);
  const ys = all.flatMap((p) => [p.y, p.lo, p.hi]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (!xs.length || !ys.length) {
    root.appendChild(svg('text', { x: PAD.left, y: height / 2, class: 'tick' }, `no ${names} yet`));
    return root;
  }
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = extent(ys, o.zero ?? false);
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom - 8;
  const top = PAD.top + 8;
  const px = (x: number) => PAD.left + (x1 === x0 ? plotW / 2 : ((x - x0) / (x1 - x0)) * plotW);
  const py = (v: number) => top + plotH - ((v - y0) / (y1 - y0)) * plotH;
  root.appendChild(svg('line', { x1: PAD.left, y1: top + plotH, x2: PAD.left + plotW, y2: top + plotH, class: 'axis' }));
  root.appendChild(svg('line', { x1: PAD.left, y1: top, x2: PAD.left, y2: top + plotH, class: 'axis' }));
  if (y0 < 0 && y1 > 0) root.appendChild(svg('line', { x1: PAD.left, y1: py(0), x2: PAD.left + plotW, y2: py(0), class: 'axis zero' }));
  for (const m of o.markers ?? []) {
    if (m < x0 || m > x1) continue;
    const line = svg('line', { x1: px(m), y1: top, x2: px(m), y2: top + plotH, class: 'marker', 'data-step': m });
    line.appendChild(svg('title', {}, `checkpoint at ${o.xLabel} ${m}`));
    root.appendChild(line);
  }
  for (const s of series) {
    const banded = s.points.filter((p) => typeof p.lo === 'number' && typeof p.hi === 'number' && p.y !== null);
    if (banded.length > 1) {
      const upper = banded.map((p) => `${px(p.x).toFixed(1)},${py(p.hi!).toFixed(1)}`);
      const lower = banded.map((p) => `${px(p.x).toFixed(1)},${py(p.lo!).toFixed(1)}`).reverse();
      root.appendChild(svg('polygon', { points: [...upper, ...lower].join(' '), class: `band ${s.cls}` }));
    }
    const pts = s.points.filter((p) => p.y !== null);
    if (pts.length === 1) root.appendChild(svg('circle', { cx: px(pts[0]!.x), cy: py(pts[0]!.y!), r: 2, class: `dot ${s.cls}` }));
    else if (pts.length > 1)
      root.appendChild(
        svg('polyline', { points: pts.map((p) => `${px(p.x).toFixed(1)},${py(p.y!).toFixed(1)}`).join(' '), class: `line ${s.cls}` }),
      );
  }
  root.appendChild(svg('text', { x: PAD.left - 3, y: top + 3, class: 'tick end' }, tickText(y1)));
  root.appendChild(svg('text', { x: PAD.left - 3, y: top + plotH, class: 'tick end' }, tickText(y0)));
  const base = top + plotH + 10;
  root.appendChild(svg('text', { x: PAD.left, y: base, class: 'tick' }, `${o.xLabel} ${Math.round(x0)}`));
  root.appendChild(svg('text', { x: PAD.left + plotW, y: base, class: 'tick end' }, `${o.xLabel} ${Math.round(x1)}`));
  let lx = PAD.left + 2;
  for (const s of series) {
    root.appendChild(svg('text', { x: lx, y: PAD.top, class: `tick legend ${s.cls}` }, `■ ${s.name}`));
    lx += 8 + s.name.length * 5;
  }
  return root;
}

/** Stacked bars over steps (e.g. seconds per step split into generation / reward / update). */
export function stackedBars(
  parts: Array<{ name: string; cls: string }>,
  bars: Array<{ x0: number; x1: number; values: Array<number | null> }>,
  o: StepChartOptions & { unit: string },
): SVGElement {
  const width = o.width ?? 300;
  const height = o.height ?? 110;
  const root = frame(width, height, `${parts.map((p) => p.name).join(' / ')} (${o.unit}) per ${o.xLabel}`);
  const withData = bars.filter((b) => b.values.some((v) => v !== null && v > 0));
  if (!withData.length) {
    root.appendChild(svg('text', { x: PAD.left, y: height / 2, class: 'tick' }, `no ${parts.map((p) => p.name).join(' / ')} yet`));
    return root;
  }
  const x0 = Math.min(...withData.map((b) => b.x0));
  const x1 = Math.max(...withData.map((b) => b.x1)) + 1;
  const max = Math.max(...withData.map((b) => b.values.reduce<number>((s, v) => s + (v ?? 0), 0)), 1e-9);
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom - 8;
  const top = PAD.top + 8;
  const px = (x: number) => PAD.left + ((x - x0) / (x1 - x0)) * plotW;
  const py = (v: number) => top + plotH - (v / max) * plotH;
  root.appendChild(svg('line', { x1: PAD.left, y1: top + plotH, x2: PAD.left + plotW, y2: top + plotH, class: 'axis' }));
  root.appendChild(svg('line', { x1: PAD.left, y1: top, x2: PAD.left, y2: top + plotH, class: 'axis' }));
  for (const b of withData) {
    let acc = 0;
    const x = px(b.x0);
    const w = Math.max(0.5, px(b.x1 + 1) - x - 0.5);
    b.values.forEach((v, i) => {
      if (v === null || v <= 0) return;
      const rect = svg('rect', { x, y: py(acc + v), width: w, height: Math.max(0, py(acc) - py(acc + v)), class: `seg ${parts[i]!.cls}` });
      const range = b.x0 === b.x1 ? `${o.xLabel} ${b.x0}` : `${o.xLabel}s ${b.x0}–${b.x1}`;
      rect.appendChild(svg('title', {}, `${range}: ${parts[i]!.name} ${num(v, 2)} ${o.unit}`));
      root.appendChild(rect);
      acc += v;
    });
  }
  root.appendChild(svg('text', { x: PAD.left - 3, y: top + 3, class: 'tick end' }, `${tickText(max)} ${o.unit}`));
  root.appendChild(svg('text', { x: PAD.left - 3, y: top + plotH, class: 'tick end' }, '0'));
  const base = top + plotH + 10;
  root.appendChild(svg('text', { x: PAD.left, y: base, class: 'tick' }, `${o.xLabel} ${Math.round(x0)}`));
  root.appendChild(svg('text', { x: PAD.left + plotW, y: base, class: 'tick end' }, `${o.xLabel} ${Math.round(x1 - 1)}`));
  let lx = PAD.left + 2;
  for (const p of parts) {
    root.appendChild(svg('text', { x: lx, y: PAD.top, class: `tick legend ${p.cls}` }, `■ ${p.name}`));
    lx += 8 + p.name.length * 5;
  }
  return root;
}
