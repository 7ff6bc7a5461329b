/**
 * The trace diff's measurement block of a pair: per side, with-trace k/K,
 * baseline b/M, uplift with its 95 % interval, reward and the run; which
 * side is the reference; and a warning when the perturbed side scored a
 * higher uplift than its reference (the signal a reward should not show).
 */
import type { DiffPair, MeasuredTrace } from '../../../src/webviewProtocol';
import { h } from '../common/dom';
import { DASH, num, pct, signClass, signed } from '../common/format';

const rate = (successes: number | null, n: number | null, r: number | null) =>
  successes === null || n === null ? (r === null ? DASH : pct(r, 0)) : `${successes}/${n} = ${pct(r, 0)}`;

/** "[−0.213, +0.720]" (95 % interval of the uplift), or "" without one. */
export function intervalText(m: MeasuredTrace): string {
  return m.upliftLo === null || m.upliftHi === null ? '' : `[${signed(m.upliftLo, 2)}, ${signed(m.upliftHi, 2)}]`;
}

function sideRow(pair: DiffPair, which: 'left' | 'right'): HTMLElement {
  const m = pair[which].measured ?? null;
  const role =
    pair.reference === which ? 'reference' : pair.reference ? (pair.kind && pair.kind !== 'positive' ? 'perturbed' : 'other') : which;
  const cell = (field: string, text: string, extra: Record<string, string> = {}) => h('td', { dataset: { field, ...extra }, text });
  return h(
    'tr',
    { testid: `measured-${which}`, dataset: { role, measured: m ? 'yes' : 'no' } },
    h('th', { attrs: { scope: 'row' } }, `${which === 'left' ? 'left' : 'right'} · ${role}`),
    ...(m
      ? [
          cell('withTrace', rate(m.k, m.K, m.withRate)),
          cell('baseline', rate(m.baselineSuccesses, m.baselineValid, m.baselineRate)),
          cell('uplift', `${signed(m.uplift)} ${intervalText(m)}`.trim(), { sign: signClass(m.uplift) }),
          cell('reward', num(m.reward, 3)),
          cell('run', m.run),
        ]
      : [h('td', { attrs: { colspan: 5 }, className: 'note', text: 'not measured' })]),
  );
}

/** The block, or null when neither side was measured and no reference is known. */
export function measuredBlock(pair: DiffPair): HTMLElement | null {
  const l = pair.left.measured ?? null;
  const r = pair.right.measured ?? null;
  if (!l && !r) return null;
  const table = h(
    'table',
    { className: 'rubric measured', testid: 'measured', attrs: { 'aria-label': 'Measured uplift and reward of each side' } },
    h(
      'thead',
      {},
      h('tr', {}, ...['side', 'with trace (k/K)', 'baseline (b/M)', 'uplift [95% CI]', 'reward', 'run'].map((t) => h('th', { text: t }))),
    ),
    h('tbody', {}, sideRow(pair, 'left'), sideRow(pair, 'right')),
  );
  const ref = pair.reference === 'left' ? l : pair.reference === 'right' ? r : null;
  const other = pair.reference === 'left' ? r : pair.reference === 'right' ? l : null;
  const beats = pair.negativeBeatsReference
    ? h(
        'p',
        { className: 'message warning', testid: 'beats-reference', role: 'status' },
        `⚠ Negative beats reference: the perturbed trace${pair.kind ? ` (${pair.kind})` : ''} scored uplift ${signed(other?.uplift)}, ` +
          `above the reference's ${signed(ref?.uplift)}.` +
          (other && ref && overlaps(other, ref) ? ' Their 95% intervals overlap: with these K and M the gap may be noise.' : ''),
      )
    : null;
  return h('div', { className: 'measured-block' }, table, beats);
}

function overlaps(a: MeasuredTrace, b: MeasuredTrace): boolean {
  if (a.upliftLo === null || a.upliftHi === null || b.upliftLo === null || b.upliftHi === null) return false;
  return a.upliftLo <= b.upliftHi && b.upliftLo <= a.upliftHi;
}
