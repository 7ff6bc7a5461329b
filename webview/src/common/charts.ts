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
