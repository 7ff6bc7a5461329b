/**
 * stdout comparison for stdin/stdout tests, done in the engine (outside the
 * sandbox), with LiveCodeBench's rules: the whole text and every line are
 * stripped of surrounding whitespace (so trailing spaces, \r\n line ends and
 * trailing blank lines never matter), the line counts must agree, and two
 * lines that differ as text still match when they consist of the same number
 * of tokens that are equal as decimals ("1.0" = "1", "2e3" = "2000").
 */

export interface OutputMatch {
  ok: boolean;
  reason?: string;
}

function strippedLines(text: string): string[] {
  return text
    .replace(/\r\n?/g, '\n')
    .trim()
    .split('\n')
    .map((l) => l.trim());
}

const clip = (s: string, n = 80) => (s.length <= n ? s : `${s.slice(0, n)}…`);

export function compareStdout(actual: string, expected: string): OutputMatch {
  const got = strippedLines(actual);
  const want = strippedLines(expected);
  if (got.length !== want.length) {
    return { ok: false, reason: `wrong answer: expected ${want.length} line(s), got ${got.length}` };
  }
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (g === w) continue;
    if (decimalLinesEqual(g, w)) continue;
    return { ok: false, reason: `wrong answer at line ${i + 1}: got "${clip(g)}", expected "${clip(w)}"` };
  }
  return { ok: true };
}

function decimalLinesEqual(a: string, b: string): boolean {
  const ta = a.split(/\s+/).filter(Boolean);
  const tb = b.split(/\s+/).filter(Boolean);
  if (ta.length !== tb.length) return false;
  for (let i = 0; i < ta.length; i++) {
    const x = canonicalDecimal(ta[i]!);
    const y = canonicalDecimal(tb[i]!);
    if (x === null || y === null || x !== y) return false;
  }
  return true;
}

/** Canonical form of a decimal literal as Python's Decimal reads it, or null (NaN never equals). */
export function canonicalDecimal(token: string): string | null {
  const inf = /^([+-]?)(inf|infinity)$/i.exec(token);
  if (inf) return inf[1] === '-' ? '-inf' : 'inf';
  const m = /^([+-]?)(\d(?:_?\d)*)?(?:\.(\d(?:_?\d)*)?)?(?:[eE]([+-]?\d(?:_?\d)*))?$/.exec(token);
  if (!m || (m[2] === undefined && m[3] === undefined)) return null;
  const intPart = (m[2] ?? '').replace(/_/g, '');
  const frac = (m[3] ?? '').replace(/_/g, '');
  let exp = BigInt((m[4] ?? '0').replace(/_/g, '')) - BigInt(frac.length);
  let digits = (intPart + frac).replace(/^0+/, '');
  if (digits === '') return '0';
  const trimmed = digits.replace(/0+$/, '');
  exp += BigInt(digits.length - trimmed.length);
  digits = trimmed;
  return `${m[1] === '-' ? '-' : ''}${digits}e${exp}`;
}
