/**
 * Cutting a problem or trace to a character budget before it goes into an
 * executor prompt, the way the official code does (`truncate_chars` in
 * scripts/train_code_grpo.py, docs/official-protocol.md §1): keep the first
 * N characters, drop the partial last line, strip trailing whitespace and
 * append "\n...[truncated]".
 *
 * Characters are counted as Python counts them (code points), so a limit
 * cuts the same text here and there even with emoji or other astral
 * characters; whitespace is Python's `str.isspace` set, not JavaScript's.
 */

export const TRUNCATION_MARKER = '\n...[truncated]';

/** Python's str.isspace characters (JavaScript's \s differs: it has U+FEFF, lacks U+001C–U+001F and U+0085). */
const PY_TRAILING_SPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/;
const PY_LEADING_SPACE = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** Python's str.rstrip() with no argument. */
export function pyRstrip(text: string): string {
  return text.replace(PY_TRAILING_SPACE, '');
}

/** Python's str.strip() with no argument. */
export function pyStrip(text: string): string {
  return pyRstrip(text).replace(PY_LEADING_SPACE, '');
}

/** UTF-16 index just after the first `count` code points of `text` (text.length when it has fewer). */
function codePointEnd(text: string, count: number): number {
  let index = 0;
  for (let seen = 0; seen < count && index < text.length; seen++) {
    const unit = text.charCodeAt(index);
    const isPair = unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length && (text.charCodeAt(index + 1) & 0xfc00) === 0xdc00;
    index += isPair ? 2 : 1;
  }
  return index;
}

/**
 * `text` cut to at most `maxChars` code points at a line boundary, plus the
 * marker. A limit of null, 0 or less means no limit (as the official code:
 * `max_chars <= 0`). Text within the limit comes back unchanged.
 */
export function truncateChars(text: string, maxChars: number | null): string {
  if (maxChars === null || !(maxChars > 0)) return text;
  // UTF-16 length ≥ code points: within the limit in units is within it in code points.
  if (text.length <= maxChars) return text;
  const end = codePointEnd(text, Math.floor(maxChars));
  if (end >= text.length) return text;
  const head = text.slice(0, end);
  const lastNewline = head.lastIndexOf('\n');
  const kept = lastNewline === -1 ? head : head.slice(0, lastNewline);
  return pyRstrip(kept) + TRUNCATION_MARKER;
}

/** Character budgets for one task kind; null = no limit. */
export interface TruncationLimits {
  problem: number | null;
  trace: number | null;
}

/** True when truncateChars(text, maxChars) would change the text. */
export function wouldTruncate(text: string, maxChars: number | null): boolean {
  return truncateChars(text, maxChars) !== text;
}
