/**
 * Running means with their uncertainty, for the run view's figures (K and M
 * are small, so a mean without its spread says little). A MeanAcc keeps n,
 * Σx and Σx² so values can be added, taken back (a superseded group) and
 * pooled (steps merged into one chart bucket). Intervals are Student-t 95 %
 * intervals of the mean, treating the values as independent draws. No
 * `vscode` import.
 */

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

/** Two-sided 95 % Student-t critical values t(0.975, df) for df = 1…30. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093,
  2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** t(0.975, df): the table up to 30, then the standard values for 40, 60, 120 and the normal 1.960 beyond. */
export function t975(df: number): number {
  if (!(df >= 1)) return NaN;
  if (df <= 30) return T975[Math.floor(df) - 1]!;
  if (df <= 40) return 2.021;
  if (df <= 60) return 2.0;
  if (df <= 120) return 1.98;
  return 1.96;
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
