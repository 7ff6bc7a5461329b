/**
 * Numeric answer extraction and comparison for GSM8K-style tasks
 * (gsm8k, gsm_hard, svamp). Pure and synchronous.
 *
 * Extraction order for free model text:
 *   1. explicit answer markers — `#### X`, `\boxed{X}`, "the answer is X",
 *      "Answer: X" — the LAST marker (by position) whose payload holds a number;
 *   2. otherwise the last number in the text.
 * A final answer that offers alternatives ("18 or 19", "either 3 or 4",
 * "x = 3 or x = 4") is no answer: it is reported as hedged and never correct.
 *
 * Comparison is exact, on rationals (BigInt):
 *   - a machine-written decimal (12 or more significant digits, more than 6
 *     after the point: GSM-Hard's `3244047.0999999996`) first becomes the
 *     simplest fraction within 4 units in the last place of its double
 *     (denominator ≤ 10^6), else within half a unit of its last digit
 *     (denominator ≤ 100): 3244047.0999999996 is 32440471/10,
 *     10074005.666666666 is 30222017/3, 5489.5466666667 is 411716/75; with
 *     no such fraction it counts as a value known only approximately;
 *   - a decimal written with d ≥ 1 fractional digits also matches a value
 *     whose decimal expansion does not terminate (1/3, or a float rendering
 *     with no simple fraction) when it is that value rounded or truncated at
 *     its last digit (|a − b| < 10^−d) and within a relative 10^−6
 *     (`NUMERIC_REL_TOL`): 0.333333333 and 10074005.67 match, 0.33 does not.
 * So 3244047.1 matches 3244047.0999999996, while 3244047 and 3244050 do not.
 * A percent (`50%`) matches both 50 and 0.5.
 */

export interface NumericVerdict {
  correct: boolean;
  /** Canonical text of the number taken from the prediction (the hedged text when `hedged`), or null. */
  extracted: string | null;
  /** The prediction's final answer offers alternatives ("18 or 19"): never correct. */
  hedged?: true;
}

/** Largest relative error of a rounded decimal accepted for a non-terminating value. */
export const NUMERIC_REL_TOL = 1e-6;
/**
 * A decimal with at least this many significant digits and more than
 * MAX_EXACT_FRACTION_DIGITS fractional digits was written by a machine
 * (a float's repr, or a rounding to many places), not by a person.
 */
const FLOAT_RENDERING_MIN_DIGITS = 12;
const MAX_EXACT_FRACTION_DIGITS = 6;
/** Float noise: the simplest fraction within this many units in the last place of the double… */
const FLOAT_RECOVERY_ULPS = 4;
/** …whose denominator is at most this (as the official checker's limit_denominator). */
const FLOAT_RECOVERY_MAX_DEN = 1_000_000n;
/**
 * Machine rounding (5489.5466666667): the simplest fraction within half a unit
 * of the last digit, with a small denominator so that a chance fit is unlikely.
 */
const ROUNDING_RECOVERY_MAX_DEN = 100n;
const MAX_EXACT_EXPONENT = 400;
const MAX_TEXT_CHARS = 50_000;

// ---------------------------------------------------------------------------
// Values

interface Rational {
  num: bigint;
  den: bigint; // > 0
}

interface NumericValue {
  /** Exact value, or null when only the float is known (exponent out of range). */
  exact: Rational | null;
  approx: number;
  /** A float rendering with no simple fraction behind it: its expansion is treated as non-terminating. */
  inexact: boolean;
  /** Fractional digits as written (a rounded decimal is compared at this precision); null for fractions. */
  decimals: number | null;
  percent: boolean;
}

function bigAbs(x: bigint): bigint {
  return x < 0n ? -x : x;
}

function gcd(a: bigint, b: bigint): bigint {
  a = bigAbs(a);
  b = bigAbs(b);
  while (b !== 0n) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

function makeRational(num: bigint, den: bigint): Rational | null {
  if (den === 0n) return null;
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const g = gcd(num, den);
  return g > 1n ? { num: num / g, den: den / g } : { num, den };
}

function ratToNumber(r: Rational): number {
  const n = Number(r.num);
  const d = Number(r.den);
  if (Number.isFinite(n) && Number.isFinite(d)) return n / d;
  // Very large parts: scale via string lengths.
  const shift = Math.max(r.num.toString().length, r.den.toString().length) - 300;
  const s = 10n ** BigInt(Math.max(shift, 0));
  return Number(r.num / s) / Number(r.den / s);
}

function floorDiv(a: bigint, b: bigint): bigint {
  // b > 0
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

function ratCompare(a: Rational, b: Rational): number {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

function ratSub(a: Rational, b: Rational): Rational {
  return makeRational(a.num * b.den - b.num * a.den, a.den * b.den)!;
}

/** The simplest fraction (smallest denominator) in [lo, hi], 0 < lo ≤ hi, or null past `maxDen`. */
function simplestPositiveBetween(lo: Rational, hi: Rational, maxDen: bigint): Rational | null {
  // Continued-fraction walk; each step inverts the fractional parts.
  const terms: bigint[] = [];
  let a = lo;
  let b = hi;
  for (let depth = 0; depth < 128; depth++) {
    const fl = floorDiv(a.num, a.den);
    if (fl * a.den === a.num) {
      terms.push(fl);
      break;
    }
    if (ratCompare({ num: fl + 1n, den: 1n }, b) <= 0) {
      terms.push(fl + 1n);
      break;
    }
    terms.push(fl);
    const fa = ratSub(a, { num: fl, den: 1n });
    const fb = ratSub(b, { num: fl, den: 1n });
    a = { num: fb.den, den: fb.num };
    b = { num: fa.den, den: fa.num };
    if (depth === 127) return null;
  }
  let num = 1n;
  let den = 0n;
  for (let i = terms.length - 1; i >= 0; i--) {
    [num, den] = [terms[i]! * num + den, num];
    if (den > maxDen) return null;
  }
  return makeRational(num, den);
}

/**
 * A float rendering such as 3244047.0999999996 stands for the simplest
 * fraction within a few units in the last place of the double it prints
 * (32440471/10); a machine rounding such as 5489.5466666667 for the simplest
 * small-denominator fraction within half a unit of its last digit
 * (411716/75). Null when there is no such fraction.
 */
function recoverFloat(value: Rational, approx: number, decimals: number): Rational | null {
  if (!Number.isFinite(approx) || approx === 0) return null;
  const exp = Math.floor(Math.log2(Math.abs(approx))) - 52;
  const ulps = BigInt(FLOAT_RECOVERY_ULPS);
  const noise: Rational = exp >= 0 ? { num: ulps * 2n ** BigInt(exp), den: 1n } : { num: ulps, den: 2n ** BigInt(-exp) };
  const halfUnit: Rational = { num: 1n, den: 2n * 10n ** BigInt(decimals) };
  return simplestNear(value, noise, FLOAT_RECOVERY_MAX_DEN) ?? simplestNear(value, halfUnit, ROUNDING_RECOVERY_MAX_DEN);
}

function simplestNear(value: Rational, delta: Rational, maxDen: bigint): Rational | null {
  const negative = value.num < 0n;
  const abs: Rational = { num: bigAbs(value.num), den: value.den };
  const lo = ratSub(abs, delta);
  if (lo.num <= 0n) return null;
  const hi = makeRational(abs.num * delta.den + delta.num * abs.den, abs.den * delta.den)!;
  const found = simplestPositiveBetween(lo, hi, maxDen);
  if (!found) return null;
  return negative ? { num: -found.num, den: found.den } : found;
}

/**
 * Parses the core of a decimal number (no commas, no `$`): `-12.50`, `.5`,
 * `1e6`, `3.2E-4`.
 */
function parseDecimal(text: string): NumericValue | null {
  const m = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return null;
  const sign = m[1] === '-' ? -1n : 1n;
  const intPart = m[2] ?? '';
  const fracRaw = m[3] ?? '';
  if (intPart === '' && fracRaw === '') return null;
  const exp = m[4] !== undefined ? Number.parseInt(m[4], 10) : 0;
  const approx = Number(text);
  if (!Number.isFinite(exp) || Math.abs(exp) > MAX_EXACT_EXPONENT) {
    return Number.isNaN(approx) ? null : { exact: null, approx, inexact: true, decimals: null, percent: false };
  }
  // Digits after the point as written, once the exponent is applied ("18.50" has 2).
  const decimals = Math.max(fracRaw.length - exp, 0);
  const fracDigits = fracRaw.replace(/0+$/, '');
  const digits = BigInt((intPart || '0') + fracDigits) * sign;
  const scale = fracDigits.length - exp;
  let exact = scale >= 0 ? makeRational(digits, 10n ** BigInt(scale)) : makeRational(digits * 10n ** BigInt(-scale), 1n);
  let inexact = false;
  const significant = ((intPart || '0') + fracDigits).replace(/^0+/, '').length;
  if (exact && Math.max(scale, 0) > MAX_EXACT_FRACTION_DIGITS && significant >= FLOAT_RENDERING_MIN_DIGITS) {
    const recovered = recoverFloat(exact, approx, Math.max(scale, 0));
    if (recovered) exact = recovered;
    else inexact = true;
  }
  return {
    exact,
    approx: Number.isNaN(approx) ? (exact ? ratToNumber(exact) : Number.NaN) : approx,
    inexact,
    decimals,
    percent: false,
  };
}

function divideValues(a: NumericValue, b: NumericValue): NumericValue | null {
  if (b.approx === 0 && (b.exact === null || b.exact.num === 0n)) return null;
  const exact = a.exact && b.exact ? makeRational(a.exact.num * b.exact.den, a.exact.den * b.exact.num) : null;
  return {
    exact,
    approx: exact ? ratToNumber(exact) : a.approx / b.approx,
    inexact: a.inexact || b.inexact || exact === null,
    decimals: null,
    percent: false,
  };
}

// ---------------------------------------------------------------------------
// Text normalisation

const WORD_NUMBERS: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
  hundred: 100,
};

/** Undoes the LaTeX / typography that hides plain numbers. */
function normalizeText(text: string): string {
  let s = text;
  s = s.replace(/[\u2212\u2013\u2014\u2012]/g, '-'); // unicode minus / dashes
  s = s.replace(/[\u00a0\u2009\u202f]/g, ' ');
  s = s.replace(/(\d)\{,\}(?=\d)/g, '$1,'); // 1{,}000
  s = s.replace(/\\[!,;: ]/g, ' ');
  s = s.replace(/\\\$/g, '$');
  s = s.replace(/\\%/g, '%');
  s = s.replace(/\\(?:left|right)\b/g, '');
  s = s.replace(/\\(?:text|textbf|textrm|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}/g, ' $1 ');
  // \frac{a}{b}, \dfrac{a}{b}, \tfrac12, with an optional leading minus.
  for (let i = 0; i < 3; i++) {
    s = s.replace(/\\[dt]?frac\s*\{\s*([^{}]*?)\s*\}\s*\{\s*([^{}]*?)\s*\}/g, ' ($1)/($2) ');
    s = s.replace(/\\[dt]?frac\s*(\d)\s*(\d)/g, ' $1/$2 ');
  }
  // "(3)/(4)" from the rewrite above becomes "3/4" when both sides are plain numbers.
  s = s.replace(/\(\s*(-?[\d.,]+)\s*\)\s*\/\s*\(\s*([\d.,]+)\s*\)/g, '$1/$2');
  s = s.replace(/-\s+(\d+\/\d+)/g, '-$1');
  // Mixed numbers "2 1/2" (proper fraction part only) -> "5/2".
  s = s.replace(/(?<![\d.,/])(\d{1,9}) +(\d{1,9})\s*\/\s*(\d{1,9})(?![\d./])/g, (all, a: string, b: string, c: string) => {
    const [w, n, d] = [BigInt(a), BigInt(b), BigInt(c)];
    return d > 0n && n > 0n && n < d ? `${w * d + n}/${d}` : all;
  });
  s = s.replace(/\^\s*\{?\\circ\}?/g, ' ');
  s = s.replace(/\\(?:cdot|times)/g, ' * ');
  return s;
}

// ---------------------------------------------------------------------------
// Number scanning

/**
 * One number token: optional sign and `$`, a thousands-grouped or plain
 * integer part with optional decimals (or a bare `.5`), an optional exponent,
 * an optional `/denominator`, an optional percent.
 */
const NUMBER_RE =
  /(-)?(\$\s?)?((?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?|\.\d+)([eE][+-]?\d+(?![A-Za-z\d]))?(?:\s*\/\s*(\d+(?:\.\d+)?)(?![\d.]*\d))?(\s*(?:%|percent\b|per\s+cent\b))?/g;

interface NumberToken {
  index: number;
  end: number;
  canonical: string;
}

function scanNumbers(text: string): NumberToken[] {
  const out: NumberToken[] = [];
  NUMBER_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = NUMBER_RE.exec(text)) !== null) {
    if (m[0].length === 0) {
      NUMBER_RE.lastIndex++;
      continue;
    }
    const start = m.index;
    const before = start > 0 ? (text[start - 1] ?? '') : '';
    let negative = m[1] === '-';
    const core = m[3] ?? '';
    if (negative && /[\w.)\]}]/.test(before)) {
      // binary minus ("10-3"): the number itself is positive
      negative = false;
    } else if (!negative && !m[2] && /[A-Za-z_]/.test(before)) {
      // part of an identifier such as x2 or H2O
      continue;
    }
    let canonical = (negative ? '-' : '') + core.replace(/,/g, '') + (m[4] ?? '');
    if (m[5] !== undefined) canonical += '/' + m[5];
    if (m[6] !== undefined) canonical += '%';
    out.push({ index: start, end: start + m[0].length, canonical });
  }
  return out;
}

/** First number in a marker payload; takes the part after the last "=". */
function numberInPayload(payload: string): string | null {
  let seg = payload;
  const eq = seg.lastIndexOf('=');
  if (eq >= 0 && /\d/.test(seg.slice(eq + 1))) seg = seg.slice(eq + 1);
  const tokens = scanNumbers(seg);
  if (tokens.length > 0) return tokens[0]!.canonical;
  const word = /^[\s:*$(]*(?:(negative|minus)\s+)?([a-z]+)\b/i.exec(seg);
  if (word) {
    const v = WORD_NUMBERS[(word[2] ?? '').toLowerCase()];
    if (v !== undefined) return (word[1] ? '-' : '') + String(v);
  }
  return null;
}

/** Balanced-brace content of every \boxed{...} / \fbox{...}, with positions. */
function boxedContents(text: string): { index: number; content: string }[] {
  const out: { index: number; content: string }[] = [];
  const re = /\\(?:boxed|fbox)\s*\{/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    let depth = 1;
    let j = m.index + m[0].length;
    const start = j;
    for (; j < text.length && depth > 0; j++) {
      const c = text[j];
      if (c === '{') depth++;
      else if (c === '}') depth--;
    }
    if (depth === 0) out.push({ index: m.index, content: text.slice(start, j - 1) });
  }
  return out;
}

const ANSWER_PHRASE_RE = /\banswer(?:\s*\*\*)?\s*(?:is\b|:|=|would\s+be\b|will\s+be\b|should\s+be\b)\s*(?:\*\*)?\s*(?::\s*)?/gi;
const HASH_RE = /####\s*/g;
const CONTINUATION_RE = /\n\s*(?:#+\s*)?(?:question|q|problem|user|human|instruction)\s*\d*\s*[:.]/gi;
const STOP_TOKENS = ['<|im_end|>', '<|endoftext|>', '</s>', '<|eot_id|>'];

function firstSentence(s: string): string {
  const line = s.replace(/^\s+/, '').split('\n', 1)[0] ?? '';
  const cut = /\.(?:\s|$)/.exec(line);
  return (cut ? line.slice(0, cut.index) : line).slice(0, 200);
}

interface MarkerHit {
  index: number;
  value: string;
  /** The marker's payload (its first sentence, or the boxed content): where a hedge would be. */
  segment: string;
}

/**
 * Two numbers offered as alternatives: "18 or 19", "18 dollars or 19 dollars",
 * "3 (or 4)", "x = 3 or x = 4", "either 3 or 4".
 */
const HEDGE_RE =
  /(?<![\w.])-?\$?\d[\d,]*(?:\.\d+)?(?:\/\d+)?%?\s*(?:[A-Za-z]+\s*)?,?\s*\(?\s*(?:or|and\/or)\s+(?:(?:maybe|perhaps|possibly|even|else)\s+)?(?:[A-Za-z]\s*=\s*)?\(?\s*-?\$?\s?\d[\d,]*(?:\.\d+)?(?:\/\d+)?%?/gi;

/**
 * The hedge in `segment`, if any. With `atEnd`, only a hedge that nothing
 * numeric follows counts: "x = 3 or x = -3, and x > 0, so x = 3" reasons
 * through alternatives and then answers.
 */
function findHedge(segment: string, atEnd: boolean): string | null {
  HEDGE_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  let found: string | null = null;
  while ((m = HEDGE_RE.exec(segment)) !== null) {
    if (!atEnd || !/\d/.test(segment.slice(m.index + m[0].length))) found = m[0].replace(/\s+/g, ' ').trim();
  }
  return found;
}

function markerHits(text: string): MarkerHit[] {
  const hits: MarkerHit[] = [];
  for (const re of [HASH_RE, ANSWER_PHRASE_RE]) {
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      const after = text.slice(m.index + m[0].length, m.index + m[0].length + 400);
      // "The answer is \boxed{18}" is handled by the boxed hit.
      const segment = firstSentence(after.replace(/\\(?:boxed|fbox)\s*\{/, ''));
      const value = numberInPayload(segment);
      if (value !== null) hits.push({ index: m.index, value, segment });
    }
  }
  for (const b of boxedContents(text)) {
    const value = numberInPayload(b.content);
    if (value !== null) hits.push({ index: b.index, value, segment: b.content });
  }
  return hits.sort((a, b) => a.index - b.index);
}

/** The final numeric answer of a text, or the hedge that stands in its place. */
interface NumericReading {
  /** Canonical number, or null (no number, or a hedge). */
  answer: string | null;
  /** The alternatives offered instead of one answer ("18 or 19"), or null. */
  hedge: string | null;
}

function readNumericAnswer(text: string): NumericReading {
  if (typeof text !== 'string' || text.length === 0) return { answer: null, hedge: null };
  let s = text.length > MAX_TEXT_CHARS ? text.slice(-MAX_TEXT_CHARS) : text;
  for (const tok of STOP_TOKENS) {
    const i = s.indexOf(tok);
    if (i > 0 && /\d/.test(s.slice(0, i))) s = s.slice(0, i);
  }
  s = normalizeText(s);
  let hits = markerHits(s);
  if (hits.length > 0) {
    // A small model that rambles on into a made-up next question: ignore
    // everything from the first such line after the first answer marker.
    CONTINUATION_RE.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = CONTINUATION_RE.exec(s)) !== null) {
      if (m.index > hits[0]!.index) {
        const cut = m.index;
        hits = hits.filter((h) => h.index < cut);
        break;
      }
    }
    const last = hits[hits.length - 1];
    if (last) {
      const hedge = findHedge(last.segment, false);
      return hedge !== null ? { answer: null, hedge } : { answer: last.value, hedge: null };
    }
  }
  const tokens = scanNumbers(s);
  const lastTok = tokens[tokens.length - 1];
  if (!lastTok) return { answer: null, hedge: null };
  const hedge = findHedge(s.slice(-400), true);
  return hedge !== null ? { answer: null, hedge } : { answer: lastTok.canonical, hedge: null };
}

/**
 * Extracts the final numeric answer from free text, or null when the text
 * holds no number or offers alternatives ("18 or 19"). The result is
 * canonical: no commas or `$`, a leading `-` for negatives, `a/b` for
 * fractions, a trailing `%` for percents.
 */
export function extractNumericAnswer(text: string): string | null {
  return readNumericAnswer(text).answer;
}

// ---------------------------------------------------------------------------
// Parsing a single answer string

/** Parses a canonical / plain answer string ("1,000", "$18.00", "-3/4", "50%"). */
function parseAnswerString(text: string): NumericValue | null {
  let s = normalizeText(text).trim();
  s = s.replace(/^\$\s*|\s*\$$/g, '').trim(); // $...$ math delimiters or currency
  s = s.replace(/^\\\(|\\\)$/g, '').trim();
  let percent = false;
  const pm = /^(.*?)\s*(?:%|percent|per\s+cent)$/i.exec(s);
  if (pm) {
    percent = true;
    s = (pm[1] ?? '').trim();
  }
  s = s.replace(/^\(\s*(.*?)\s*\)$/, '$1');
  let negative = false;
  if (s.startsWith('-')) {
    negative = true;
    s = s.slice(1).trim();
  } else if (s.startsWith('+')) {
    s = s.slice(1).trim();
  }
  s = s.replace(/^\$\s*/, '');
  const strip = (x: string): string | null => {
    const t = x.trim();
    if (/^\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(t)) return t.replace(/,/g, '');
    if (/^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(t)) return t;
    return null;
  };
  let value: NumericValue | null;
  const slash = s.indexOf('/');
  if (slash >= 0) {
    const a = strip(s.slice(0, slash).replace(/^\(|\)$/g, ''));
    const b = strip(s.slice(slash + 1).replace(/^\(|\)$/g, ''));
    if (a === null || b === null) return null;
    const av = parseDecimal(a);
    const bv = parseDecimal(b);
    if (!av || !bv) return null;
    value = divideValues(av, bv);
  } else {
    const a = strip(s);
    if (a === null) return null;
    value = parseDecimal(a);
  }
  if (!value) return null;
  if (negative) {
    value = {
      ...value,
      exact: value.exact ? { num: -value.exact.num, den: value.exact.den } : null,
      approx: -value.approx,
    };
  }
  return { ...value, percent };
}

function percentVariants(v: NumericValue): NumericValue[] {
  if (!v.percent) return [v];
  const hundred: NumericValue = { exact: { num: 100n, den: 1n }, approx: 100, inexact: false, decimals: 0, percent: false };
  const scaled = divideValues({ ...v, percent: false }, hundred);
  // 12.5% is 0.125 written with three decimals.
  if (scaled && v.decimals !== null) scaled.decimals = v.decimals + 2;
  return scaled ? [{ ...v, percent: false }, scaled] : [{ ...v, percent: false }];
}

function toValue(x: string | number): NumericValue | null {
  if (typeof x === 'number') {
    if (!Number.isFinite(x)) return null;
    return parseAnswerString(String(x));
  }
  if (typeof x !== 'string') return null;
  const direct = parseAnswerString(x);
  if (direct) return direct;
  const extracted = extractNumericAnswer(x);
  return extracted === null ? null : parseAnswerString(extracted);
}

/** True when the value's decimal expansion does not terminate (1/3), or is unknown (a bare float). */
function nonTerminating(v: NumericValue): boolean {
  if (v.inexact || !v.exact) return true;
  let d = v.exact.den;
  while (d % 2n === 0n) d /= 2n;
  while (d % 5n === 0n) d /= 5n;
  return d !== 1n;
}

/** `rounded` is `truth` rounded or truncated at its last written digit, and relatively close. */
function isRoundingOf(rounded: NumericValue, truth: NumericValue): boolean {
  if (rounded.decimals === null || rounded.decimals < 1 || !rounded.exact) return false;
  if (!nonTerminating(truth)) return false;
  const diff = Math.abs(truth.exact ? ratToNumber(ratSub(rounded.exact, truth.exact)) : rounded.approx - truth.approx);
  const scale = Math.abs(truth.approx);
  return diff < 10 ** -rounded.decimals && diff <= NUMERIC_REL_TOL * scale;
}

function valuesEqual(a: NumericValue, b: NumericValue): boolean {
  if (a.exact && b.exact && ratCompare(a.exact, b.exact) === 0) return true;
  if (!a.exact || !b.exact) {
    // Beyond exact range (exponents past ±400): only the doubles are known.
    const x = a.approx;
    const y = b.approx;
    if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
    return Math.abs(x - y) <= Number.EPSILON * FLOAT_RECOVERY_ULPS * Math.max(Math.abs(x), Math.abs(y));
  }
  // The reference is the truth; it may be the rounded side only when it is
  // itself known approximately (a float rendering with no simple fraction).
  return isRoundingOf(a, b) || (b.inexact && isRoundingOf(b, a));
}

/**
 * True when the answer `pred` denotes the number `ref`. Each side may be a plain
 * number string ("18.00", "1,000", "1/2", "50%", "-9867630.0"), a number, or
 * free text (its numeric answer is extracted first, e.g. a GSM8K solution
 * ending in "#### 72").
 */
export function numericAnswersEqual(pred: string | number, ref: string | number): boolean {
  const a = toValue(pred);
  const b = toValue(ref);
  if (!a || !b) return false;
  for (const va of percentVariants(a)) {
    for (const vb of percentVariants(b)) {
      if (valuesEqual(va, vb)) return true;
    }
  }
  return false;
}

/** Extracts the prediction's answer and compares it with the reference. */
export function verifyNumeric(prediction: string, reference: string | number): NumericVerdict {
  const { answer, hedge } = readNumericAnswer(prediction);
  if (hedge !== null) return { correct: false, extracted: hedge, hedged: true };
  if (answer === null) return { correct: false, extracted: null };
  return { correct: numericAnswersEqual(answer, reference), extracted: answer };
}

/** True when `text` is a plain number answer (used to route untyped items). */
export function isPlainNumber(text: string | number): boolean {
  if (typeof text === 'number') return Number.isFinite(text);
  if (typeof text !== 'string') return false;
  return PLAIN_NUMBER_RE.test(text.trim()) && parseAnswerString(text) !== null;
}

const PLAIN_NUMBER_RE = /^[+-]?\$?\s*(?:\d{1,3}(?:,\d{3})+|\d+|(?=\.\d))(?:\.\d*)?(?:[eE][+-]?\d+)?(?:\s*\/\s*\d+(?:\.\d+)?)?\s*%?$/;
