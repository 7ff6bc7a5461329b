/**
 * The run's figures, each mean with its uncertainty (± the half-width of
 * its 95 % interval; the interval, SE and n beside it), and the per-kind
 * table: per negative_kind (and reference, planner…) n, mean uplift, mean Δ
 * vs the reference, mean reward — each with its 95 % interval — and how many
 * beat their reference.
 */
import type { KindRow, MeanIntervalMsg, RunState } from '../../../src/webviewProtocol';
import { byId, h, setText } from '../common/dom';
import { count, intervalDetail, num, pct, signClass, signed, DASH } from '../common/format';

export const figure = (id: string, label: string) =>
  h(
    'div',
    { className: 'figure', testid: id },
    h('span', { className: 'figure-label', text: label }),
    h('span', { id, className: 'figure-value', text: '—' }),
    h('span', { id: `${id}-ci`, testid: `${id}-ci`, className: 'figure-ci' }),
  );

/** "42.0% ± 5.1%" for rates, "+0.125 ± 0.210" for uplift/reward. */
export function meanText(m: MeanIntervalMsg, kind: 'rate' | 'signed' | 'plain'): string {
  const fmt = (x: number | null) => (kind === 'rate' ? pct(x) : kind === 'signed' ? signed(x) : num(x));
  if (m.mean === null) return DASH;
  if (m.lo === null || m.hi === null) return fmt(m.mean);
  const half = (m.hi - m.lo) / 2;
  return `${fmt(m.mean)} ± ${kind === 'rate' ? pct(half) : num(half)}`;
}

function setFigure(id: string, value: string, m: MeanIntervalMsg | null): void {
  setText(byId(id), value);
  const ci = byId(`${id}-ci`);
  setText(ci, m ? intervalDetail(m) : '');
}

export function renderFigures(st: RunState): void {
  const f = st.summary;
  const iv = st.intervals;
  setFigure('fig-groups', count(f.groups), null);
  setFigure('fig-traces', count(f.traces), null);
  // The engine's summary figures (summary.json) with the index's intervals around them.
  setFigure(
    'fig-with',
    f.withTraceSuccess === null ? DASH : meanText({ ...iv.withTraceSuccess, mean: f.withTraceSuccess }, 'rate'),
    iv.withTraceSuccess,
  );
  setFigure(
    'fig-without',
    f.noTraceSuccess === null ? DASH : meanText({ ...iv.noTraceSuccess, mean: f.noTraceSuccess }, 'rate'),
    iv.noTraceSuccess,
  );
  setFigure('fig-uplift', f.meanUplift === null ? DASH : meanText({ ...iv.uplift, mean: f.meanUplift }, 'signed'), iv.uplift);
  byId('fig-uplift').dataset.sign = signClass(f.meanUplift);
  setFigure('fig-reward', f.meanReward === null ? DASH : meanText({ ...iv.reward, mean: f.meanReward }, 'plain'), iv.reward);
  setFigure('fig-posneg', `${count(f.positiveUplift)} / ${count(f.negativeUplift)}`, null);
  setFigure('fig-failed', count(f.failedCalls), null);
  const beats = byId('fig-beats');
  setText(beats, st.reference.withReference ? count(st.reference.beats) : DASH);
  beats.dataset.beats = String(st.reference.beats);
  setText(
    byId('fig-beats-ci'),
    st.reference.withReference ? `of ${count(st.reference.withReference)} traces in groups with a reference` : 'no group has a reference',
  );
}

const KIND_COLUMNS = ['kind', 'n', 'mean uplift (95% CI)', 'Δ vs reference (95% CI)', 'mean reward (95% CI)', 'beat reference'];

export function kindTable(): HTMLElement {
  return h(
    'table',
    { id: 'kind-table', testid: 'kind-table', className: 'kind-table', attrs: { 'aria-label': 'Figures per trace kind' } },
    h('thead', {}, h('tr', {}, ...KIND_COLUMNS.map((c) => h('th', { text: c, attrs: { scope: 'col' } })))),
    h('tbody', { id: 'kind-rows' }),
  );
}

function cell(field: string, text: string, title?: string): HTMLElement {
  return h('td', { text, title, dataset: { field } });
}

/** Rebuilt only when a figure changed (a relayout of the table on every push is wasted work on a live run). */
let lastKinds = '';
export function renderKinds(kinds: KindRow[]): void {
  const key = JSON.stringify(kinds);
  if (key === lastKinds) return;
  lastKinds = key;
  const body = byId('kind-rows');
  body.replaceChildren(
    ...kinds.map((k) =>
      h(
        'tr',
        { testid: 'kind-row', className: k.beats ? 'beats' : undefined, dataset: { kind: k.kind } },
        cell('kind', k.kind),
        cell('n', count(k.n)),
        cell('uplift', meanText(k.uplift, 'signed'), intervalDetail(k.uplift)),
        cell('delta', meanText(k.delta, 'signed'), intervalDetail(k.delta)),
        cell('reward', meanText(k.reward, 'plain'), intervalDetail(k.reward)),
        cell('beats', k.delta.n ? count(k.beats) : DASH),
      ),
    ),
  );
}
