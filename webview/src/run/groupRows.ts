/**
 * The group table: one row per rollout group (problem, step and task, its
 * traces by kind, Σk/ΣK, baseline, the reference's uplift, the best
 * negative's Δ vs the reference, mean reward, flags — with a "negative
 * beats reference" badge), and under an expanded group one row per trace
 * with its own uplift and Δ. Pooled elements refilled with text only.
 */
import type { GroupItem, GroupRow, Row } from '../../../src/webviewProtocol';
import { h, setText, shown } from '../common/dom';
import { count, num, signClass, signed } from '../common/format';
import { renderFlags } from './sampleRows';

export const GROUP_ROW_HEIGHT = 30;

export const GROUP_COLUMNS = [
  { label: '' },
  { label: 'problem / trace' },
  { label: 'step · task / kind' },
  { label: 'traces / source' },
  { label: 'with k/K', title: 'with-trace successes over valid attempts (a group: summed over its traces)' },
  { label: 'baseline', title: 'no-trace successes b over M attempts' },
  {
    label: 'uplift',
    sort: 'reference',
    title: "a group: its reference's uplift (mean over reference traces), else the mean; a trace: its own",
  },
  { label: 'Δ vs ref', sort: 'delta', title: "a group: the largest Δ among its negatives; a trace: uplift − the group's reference uplift" },
  { label: 'reward', sort: 'reward', title: 'a group: mean reward of its traces' },
  { label: 'flags', sort: 'beats', title: 'negatives above the reference, errors' },
];

interface Refs {
  twisty: HTMLElement;
  problem: HTMLElement;
  where: HTMLElement;
  traces: HTMLElement;
  kK: HTMLElement;
  baseline: HTMLElement;
  uplift: HTMLElement;
  delta: HTMLElement;
  reward: HTMLElement;
  flags: HTMLElement;
}
const refs = new WeakMap<HTMLElement, Refs>();

export function createGroupItem(): HTMLElement {
  const r: Refs = {
    twisty: h('span', { className: 'g-twisty', attrs: { 'aria-hidden': 'true' } }),
    problem: h('span', { className: 'g-problem', dataset: { field: 'problem' } }),
    where: h('span', { className: 'g-muted', dataset: { field: 'where' } }),
    traces: h('span', { className: 'g-muted', dataset: { field: 'traces' } }),
    kK: h('span', { className: 'c-num', dataset: { field: 'kK' } }),
    baseline: h('span', { className: 'c-num', dataset: { field: 'baseline' } }),
    uplift: h('span', { className: 'c-num', dataset: { field: 'uplift' } }),
    delta: h('span', { className: 'c-num', dataset: { field: 'delta' } }),
    reward: h('span', { className: 'c-num', dataset: { field: 'reward' } }),
    flags: h('span', { className: 'c-flags', dataset: { field: 'flags' } }),
  };
  const el = h(
    'div',
    { className: 'group-item group-grid', role: 'option' },
    r.twisty,
    r.problem,
    r.where,
    r.traces,
    r.kK,
    r.baseline,
    r.uplift,
    r.delta,
    r.reward,
    r.flags,
  );
  refs.set(el, r);
  return el;
}

function tracesText(g: GroupRow): string {
  const parts: string[] = [];
  if (g.references) parts.push(`${g.references} ref`);
  if (g.negatives) parts.push(`${g.negatives} neg`);
  const other = g.samples - g.references - g.negatives;
  if (other) parts.push(`${other} other`);
  return parts.join(' · ') || `${g.samples}`;
}

function renderGroup(el: HTMLElement, r: Refs, g: GroupRow, expanded: boolean): void {
  el.setAttribute('data-testid', 'group-row');
  el.classList.remove('sample-item');
  el.setAttribute('aria-expanded', expanded ? 'true' : 'false');
  el.dataset.beats = String(g.beats);
  setText(r.twisty, expanded ? '▾' : '▸');
  setText(r.problem, g.problemId);
  setText(r.where, g.step !== null ? `step ${g.step} · ${g.task}` : g.task);
  setText(r.traces, tracesText(g));
  setText(r.kK, `${g.k}/${g.K}`);
  setText(r.baseline, `${g.baselineSuccesses}/${g.baselineValid} = ${num(g.baselineRate, 2)}`);
  setText(r.uplift, g.refUplift !== null ? `ref ${signed(g.refUplift)}` : `mean ${signed(g.meanUplift)}`);
  r.uplift.dataset.sign = signClass(g.refUplift ?? g.meanUplift);
  r.delta.classList.toggle('best-negative', g.beats > 0);
  if (g.maxNegativeDelta !== null) setText(r.delta, `max ${signed(g.maxNegativeDelta)}`);
  else setText(r.delta, g.bestUplift !== null ? `best ${signed(g.bestUplift)}` : '');
  r.delta.dataset.sign = signClass(g.maxNegativeDelta);
  setText(r.reward, num(g.meanReward));
  const badge = g.beats
    ? h('span', {
        className: 'flag beats-badge',
        testid: 'beats-flag',
        text: `negative beats reference${g.beats > 1 ? ` ×${g.beats}` : ''}`,
        title: `${count(g.beats)} perturbed trace(s) scored a higher uplift than the reference`,
      })
    : null;
  const others = g.flags.filter((f) => f !== 'beats-reference');
  const key = `${g.beats}|${others.join(' ')}`;
  if (r.flags.dataset.value !== key) {
    r.flags.dataset.value = key;
    r.flags.replaceChildren(
      ...(badge ? [badge] : []),
      ...others.map((f) => h('span', { className: `flag flag-${f}`, text: f === 'hidden-text' ? '⚠ hidden characters' : f })),
    );
  }
  el.setAttribute(
    'aria-label',
    shown(
      `${g.problemId}${g.step !== null ? ` step ${g.step}` : ''}: ${tracesText(g)}, reference uplift ${signed(g.refUplift)}, ${g.beats ? `${g.beats} negative(s) beat the reference` : 'no negative beats the reference'}${expanded ? ', expanded' : ''}`,
    ),
  );
}

function sampleName(row: Row): string {
  return row.sampleId.startsWith(`${row.problemId}#`) ? row.sampleId.slice(row.problemId.length + 1) : row.sampleId;
}

function renderSample(el: HTMLElement, r: Refs, row: Row): void {
  el.setAttribute('data-testid', 'group-sample-row');
  el.classList.add('sample-item');
  el.removeAttribute('aria-expanded');
  delete el.dataset.beats;
  setText(r.twisty, '');
  setText(r.problem, `↳ ${sampleName(row)}`);
  setText(r.where, row.label ?? '');
  setText(r.traces, row.source);
  setText(r.kK, `${row.k}/${row.K}${row.failed ? ` +${row.failed}✕` : ''}`);
  setText(r.baseline, '');
  setText(r.uplift, signed(row.uplift));
  r.uplift.dataset.sign = signClass(row.uplift);
  setText(r.delta, row.delta === null ? '' : `Δ ${signed(row.delta)}`);
  r.delta.dataset.sign = signClass(row.delta);
  r.delta.classList.toggle('best-negative', row.flags.includes('beats-reference'));
  setText(r.reward, num(row.reward));
  renderFlags(r.flags, row.flags);
  el.setAttribute(
    'aria-label',
    shown(
      `${row.sampleId} (${row.source}${row.label ? ` ${row.label}` : ''}): uplift ${signed(row.uplift)}, Δ vs reference ${signed(row.delta)}`,
    ),
  );
}

export function renderGroupItem(el: HTMLElement, item: GroupItem): void {
  const r = refs.get(el)!;
  if (item.kind === 'group') renderGroup(el, r, item.group, item.expanded);
  else renderSample(el, r, item.row);
}
