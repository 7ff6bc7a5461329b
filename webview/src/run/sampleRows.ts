/**
 * One sample per row (the "samples" table): problem, trace and its kind,
 * task and step, flags, k/K, baseline, uplift, Δ vs the group's reference,
 * reward, and a one-line preview of the trace. Pooled row elements are
 * refilled with text only.
 */
import type { Row } from '../../../src/webviewProtocol';
import { h, setText, shown } from '../common/dom';
import { num, signClass, signed } from '../common/format';

export const SAMPLE_ROW_HEIGHT = 52;

export const SAMPLE_COLUMNS = [
  { label: 'problem' },
  { label: 'trace · kind' },
  { label: 'task · step' },
  { label: 'flags' },
  { label: 'with k/K', sort: 'withRate', title: 'with-trace successes k over valid attempts K' },
  { label: 'baseline b/M', sort: 'baseline', title: 'no-trace successes b over M attempts' },
  { label: 'uplift', sort: 'uplift', title: 'k/K − b/M' },
  { label: 'Δ vs ref', sort: 'delta', title: "uplift − the group's reference uplift" },
  {
    label: 'reward · RM',
    sort: 'reward',
    title: 'reward, and the Reason RM score when the run has one (colour: RM < 0.4 / < 0.7 / ≥ 0.7)',
  },
];

const FLAG_TEXT: Record<string, [string, string | undefined]> = {
  'hidden-text': ['⚠ hidden characters', 'Invisible or reordering characters, shown as ⟨U+…⟩'],
  'beats-reference': ['negative beats reference', 'This perturbed trace has a higher uplift than its group’s reference'],
};

export function flagElements(flags: string[]): HTMLElement[] {
  return flags.map((f) => {
    const [text, title] = FLAG_TEXT[f] ?? [f, undefined];
    return h('span', { className: `flag flag-${f}`, text, title, testid: f === 'beats-reference' ? 'beats-flag' : undefined });
  });
}

/** Refills a flags cell when its flags changed. */
export function renderFlags(el: HTMLElement, flags: string[]): void {
  const text = flags.join(' ');
  if (el.dataset.value === text) return;
  el.dataset.value = text;
  el.replaceChildren(...flagElements(flags));
}

interface RowRefs {
  problem: HTMLElement;
  sample: HTMLElement;
  task: HTMLElement;
  flags: HTMLElement;
  kK: HTMLElement;
  baseline: HTMLElement;
  uplift: HTMLElement;
  delta: HTMLElement;
  reward: HTMLElement;
  preview: HTMLElement;
}
const refs = new WeakMap<HTMLElement, RowRefs>();

/** The RM-score band a reward cell is coloured by ('' without an RM score). */
export function rmBand(rm: number | null): string {
  if (rm === null) return '';
  return rm < 0.4 ? 'low' : rm < 0.7 ? 'mid' : 'high';
}

export function createSampleRow(): HTMLElement {
  const r: RowRefs = {
    problem: h('span', { className: 'c-problem', dataset: { field: 'problem' } }),
    sample: h('span', { className: 'c-sample', dataset: { field: 'sample' } }),
    task: h('span', { className: 'c-task', dataset: { field: 'task' } }),
    flags: h('span', { className: 'c-flags', dataset: { field: 'flags' } }),
    kK: h('span', { className: 'c-num', dataset: { field: 'kK' } }),
    baseline: h('span', { className: 'c-num', dataset: { field: 'baseline' } }),
    uplift: h('span', { className: 'c-num c-uplift', dataset: { field: 'uplift' } }),
    delta: h('span', { className: 'c-num', dataset: { field: 'delta' } }),
    reward: h('span', { className: 'c-num', dataset: { field: 'reward' } }),
    preview: h('div', { className: 'c-preview', dataset: { field: 'preview' } }),
  };
  const el = h(
    'div',
    { className: 'row', role: 'option', testid: 'run-row' },
    h('div', { className: 'row-line sample-grid' }, r.problem, r.sample, r.task, r.flags, r.kK, r.baseline, r.uplift, r.delta, r.reward),
    r.preview,
  );
  refs.set(el, r);
  return el;
}

export function renderSampleRow(el: HTMLElement, row: Row): void {
  const r = refs.get(el)!;
  setText(r.problem, row.problemId);
  setText(r.sample, row.label ? `${row.sampleId} · ${row.label}` : row.sampleId);
  setText(r.task, row.step !== null ? `${row.task} · step ${row.step}` : row.task);
  // 'hidden-text' and 'beats-reference' come from the host's index, which decides them once per row.
  renderFlags(r.flags, row.flags);
  setText(r.kK, `k/K ${row.k}/${row.K}${row.failed ? ` (+${row.failed} failed)` : ''}`);
  setText(r.baseline, `base ${row.baselineSuccesses}/${row.baselineValid} = ${num(row.baselineRate, 2)}`);
  setText(r.uplift, `uplift ${signed(row.uplift)}`);
  r.uplift.dataset.sign = signClass(row.uplift);
  setText(r.delta, row.delta === null ? '' : `Δ ${signed(row.delta)}`);
  r.delta.dataset.sign = signClass(row.delta);
  setText(r.reward, row.rm === null ? `reward ${num(row.reward)}` : `reward ${num(row.reward)} · RM ${num(row.rm)}`);
  // Coloured by the Reason RM's score when there is one (low / mid / high), so RM-scored runs read at a glance.
  r.reward.dataset.rm = rmBand(row.rm);
  setText(r.preview, row.preview);
  el.setAttribute(
    'aria-label',
    shown(
      `${row.problemId} ${row.sampleId}: uplift ${signed(row.uplift)}${row.delta !== null ? `, ${signed(row.delta)} vs reference` : ''}, reward ${num(row.reward)}, k/K ${row.k}/${row.K}`,
    ),
  );
}
