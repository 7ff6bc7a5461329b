/**
 * A trace's measured uplift as the trace diff shows it: with-trace k/K,
 * baseline b/M, uplift = k/K − b/M with its 95 % interval, reward; and which
 * side of a pair is the reference, and whether the perturbed side beat it.
 *
 * The uplift is a difference of two independent binomial proportions with
 * small counts (K = 3, M = 8 are usual), where the Wald interval collapses to
 * zero width at 0/K or K/K; the Newcombe hybrid score interval (from each
 * rate's Wilson interval) keeps an honest width there. No `vscode` import.
 */
import type { MeasuredSample } from '../../services/measuredUplift';
import type { MeasuredTrace } from '../../../webviewProtocol';

const Z95 = 1.959963984540054;

/** Wilson score 95 % interval of `successes` out of `n` (null for n = 0). */
export function wilson(successes: number, n: number): { lo: number; hi: number } | null {
  if (!(n > 0) || successes < 0 || successes > n) return null;
  const p = successes / n;
  const z2 = Z95 * Z95;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (Z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  // At 0/n and n/n the bound is exactly the rate; the formula leaves rounding dust.
  return { lo: successes === 0 ? 0 : Math.max(0, centre - half), hi: successes === n ? 1 : Math.min(1, centre + half) };
}

/** Newcombe's 95 % interval of k/K − b/M (method 10: Wilson intervals of each rate combined). */
export function upliftInterval(k: number, K: number, b: number, M: number): { lo: number; hi: number } | null {
  const w1 = wilson(k, K);
  const w0 = wilson(b, M);
  if (!w1 || !w0) return null;
  const p1 = k / K;
  const p0 = b / M;
  const d = p1 - p0;
  return {
    lo: d - Math.sqrt((p1 - w1.lo) ** 2 + (w0.hi - p0) ** 2),
    hi: d + Math.sqrt((w1.hi - p1) ** 2 + (p0 - w0.lo) ** 2),
  };
}

/** A run's row for the trace, as the diff view shows it. */
export function measuredTraceOf(s: MeasuredSample): MeasuredTrace {
  const iv = upliftInterval(s.k, s.K, s.baselineSuccesses, s.baselineValid);
  return {
    run: s.run,
    sampleId: s.sampleId,
    k: s.K > 0 ? s.k : null,
    K: s.K > 0 ? s.K : null,
    withRate: s.withRate,
    baselineSuccesses: s.baselineValid > 0 ? s.baselineSuccesses : null,
    baselineValid: s.baselineValid > 0 ? s.baselineValid : null,
    baselineRate: s.baselineRate,
    uplift: s.uplift,
    upliftLo: iv?.lo ?? null,
    upliftHi: iv?.hi ?? null,
    reward: s.reward,
  };
}

type Meta = Record<string, string | number | null> | undefined;
const numIn = (meta: Meta, ...keys: string[]): number | null => {
  for (const key of keys) {
    const v = meta?.[key];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return null;
};
const intIn = (meta: Meta, ...keys: string[]) => {
  const v = numIn(meta, ...keys);
  return v !== null && Number.isInteger(v) && v >= 0 ? v : null;
};

/**
 * What a trace's facts (TraceText.meta, from a run's sample) say was measured:
 * uplift and reward, k/K, and the baseline when given (`baseline_successes`,
 * `baseline_valid` or `M`). Null when they hold no measurement.
 */
export function measuredFromMeta(meta: Meta, run: string): MeasuredTrace | null {
  const uplift = numIn(meta, 'uplift');
  const reward = numIn(meta, 'reward');
  if (uplift === null && reward === null) return null;
  const k = intIn(meta, 'k', 'with_trace_successes');
  const K = intIn(meta, 'K', 'with_trace_valid');
  const b = intIn(meta, 'baseline_successes');
  const M = intIn(meta, 'baseline_valid', 'M');
  const haveK = k !== null && K !== null && K > 0 && k <= K;
  const haveM = b !== null && M !== null && M > 0 && b <= M;
  const iv = haveK && haveM ? upliftInterval(k, K, b, M) : null;
  return {
    run: typeof meta?.run === 'string' ? meta.run : run,
    sampleId: typeof meta?.sample_id === 'string' ? meta.sample_id : null,
    k: haveK ? k : null,
    K: haveK ? K : null,
    withRate: haveK ? k / K : null,
    baselineSuccesses: haveM ? b : null,
    baselineValid: haveM ? M : null,
    baselineRate: haveM ? b / M : null,
    uplift,
    upliftLo: iv?.lo ?? null,
    upliftHi: iv?.hi ?? null,
    reward,
  };
}

/** A run sample's facts that mark it as a reference trace (its source, label or id). */
export function isReferenceMeta(title: string, meta: Meta): boolean {
  const source = meta?.source;
  if (source === 'reference' || source === 'positive') return true;
  if (meta?.label === 'reference') return true;
  const id = typeof meta?.sample_id === 'string' ? meta.sample_id : title;
  return /#(?:reference\d*|pos0)\b/.test(id);
}

/** A perturbed trace: source negative, or a `#neg<i>` id. */
export function isNegativeMeta(title: string, meta: Meta): boolean {
  if (meta?.source === 'negative') return true;
  const id = typeof meta?.sample_id === 'string' ? meta.sample_id : title;
  return /#neg\d+\b/.test(id);
}

/** Uplifts equal within rounding are a tie, not a win. */
const TIE = 1e-9;

export function beats(perturbed: MeasuredTrace | null | undefined, reference: MeasuredTrace | null | undefined): boolean {
  const p = perturbed?.uplift ?? null;
  const r = reference?.uplift ?? null;
  return p !== null && r !== null && p > r + TIE;
}
