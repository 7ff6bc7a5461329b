/**
 * The charts that fit the run's kind. Every run: the uplift distribution
 * with its counts. A training run (groups with steps): reward and uplift
 * per step (mean with its 95 % interval as a band), loss and KL, seconds per
 * step split into generation / reward / update (stacked), groups per step,
 * checkpoints marked on the curves. Steps come pooled by the host (≤ 200
 * buckets), so a long run draws as fast as a short one.
 */
import type { RunState, StepPoint, TrainingState } from '../../../src/webviewProtocol';
import { bandChart, countHistogram, histogramLabel, stackedBars, type BandSeries } from '../common/charts';
import { byId, h, setText } from '../common/dom';
import { count, num, signed } from '../common/format';

const W = 320;
const H = 104;

function chartBox(id: string, caption: string): HTMLElement {
  return h(
    'figure',
    { id, testid: id, className: 'chart-box wide', role: 'group', attrs: { 'aria-label': caption } },
    h('figcaption', { text: caption }),
  );
}

export function chartsSection(): HTMLElement {
  return h(
    'div',
    { id: 'charts', testid: 'charts', className: 'charts' },
    chartBox('uplift-histogram', 'uplift distribution (traces per bin)'),
    h(
      'div',
      { id: 'train-charts', testid: 'train-charts', className: 'charts', attrs: { hidden: true } },
      chartBox('chart-reward', 'reward per step (mean, 95% CI band; | checkpoint)'),
      chartBox('chart-uplift', 'uplift and with-trace success per step (mean, 95% CI band)'),
      chartBox('chart-loss', 'loss and KL per step'),
      chartBox('chart-time', 'seconds per step: generation / reward / update'),
      chartBox('chart-groups', 'groups per step'),
    ),
  );
}

function put(id: string, chart: SVGElement): void {
  const box = byId(id);
  box.querySelector('svg')?.remove();
  box.insertBefore(chart, box.firstChild);
}

const mid = (p: StepPoint) => (p.from + p.to) / 2;

function renderTraining(t: TrainingState): void {
  const pts = t.steps;
  const markers = t.checkpoints.map((c) => c.step);
  const band = (name: string, cls: string, pick: (p: StepPoint) => StepPoint['reward']): BandSeries => ({
    name,
    cls,
    points: pts.map((p) => ({ x: mid(p), y: pick(p).mean, lo: pick(p).lo, hi: pick(p).hi })),
  });
  put('chart-reward', bandChart([band('reward', 'series-a', (p) => p.reward)], { xLabel: 'step', markers, width: W, height: H }));
  put(
    'chart-uplift',
    bandChart([band('uplift', 'series-b', (p) => p.uplift), band('with-trace success', 'series-a', (p) => p.withRate)], {
      xLabel: 'step',
      markers,
      zero: true,
      width: W,
      height: H,
    }),
  );
  const metric = (name: string, cls: string, key: string): BandSeries => ({
    name,
    cls,
    points: pts.filter((p) => key in p.metrics).map((p) => ({ x: mid(p), y: p.metrics[key]! })),
  });
  put(
    'chart-loss',
    bandChart([metric('loss', 'series-a', 'loss'), metric('KL', 'series-c', 'kl')], { xLabel: 'step', markers, width: W, height: H }),
  );
  put(
    'chart-time',
    stackedBars(
      [
        { name: 'generation', cls: 'gen' },
        { name: 'reward', cls: 'rew' },
        { name: 'update', cls: 'upd' },
      ],
      pts.map((p) => ({
        x0: p.from,
        x1: p.to,
        values: [p.metrics.time_generation_s ?? null, p.metrics.time_reward_s ?? null, p.metrics.time_update_s ?? null],
      })),
      { xLabel: 'step', unit: 's', width: W, height: H },
    ),
  );
  put(
    'chart-groups',
    stackedBars(
      [{ name: 'groups', cls: 'gen' }],
      pts.map((p) => ({ x0: p.from, x1: p.to, values: [p.to > p.from ? p.groups / (p.to - p.from + 1) : p.groups] })),
      { xLabel: 'step', unit: 'groups', width: W, height: H },
    ),
  );
  const last = pts[pts.length - 1];
  byId('train-charts').setAttribute(
    'aria-label',
    last
      ? `Training: ${count(pts.length)} step bucket(s) up to step ${last.to}; last reward ${num(last.reward.mean)}, uplift ${signed(last.uplift.mean)}, loss ${num(last.metrics.loss ?? null)}; ${count(t.checkpointCount)} checkpoint(s)`
      : 'Training: no steps yet',
  );
  const fig = byId('fig-step');
  setText(fig, last ? `${last.to}` : '—');
  setText(
    byId('fig-step-ci'),
    last
      ? `${count(last.groups)} group(s) in the last ${last.to > last.from ? `${last.to - last.from + 1} steps` : 'step'} · ${count(t.checkpointCount)} checkpoint(s)`
      : '',
  );
}

/** The histogram, redrawn only when its counts changed; the training panel shown for a training run. */
let lastHistogram = '';
export function renderCharts(st: RunState): void {
  const key = `${st.histogram.bins.join(',')}|${st.histogram.unknown}`;
  if (key !== lastHistogram) {
    lastHistogram = key;
    put('uplift-histogram', countHistogram(st.histogram.bins, st.histogram.unknown, { width: W, height: H }));
    byId('uplift-histogram').setAttribute('aria-label', histogramLabel(st.histogram.bins, st.histogram.unknown));
  }
  byId('train-charts').hidden = !st.isTraining;
  byId('fig-step').parentElement!.hidden = !st.isTraining;
}

/** A training run's curves (the host sends them at most once a second). */
export function renderTrainingCharts(t: TrainingState): void {
  renderTraining(t);
}
