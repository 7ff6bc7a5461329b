/**
 * How stable an uplift estimate is in the number K of with-trace samples.
 * For a trace with V recorded with-trace samples (s successes) and baseline
 * rate b, the estimate from k of them is X/k − b with X the successes among
 * k samples drawn without replacement: hypergeometric (V, s, k). Its exact
 * distribution gives, per k = 1…V, the variance of the estimate and the
 * probability that its sign (−, 0, +) agrees with the full-V estimate's —
 * every k-subset of the recorded samples weighed equally, no random draws.
 */
import type { RolloutGroup } from '../contract';

/** log C(n, r). */
function logChoose(n: number, r: number): number {
  let s = 0;
  for (let i = 1; i <= r; i++) s += Math.log(n - r + i) - Math.log(i);
  return s;
}

/** P(X = x) for X ~ Hypergeometric(population V, successes s, draws k). */
export function hypergeometric(x: number, V: number, s: number, k: number): number {
  if (x < Math.max(0, k - (V - s)) || x > Math.min(k, s)) return 0;
  return Math.exp(logChoose(s, x) + logChoose(V - s, k - x) - logChoose(V, k));
}

export interface TraceKStability {
  k: number;
  /** Variance of the k-sample uplift estimate over k-subsets. */
  variance: number;
  /** P(sign of the k-sample estimate = sign of the full estimate). */
  signAgreement: number;
}

/** Per k = 1…V, for one trace with s successes of V samples and baseline rate b. */
export function traceKStability(successes: number, V: number, baselineRate: number): TraceKStability[] {
  const full = Math.sign(successes / V - baselineRate);
  const out: TraceKStability[] = [];
  for (let k = 1; k <= V; k++) {
    let mean = 0;
    let second = 0;
    let agree = 0;
    for (let x = 0; x <= k; x++) {
      const p = hypergeometric(x, V, successes, k);
      if (!p) continue;
      const est = x / k - baselineRate;
      mean += p * est;
      second += p * est * est;
      // Signs compared with a tolerance: x/k − b can miss 0 by a rounding error.
      if (Math.sign(Math.abs(est) < 1e-12 ? 0 : est) === full) agree += p;
    }
    out.push({ k, variance: Math.max(0, second - mean * mean), signAgreement: agree });
  }
  return out;
}

export interface KStabilityRow {
  k: number;
  /** Traces with at least k recorded samples. */
  traces: number;
  meanVariance: number;
  /** Standard deviation of the estimate, root of the mean variance. */
  rmsSd: number;
  meanSignAgreement: number;
}

/** Per k, means over every trace with at least k valid with-trace samples and a baseline. */
export function kStability(groups: RolloutGroup[]): KStabilityRow[] {
  const byK = new Map<number, { n: number; v: number; a: number }>();
  for (const g of groups) {
    for (const s of g.samples) {
      const base = (s.no_trace ?? g.baseline).tally.rate;
      const V = s.with_trace.tally.valid;
      if (base === null || V < 1) continue;
      for (const r of traceKStability(s.with_trace.tally.successes, V, base)) {
        const acc = byK.get(r.k) ?? { n: 0, v: 0, a: 0 };
        acc.n++;
        acc.v += r.variance;
        acc.a += r.signAgreement;
        byK.set(r.k, acc);
      }
    }
  }
  return [...byK.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([k, acc]) => ({
      k,
      traces: acc.n,
      meanVariance: acc.v / acc.n,
      rmsSd: Math.sqrt(acc.v / acc.n),
      meanSignAgreement: acc.a / acc.n,
    }));
}
