/**
 * The report's charts as Vega specifications, built once from the analyses:
 * `tracelift report` renders them to SVG files, the editor's report view
 * draws the same specs in its webview. Each chart exists only when the runs
 * allow it (the same conditions report.md states in words).
 */
import type { Spec } from 'vega';
import type { LoadedRun } from '../analysis/loadRun';
import type { KStabilityRow } from '../analysis/kStability';
import { REPORT_FILES } from './files';
import { groupedBarSpec, lineSpec, sampleScatterSpec, type BarValue, type SamplePoint, type SeriesPoint } from './plots';
import type { RunAnalyses } from './report';

export interface ReportChart {
  /** The SVG file `tracelift report` writes for this chart. */
  file: string;
  title: string;
  spec: Spec;
}

/** The histogram bins of the judge-saturation chart, per run and scorer. */
export function saturationBars(runs: RunAnalyses[]): { bars: BarValue[]; rows: Array<[string, string, number, number]> } {
  const sat = runs.filter((r) => r.saturation.judge.n || r.saturation.rm.n);
  const bars: BarValue[] = [];
  const rows: Array<[string, string, number, number]> = [];
  for (const r of sat) {
    for (const [scorer, d] of [
      ['judge', r.saturation.judge],
      ['rm', r.saturation.rm],
    ] as const) {
      if (!d.n) continue;
      d.histogram.forEach((count, i) => {
        const bin = `${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}`;
        bars.push({ category: bin, value: count, series: sat.length > 1 ? `${r.run} ${scorer}` : scorer });
        rows.push([r.run, scorer, i / 10, count]);
      });
    }
  }
  return { bars, rows };
}

/** Every chart the runs allow, in report order. */
export function reportCharts(runs: RunAnalyses[]): ReportChart[] {
  const charts: ReportChart[] = [];
  const add = (file: string, spec: Spec) => charts.push({ file, title: String((spec.title as { text: string }).text), spec });

  const kRows = runs.flatMap((r) => r.kStability.map((k) => ({ run: r.run, ...k })));
  if (runs.some((r) => r.kStability.length > 1)) {
    const pts = (f: (k: KStabilityRow) => number): SeriesPoint[] => kRows.map((k) => ({ x: k.k, y: f(k), series: k.run }));
    add(
      REPORT_FILES.kStabilitySvg,
      lineSpec({
        title: 'Uplift estimate spread vs K',
        xTitle: 'K (with-trace samples)',
        yTitle: 'sd of the estimate',
        points: pts((k) => k.rmsSd),
      }),
    );
    add(
      REPORT_FILES.kSignSvg,
      lineSpec({
        title: 'Sign agreement with the full estimate',
        xTitle: 'K',
        yTitle: 'P(same sign)',
        points: pts((k) => k.meanSignAgreement),
        yDomain: [0, 1],
      }),
    );
  }

  const lenRows = runs.flatMap((r) => r.traceLength.map((b) => ({ run: r.run, ...b })));
  if (lenRows.length)
    add(
      REPORT_FILES.lengthSvg,
      lineSpec({
        title: 'Mean uplift vs trace length',
        xTitle: 'trace length (characters, bin midpoint)',
        yTitle: 'mean uplift',
        points: lenRows.map((b) => ({ x: (b.minChars + b.maxChars) / 2, y: b.meanUplift, series: b.run })),
      }),
    );

  const stepRows = runs.flatMap((r) => r.training.map((s) => ({ run: r.run, ...s })));
  if (stepRows.length) {
    add(
      REPORT_FILES.trainingSvg,
      lineSpec({
        title: 'Mean uplift per training step',
        xTitle: 'step',
        yTitle: 'mean uplift',
        points: stepRows.map((s) => ({ x: s.step, y: s.meanUplift, series: s.run })),
      }),
    );
    add(
      REPORT_FILES.trainingSharesSvg,
      lineSpec({
        title: 'Traces that help (+) and hurt (−) per step',
        xTitle: 'step',
        yTitle: 'share of traces',
        yDomain: [0, 1],
        points: stepRows.flatMap((s) => [
          { x: s.step, y: s.positiveShare, series: `${s.run} +` },
          { x: s.step, y: s.negativeShare, series: `${s.run} −` },
        ]),
      }),
    );
  }

  const { bars } = saturationBars(runs);
  if (bars.length)
    add(REPORT_FILES.saturationSvg, groupedBarSpec({ title: 'Score distributions', xTitle: 'score', yTitle: 'traces', bars }));
  return charts;
}

/** At most this many points in the per-sample chart (a long training run has hundreds of thousands). */
export const MAX_SAMPLE_POINTS = 2000;
/** Characters of each trace kept for the hover (the inspector shows it in full). */
export const SAMPLE_EXCERPT_CHARS = 400;

/**
 * One point per scored sample: its trace length and uplift, with what the
 * hover shows and what a click opens. Evenly thinned to `max` points
 * (deterministic: every n-th sample in run order).
 */
export function samplePoints(runs: Array<Pick<LoadedRun, 'dir' | 'name' | 'groups'>>, max = MAX_SAMPLE_POINTS): SamplePoint[] {
  const all: SamplePoint[] = [];
  for (const run of runs)
    for (const g of run.groups)
      for (const s of g.samples) {
        if (s.uplift === null) continue;
        const chars = [...s.trace];
        all.push({
          x: chars.length,
          y: s.uplift,
          series: run.name,
          runDir: run.dir,
          problemId: g.problem_id,
          sampleId: s.sample_id,
          step: g.step,
          success: s.with_trace.tally.rate,
          excerpt: chars.slice(0, SAMPLE_EXCERPT_CHARS).join('') + (chars.length > SAMPLE_EXCERPT_CHARS ? '…' : ''),
        });
      }
  if (all.length <= max) return all;
  const stride = all.length / max;
  return Array.from({ length: max }, (_, i) => all[Math.floor(i * stride)]!);
}

export { sampleScatterSpec };
