/**
 * Untrusted text made safe to show. Traces, ids, labels, kinds, file names
 * and model output may hold characters that are invisible or that reorder
 * what is around them (a U+202E right-to-left override makes
 * "best +0.000" read "000.0+ tseb"). Before any of it is shown — tree items,
 * CodeLens titles, hovers, quick picks, titles, the status bar,
 * notifications, webviews — every such character is replaced by a visible
 * marker like ⟨U+202E⟩, and text holding right-to-left letters is
 * bidi-isolated (FSI … PDI) so it cannot reorder the text next to it.
 *
 * One implementation for the extension host and the webviews (no node, DOM
 * or vscode import; both bundles import this file).
 */

/**
 * Invisible or reordering characters: controls (C0, DEL, C1), format
 * characters (bidi controls, zero-width characters, soft hyphen, U+061C,
 * U+FEFF, tags…), lone surrogates, line/paragraph separators, and letters
 * and marks that render as nothing (Hangul fillers, U+034F, Khmer inherent
 * vowels, Mongolian selectors).
 */
// The class lists combining marks (U+034F, Mongolian selectors) on purpose: each is matched on its own.
/* eslint-disable no-misleading-character-class */
const HIDDEN_SOURCE = '[\\p{Cc}\\p{Cf}\\p{Cs}\\p{Zl}\\p{Zp}\\u034F\\u115F\\u1160\\u17B4\\u17B5\\u180B-\\u180F\\u3164\\uFFA0]';
const HIDDEN_ONE = new RegExp(`^${HIDDEN_SOURCE}$`, 'u');
/** Hidden characters other than the tab and line breaks a block of text keeps (those are not worth a flag). */
const HIDDEN_FLAGGED = new RegExp(`(?![\\t\\n\\r])${HIDDEN_SOURCE}`, 'u');
const HIDDEN_ANY = new RegExp(HIDDEN_SOURCE, 'u');
const HIDDEN_ALL = new RegExp(HIDDEN_SOURCE, 'gu');
/** Characters of right-to-left scripts (bidi classes R and AL): Hebrew, Arabic, Syriac, Thaana, NKo… and their presentation forms. */
/* eslint-enable no-misleading-character-class */
const RTL_ANY = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFE\u{10800}-\u{10FFF}\u{1E800}-\u{1EFFF}]/u;
/** First strong isolate … pop directional isolate. */
const FSI = '\u2068';
const PDI = '\u2069';
/** Whitespace folded to one space in a single line. */
function isLineSpace(c: number): boolean {
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** The visible stand-in for an invisible character: ⟨U+202E⟩. */
export function marker(codePoint: number): string {
  return `⟨U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}⟩`;
}

/** True when the text holds any invisible or reordering character besides tabs and line breaks (it is flagged where it is shown). */
export function hasHiddenChars(text: string): boolean {
  return HIDDEN_FLAGGED.test(text);
}

/** True when the text holds right-to-left letters (it needs isolating from the text around it). */
export function hasRtl(text: string): boolean {
  return RTL_ANY.test(text);
}

/** Wraps text that holds right-to-left letters in a bidi isolate; other text is returned as is. */
export function isolate(text: string): string {
  return hasRtl(text) ? FSI + text + PDI : text;
}

/**
 * Every invisible or reordering character as a visible marker. Newlines and
 * tabs are kept (CR LF becomes LF) for text shown as a block; everything
 * else is revealed. Linear in the text's length.
 */
export function revealHidden(text: string): string {
  if (!HIDDEN_ANY.test(text)) return text;
  return text.replace(/\r\n/g, '\n').replace(HIDDEN_ALL, (c) => (c === '\n' || c === '\t' ? c : marker(c.codePointAt(0)!)));
}

/** Text shown as a block (a trace, a problem statement): revealed, whether it held anything hidden, optionally capped. */
export function safeBlock(text: string, max = Infinity): { text: string; hidden: boolean } {
  const hidden = hasHiddenChars(text);
  let t = text.length > max ? capCodePoints(text, max) : text;
  t = revealHidden(t);
  return { text: t, hidden };
}

/** The first `max` UTF-16 units of a text, never splitting a surrogate pair, with "…" when cut. */
function capCodePoints(text: string, max: number): string {
  let end = Math.max(0, max - 1);
  const c = text.charCodeAt(end - 1);
  if (end > 0 && c >= 0xd800 && c <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/**
 * One line of untrusted text, ready for any single-line place (tree label or
 * description, quick pick, CodeLens title, status bar, title, notification):
 * whitespace folded, hidden characters as markers, at most `max` characters
 * (never splitting a character or a marker; "…" when cut), right-to-left
 * text isolated, and the two syntaxes VS Code reads in such strings made
 * inert: `$(icon)` and `[text](link)`. Reads no further into the text than
 * it needs, so a 2 MB line costs what its first characters cost.
 */
export function safeLine(text: unknown, max = 80): string {
  const s = typeof text === 'string' ? text : text === null || text === undefined ? '' : String(text);
  const limit = Math.max(1, max);
  let out = '';
  /** Length of `out` at the last piece boundary that leaves room for "…". */
  let fit = 0;
  let space = false;
  let cut = false;
  for (let i = 0; i < s.length;) {
    const cp = s.codePointAt(i)!;
    const ch = cp > 0xffff ? s.slice(i, i + 2) : s[i]!;
    i += ch.length;
    if (isLineSpace(cp)) {
      space = out.length > 0;
      continue;
    }
    const piece = (space ? ' ' : '') + ((cp < 0x20 || cp > 0x7e) && HIDDEN_ONE.test(ch) ? marker(cp) : ch);
    space = false;
    if (out.length + piece.length > limit) {
      cut = true;
      break;
    }
    out += piece;
    if (out.length <= limit - 1) fit = out.length;
  }
  if (cut) out = `${out.slice(0, fit).trimEnd()}…`;
  return isolate(inertSyntax(out));
}

/**
 * `$(name)` would render as an icon and `[text](command:…)` as a link in
 * quick picks, CodeLens titles, the status bar and notifications: a
 * zero-width space between `$`/`]` and `(` keeps them as the characters they are.
 */
export function inertSyntax(text: string): string {
  return text.replace(/([$\]])\(/g, '$1\u200B(');
}

/** Several untrusted pieces joined; each is made safe on its own. */
export function safeJoin(pieces: unknown[], sep = ' · ', maxEach = 80): string {
  return pieces
    .filter((p) => p !== null && p !== undefined && p !== '')
    .map((p) => safeLine(p, maxEach))
    .join(sep);
}
