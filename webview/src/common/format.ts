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
