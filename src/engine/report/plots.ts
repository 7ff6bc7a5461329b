/**
 * Plots as Vega specifications (the grammar the editor's report webview can
 * render too, with vega-interpreter under its CSP), rendered to SVG in Node
 * by Vega's headless view. Data values are text to Vega (labels are
 * escaped in the SVG it writes).
 */
import type { Spec } from 'vega';

export interface SeriesPoint {
  x: number;
  y: number | null;
  series: string;
}

export interface BarValue {
  category: string;
  value: number;
  series: string;
}

const SIZE = { width: 420, height: 240 };

const base = (title: string) => ({ ...SIZE, padding: 8, background: 'white', title: { text: title, anchor: 'start' as const } });

/** Lines with points, one colour per series; points with a null y are left out. */
export function lineSpec(o: { title: string; xTitle: string; yTitle: string; points: SeriesPoint[]; yDomain?: [number, number] }): Spec {
  const values = o.points.filter((p) => p.y !== null && Number.isFinite(p.y));
  return {
    ...base(o.title),
    data: [{ name: 'points', values }],
    scales: [
      { name: 'x', type: 'linear', domain: { data: 'points', field: 'x' }, range: 'width', zero: false, nice: true },
      o.yDomain
        ? { name: 'y', type: 'linear', domain: o.yDomain, range: 'height' }
        : { name: 'y', type: 'linear', domain: { data: 'points', field: 'y' }, range: 'height', nice: true, zero: true },
      { name: 'color', type: 'ordinal', domain: { data: 'points', field: 'series' }, range: 'category' },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: o.xTitle, tickMinStep: 1 },
      { orient: 'left', scale: 'y', title: o.yTitle, grid: true },
    ],
    legends: [{ stroke: 'color', title: 'run' }],
    marks: [
      {
        type: 'group',
        from: { facet: { name: 'one', data: 'points', groupby: 'series' } },
        marks: [
          {
            type: 'line',
            from: { data: 'one' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'x' },
                y: { scale: 'y', field: 'y' },
                stroke: { scale: 'color', field: 'series' },
                strokeWidth: { value: 2 },
              },
            },
          },
          {
            type: 'symbol',
            from: { data: 'one' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'x' },
                y: { scale: 'y', field: 'y' },
                fill: { scale: 'color', field: 'series' },
                size: { value: 30 },
              },
            },
          },
        ],
      },
    ],
  };
}

/** Bars per category, side by side per series. */
export function groupedBarSpec(o: { title: string; xTitle: string; yTitle: string; bars: BarValue[] }): Spec {
  return {
    ...base(o.title),
    data: [{ name: 'bars', values: o.bars }],
    scales: [
      { name: 'x', type: 'band', domain: { data: 'bars', field: 'category' }, range: 'width', padding: 0.2 },
      { name: 'y', type: 'linear', domain: { data: 'bars', field: 'value' }, range: 'height', nice: true, zero: true },
      { name: 'color', type: 'ordinal', domain: { data: 'bars', field: 'series' }, range: 'category' },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: o.xTitle, labelAngle: -30, labelAlign: 'right' },
      { orient: 'left', scale: 'y', title: o.yTitle, grid: true },
    ],
    legends: [{ fill: 'color', title: 'series' }],
    marks: [
      {
        type: 'group',
        from: { facet: { data: 'bars', name: 'cell', groupby: 'category' } },
        encode: { enter: { x: { scale: 'x', field: 'category' } } },
        signals: [{ name: 'width', update: "bandwidth('x')" }],
        scales: [{ name: 'pos', type: 'band', range: 'width', domain: { data: 'cell', field: 'series' } }],
        marks: [
          {
            type: 'rect',
            from: { data: 'cell' },
            encode: {
              enter: {
                x: { scale: 'pos', field: 'series' },
                width: { scale: 'pos', band: 1 },
                y: { scale: 'y', field: 'value' },
                y2: { scale: 'y', value: 0 },
                fill: { scale: 'color', field: 'series' },
              },
            },
          },
        ],
      },
    ],
  };
}

/** One scored sample in the per-sample chart: where it is drawn and what hovering and clicking it show. */
export interface SamplePoint {
  /** Trace length (characters). */
  x: number;
  /** The sample's uplift. */
  y: number;
  series: string;
  runDir: string;
  problemId: string;
  sampleId: string;
  step: number | null;
  success: number | null;
  /** The start of the trace (untrusted text: the view shows it with textContent). */
  excerpt: string;
}

/** The name of the per-sample mark, for the report view's hover and click handlers. */
export const SAMPLE_MARK = 'samples';

/** Every sample as a point: uplift against trace length, one colour per run. */
export function sampleScatterSpec(o: { title: string; points: SamplePoint[] }): Spec {
  return {
    ...base(o.title),
    data: [{ name: 'points', values: o.points }],
    scales: [
      { name: 'x', type: 'linear', domain: { data: 'points', field: 'x' }, range: 'width', zero: true, nice: true },
      { name: 'y', type: 'linear', domain: { data: 'points', field: 'y' }, range: 'height', nice: true, zero: true },
      { name: 'color', type: 'ordinal', domain: { data: 'points', field: 'series' }, range: 'category' },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: 'trace length (characters)' },
      { orient: 'left', scale: 'y', title: 'uplift', grid: true },
    ],
    legends: [{ fill: 'color', title: 'run' }],
    marks: [
      {
        type: 'symbol',
        name: SAMPLE_MARK,
        from: { data: 'points' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'x' },
            y: { scale: 'y', field: 'y' },
            fill: { scale: 'color', field: 'series' },
            fillOpacity: { value: 0.7 },
            size: { value: 40 },
            cursor: { value: 'pointer' },
          },
        },
      },
    ],
  };
}

// Vega ships ES modules with top-level await (vega-canvas), which a CommonJS bundle cannot
// inline: it is loaded at run time from node_modules, where it is a dependency.
const VEGA_MODULE = 'vega';

/** The SVG of a Vega specification, rendered headless (no browser, no canvas). */
export async function renderSvg(spec: Spec): Promise<string> {
  const vega = (await import(VEGA_MODULE)) as typeof import('vega');
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
