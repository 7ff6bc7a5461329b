/** Number formatting shared by the views (unknown values show as "—"). */
export const DASH = '—';

export function pct(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || Number.isNaN(x) ? DASH : `${(x * 100).toFixed(digits)}%`;
}

export function num(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || Number.isNaN(x) ? DASH : x.toFixed(digits);
}

/** Signed with a real minus sign: +0.292, −0.125, 0.000. */
export function signed(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || Number.isNaN(x)) return DASH;
  const s = Math.abs(x).toFixed(digits);
  if (Number(s) === 0) return (0).toFixed(digits);
  return (x > 0 ? '+' : '−') + s;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

export function signClass(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return 'unknown';
  return x > 0 ? 'pos' : x < 0 ? 'neg' : 'zero';
}

/** A mean with its 95 % interval: "+0.125 ± 0.210" (half-width), or the mean alone when n < 2. */
export function withInterval(
  m: { mean: number | null; lo: number | null; hi: number | null } | null | undefined,
  fmt: (x: number | null) => string = (x) => signed(x),
): string {
  if (!m || m.mean === null) return DASH;
  if (m.lo === null || m.hi === null) return fmt(m.mean);
  return `${fmt(m.mean)} ± ${num((m.hi - m.lo) / 2, 3)}`;
}

/** "95% CI −0.085 … +0.335 · SE 0.095 · n 12" (or why there is no interval). */
export function intervalDetail(m: { n: number; se: number | null; lo: number | null; hi: number | null } | null | undefined): string {
  if (!m || m.n === 0) return 'no values';
  if (m.lo === null || m.hi === null || m.se === null) return `n ${count(m.n)} (no interval from one value)`;
  return `95% CI ${signed(m.lo)} … ${signed(m.hi)} · SE ${num(m.se)} · n ${count(m.n)}`;
}
