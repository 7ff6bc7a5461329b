/**
 * Running means with their uncertainty, for the run view's figures (K and M
 * are small, so a mean without its spread says little). A MeanAcc keeps n,
 * Σx and Σx² so values can be added, taken back (a superseded group) and
 * pooled (steps merged into one chart bucket). Intervals are Student-t 95 %
 * intervals of the mean, treating the values as independent draws (the
 * quantile is the engine's, engine/analysis/stats.ts). No `vscode` import.
 */
import { studentTQuantile } from '../../../engine/analysis/stats';

export interface MeanAcc {
  n: number;
  sum: number;
  sumSq: number;
}

export const emptyMean = (): MeanAcc => ({ n: 0, sum: 0, sumSq: 0 });

/** Adds (sign 1) or takes back (sign −1) one value; null and NaN are not values. */
export function addValue(a: MeanAcc, x: number | null | undefined, sign: 1 | -1 = 1): void {
  if (x === null || x === undefined || x !== x) return;
  a.n += sign;
  a.sum += sign * x;
  a.sumSq += sign * x * x;
}

/** a += sign × b. */
export function mergeMean(a: MeanAcc, b: MeanAcc, sign: 1 | -1 = 1): void {
  a.n += sign * b.n;
  a.sum += sign * b.sum;
  a.sumSq += sign * b.sumSq;
}

/** A mean with its sample standard deviation, standard error and 95 % interval (nulls where n is too small). */
export interface MeanInterval {
  n: number;
  mean: number | null;
  sd: number | null;
  se: number | null;
  lo: number | null;
  hi: number | null;
}

const t975Cache = new Map<number, number>();

/** t(0.975, df), the engine's exact Student-t quantile (engine/analysis/stats.ts), remembered per df (a push asks for hundreds). */
export function t975(df: number): number {
  if (!(df >= 1)) return NaN;
  let t = t975Cache.get(df);
  if (t === undefined) {
    t = studentTQuantile(0.975, df);
    if (t975Cache.size > 10_000) t975Cache.clear();
    t975Cache.set(df, t);
  }
  return t;
}

export function meanInterval(a: MeanAcc): MeanInterval {
  const n = a.n;
  if (n <= 0) return { n: 0, mean: null, sd: null, se: null, lo: null, hi: null };
  const mean = a.sum / n;
  if (n < 2) return { n, mean, sd: null, se: null, lo: null, hi: null };
  // Sample variance; clamped at 0 against rounding in Σx² − n·mean².
  const variance = Math.max(0, (a.sumSq - n * mean * mean) / (n - 1));
  const sd = Math.sqrt(variance);
  const se = sd / Math.sqrt(n);
  const half = t975(n - 1) * se;
  return { n, mean, sd, se, lo: mean - half, hi: mean + half };
}
