/**
 * Numeric answer extraction and comparison for GSM8K-style tasks
 * (gsm8k, gsm_hard, svamp). Pure and synchronous.
 *
 * Extraction order for free model text:
 *   1. explicit answer markers — `#### X`, `\boxed{X}`, "the answer is X",
 *      "Answer: X" — the LAST marker (by position) whose payload holds a number;
 *   2. otherwise the last number in the text.
 *
 * Comparison is exact (rational, via BigInt) when both sides are exact
 * integers / short decimals / fractions, and uses a relative tolerance of 1e-6
 * when either side looks like a float rendering (more than 6 fractional
 * digits, e.g. GSM-Hard's `3244047.0999999996`) or is out of exact range.
 * A percent (`50%`) matches both 50 and 0.5.
 */

export interface NumericVerdict {
  correct: boolean;
  /** Canonical text of the number taken from the prediction, or null. */
  extracted: string | null;
}

/** Relative tolerance used when one side is not an exact decimal/fraction. */
export const NUMERIC_REL_TOL = 1e-6;
const ABS_TOL = 1e-9;
/** Decimals with more fractional digits than this are treated as floats. */
const MAX_EXACT_FRACTION_DIGITS = 6;
const MAX_EXACT_EXPONENT = 400;
const MAX_TEXT_CHARS = 50_000;

// ---------------------------------------------------------------------------
// Values

interface Rational {
  num: bigint;
  den: bigint; // > 0
}

interface NumericValue {
  /** Exact value, or null when only the float is known. */
  exact: Rational | null;
  approx: number;
  /** True when the text looks like a float rendering (compare with tolerance). */
  inexact: boolean;
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

/**
 * Parses the core of a decimal number (no commas, no `$`): `-12.50`, `.5`,
 * `1e6`, `3.2E-4`.
 */
function parseDecimal(text: string): NumericValue | null {
  const m = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return null;
  const sign = m[1] === "-" ? -1n : 1n;
  const intPart = m[2] ?? "";
  const fracRaw = m[3] ?? "";
  if (intPart === "" && fracRaw === "") return null;
  const exp = m[4] !== undefined ? Number.parseInt(m[4], 10) : 0;
  const approx = Number(text);
  const fracDigits = fracRaw.replace(/0+$/, "");
  if (!Number.isFinite(exp) || Math.abs(exp) > MAX_EXACT_EXPONENT) {
    return Number.isNaN(approx) ? null : { exact: null, approx, inexact: true, percent: false };
  }
  const digits = BigInt((intPart || "0") + fracDigits) * sign;
  const scale = fracDigits.length - exp;
  const exact =
    scale >= 0 ? makeRational(digits, 10n ** BigInt(scale)) : makeRational(digits * 10n ** BigInt(-scale), 1n);
  // Digits after the point once the exponent is applied.
  const effectiveFraction = Math.max(scale, 0);
  return {
    exact,
    approx: Number.isNaN(approx) ? (exact ? ratToNumber(exact) : Number.NaN) : approx,
    inexact: effectiveFraction > MAX_EXACT_FRACTION_DIGITS,
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
    percent: false,
  };
}

// ---------------------------------------------------------------------------
// Text normalisation

const WORD_NUMBERS: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17,
  eighteen: 18, nineteen: 19, twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70,
  eighty: 80, ninety: 90, hundred: 100,
};

/** Undoes the LaTeX / typography that hides plain numbers. */
function normalizeText(text: string): string {
  let s = text;
  s = s.replace(/[\u2212\u2013\u2014\u2012]/g, "-"); // unicode minus / dashes
  s = s.replace(/[\u00a0\u2009\u202f]/g, " ");
  s = s.replace(/(\d)\{,\}(?=\d)/g, "$1,"); // 1{,}000
  s = s.replace(/\\[!,;: ]/g, " ");
  s = s.replace(/\\\$/g, "$");
  s = s.replace(/\\%/g, "%");
  s = s.replace(/\\(?:left|right)\b/g, "");
  s = s.replace(/\\(?:text|textbf|textrm|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}/g, " $1 ");
  // \frac{a}{b}, \dfrac{a}{b}, \tfrac12, with an optional leading minus.
  for (let i = 0; i < 3; i++) {
    s = s.replace(/\\[dt]?frac\s*\{\s*([^{}]*?)\s*\}\s*\{\s*([^{}]*?)\s*\}/g, " ($1)/($2) ");
    s = s.replace(/\\[dt]?frac\s*(\d)\s*(\d)/g, " $1/$2 ");
  }
  // "(3)/(4)" from the rewrite above becomes "3/4" when both sides are plain numbers.
  s = s.replace(/\(\s*(-?[\d.,]+)\s*\)\s*\/\s*\(\s*([\d.,]+)\s*\)/g, "$1/$2");
  s = s.replace(/-\s+(\d+\/\d+)/g, "-$1");
  // Mixed numbers "2 1/2" (proper fraction part only) -> "5/2".
  s = s.replace(/(?<![\d.,/])(\d{1,9}) +(\d{1,9})\s*\/\s*(\d{1,9})(?![\d./])/g, (all, a: string, b: string, c: string) => {
    const [w, n, d] = [BigInt(a), BigInt(b), BigInt(c)];
    return d > 0n && n > 0n && n < d ? `${w * d + n}/${d}` : all;
  });
  s = s.replace(/\^\s*\{?\\circ\}?/g, " ");
  s = s.replace(/\\(?:cdot|times)/g, " * ");
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
    const before = start > 0 ? text[start - 1] ?? "" : "";
    let negative = m[1] === "-";
    const core = m[3] ?? "";
    if (negative && /[\w.)\]}]/.test(before)) {
      // binary minus ("10-3"): the number itself is positive
      negative = false;
    } else if (!negative && !m[2] && /[A-Za-z_]/.test(before)) {
      // part of an identifier such as x2 or H2O
      continue;
    }
    let canonical = (negative ? "-" : "") + core.replace(/,/g, "") + (m[4] ?? "");
    if (m[5] !== undefined) canonical += "/" + m[5];
    if (m[6] !== undefined) canonical += "%";
    out.push({ index: start, end: start + m[0].length, canonical });
  }
  return out;
}

/** First number in a marker payload; takes the part after the last "=". */
function numberInPayload(payload: string): string | null {
  let seg = payload;
  const eq = seg.lastIndexOf("=");
  if (eq >= 0 && /\d/.test(seg.slice(eq + 1))) seg = seg.slice(eq + 1);
  const tokens = scanNumbers(seg);
  if (tokens.length > 0) return tokens[0]!.canonical;
  const word = /^[\s:*$(]*(?:(negative|minus)\s+)?([a-z]+)\b/i.exec(seg);
  if (word) {
    const v = WORD_NUMBERS[(word[2] ?? "").toLowerCase()];
    if (v !== undefined) return (word[1] ? "-" : "") + String(v);
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
      if (c === "{") depth++;
      else if (c === "}") depth--;
    }
    if (depth === 0) out.push({ index: m.index, content: text.slice(start, j - 1) });
  }
  return out;
}

const ANSWER_PHRASE_RE =
  /\banswer(?:\s*\*\*)?\s*(?:is\b|:|=|would\s+be\b|will\s+be\b|should\s+be\b)\s*(?:\*\*)?\s*(?::\s*)?/gi;
const HASH_RE = /####\s*/g;
const CONTINUATION_RE = /\n\s*(?:#+\s*)?(?:question|q|problem|user|human|instruction)\s*\d*\s*[:.]/gi;
const STOP_TOKENS = ["<|im_end|>", "<|endoftext|>", "</s>", "<|eot_id|>"];

function firstSentence(s: string): string {
  const line = s.replace(/^\s+/, "").split("\n", 1)[0] ?? "";
  const cut = /\.(?:\s|$)/.exec(line);
  return (cut ? line.slice(0, cut.index) : line).slice(0, 200);
}

interface MarkerHit {
  index: number;
  value: string;
}

function markerHits(text: string): MarkerHit[] {
  const hits: MarkerHit[] = [];
  for (const re of [HASH_RE, ANSWER_PHRASE_RE]) {
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      const after = text.slice(m.index + m[0].length, m.index + m[0].length + 400);
      // "The answer is \boxed{18}" is handled by the boxed hit.
      const value = numberInPayload(firstSentence(after.replace(/\\(?:boxed|fbox)\s*\{/, "")));
      if (value !== null) hits.push({ index: m.index, value });
    }
  }
  for (const b of boxedContents(text)) {
    const value = numberInPayload(b.content);
    if (value !== null) hits.push({ index: b.index, value });
  }
  return hits.sort((a, b) => a.index - b.index);
}

/**
 * Extracts the final numeric answer from free text, or null when the text
 * holds no number. The result is canonical: no commas or `$`, a leading `-`
 * for negatives, `a/b` for fractions, a trailing `%` for percents.
 */
export function extractNumericAnswer(text: string): string | null {
  if (typeof text !== "string" || text.length === 0) return null;
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
    if (last) return last.value;
  }
  const tokens = scanNumbers(s);
  const lastTok = tokens[tokens.length - 1];
  return lastTok ? lastTok.canonical : null;
}

// ---------------------------------------------------------------------------
// Parsing a single answer string

/** Parses a canonical / plain answer string ("1,000", "$18.00", "-3/4", "50%"). */
function parseAnswerString(text: string): NumericValue | null {
  let s = normalizeText(text).trim();
  s = s.replace(/^\$\s*|\s*\$$/g, "").trim(); // $...$ math delimiters or currency
  s = s.replace(/^\\\(|\\\)$/g, "").trim();
  let percent = false;
  const pm = /^(.*?)\s*(?:%|percent|per\s+cent)$/i.exec(s);
  if (pm) {
    percent = true;
    s = (pm[1] ?? "").trim();
  }
  s = s.replace(/^\(\s*(.*?)\s*\)$/, "$1");
  let negative = false;
  if (s.startsWith("-")) {
    negative = true;
    s = s.slice(1).trim();
  } else if (s.startsWith("+")) {
    s = s.slice(1).trim();
  }
  s = s.replace(/^\$\s*/, "");
  const strip = (x: string): string | null => {
    const t = x.trim();
    if (/^\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(t)) return t.replace(/,/g, "");
    if (/^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(t)) return t;
    return null;
  };
  let value: NumericValue | null = null;
  const slash = s.indexOf("/");
  if (slash >= 0) {
    const a = strip(s.slice(0, slash).replace(/^\(|\)$/g, ""));
    const b = strip(s.slice(slash + 1).replace(/^\(|\)$/g, ""));
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
  const hundred: NumericValue = { exact: { num: 100n, den: 1n }, approx: 100, inexact: false, percent: false };
  const scaled = divideValues({ ...v, percent: false }, hundred);
  return scaled ? [{ ...v, percent: false }, scaled] : [{ ...v, percent: false }];
}

function toValue(x: string | number): NumericValue | null {
  if (typeof x === "number") {
    if (!Number.isFinite(x)) return null;
    return parseAnswerString(String(x));
  }
  if (typeof x !== "string") return null;
  const direct = parseAnswerString(x);
  if (direct) return direct;
  const extracted = extractNumericAnswer(x);
  return extracted === null ? null : parseAnswerString(extracted);
}

function valuesEqual(a: NumericValue, b: NumericValue): boolean {
  if (a.exact && b.exact && !a.inexact && !b.inexact) {
    return a.exact.num * b.exact.den === b.exact.num * a.exact.den;
  }
  const x = a.approx;
  const y = b.approx;
  if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
  const diff = Math.abs(x - y);
  return diff <= ABS_TOL || diff <= NUMERIC_REL_TOL * Math.max(Math.abs(x), Math.abs(y));
}

/**
 * True when two answers denote the same number. Each side may be a plain
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
  const extracted = extractNumericAnswer(prediction);
  if (extracted === null) return { correct: false, extracted: null };
  return { correct: numericAnswersEqual(extracted, reference), extracted };
}

/** True when `text` is a plain number answer (used to route untyped items). */
export function isPlainNumber(text: string | number): boolean {
  if (typeof text === "number") return Number.isFinite(text);
  if (typeof text !== "string") return false;
  return PLAIN_NUMBER_RE.test(text.trim()) && parseAnswerString(text) !== null;
}

const PLAIN_NUMBER_RE =
  /^[+-]?\$?\s*(?:\d{1,3}(?:,\d{3})+|\d+|(?=\.\d))(?:\.\d*)?(?:[eE][+-]?\d+)?(?:\s*\/\s*\d+(?:\.\d+)?)?\s*%?$/;
