/**
 * GSM8K worked solutions as the official groups builder cleans them
 * (docs/official-protocol.md §3.3, `mathgroups.py: clean_positive_reasoning`):
 * the "#### N" tail goes, a calculator annotation followed by a number
 * becomes its inner text (`48/2 = <<48/2=24>>24 clips` → `48/2 = 48/2=24
 * clips`), an annotation not followed by a number stays, lines are
 * right-stripped and trailing blank lines dropped.
 */

/** The official `GSM8K_CALC_RE`; `\p{Nd}` because Python's `\d` matches any Unicode digit. */
export const GSM8K_CALC_RE = /<<([^<>]+)>>\s*[-+]?\$?\p{Nd}[\p{Nd},]*(?:\.\p{Nd}+)?%?/gu;
/** The official `GSM8K_ANSWER_RE` (DOTALL): from an optional newline before "####" to the end. */
export const GSM8K_ANSWER_RE = /\n?\s*####\s*[\s\S]*$/u;

/** Line boundaries of Python's str.splitlines. */
const PY_LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/u;

/** The worked solution without its "#### N" tail (strip, cut, strip), annotations untouched. */
export function gsm8kSolutionBody(answer: string): string {
  return answer.trim().replace(GSM8K_ANSWER_RE, '').trim();
}

/** The official positive trace of a GSM8K `answer` field. */
export function cleanGsm8kReasoning(answer: string): string {
  const text = gsm8kSolutionBody(answer).replace(GSM8K_CALC_RE, (_whole, inner: string) => inner);
  const lines = text.split(PY_LINE_BREAK).map((line) => line.trimEnd());
  while (lines.length && !lines[lines.length - 1]!.trim()) lines.pop();
  return lines.join('\n').trim();
}

/**
 * A code positive as the official code builder cleans it
 * (`codegroups.py: normalize_reasoning`, docs/official-protocol.md §3.3): cut
 * at `</think>`, at the first occurrence of the reference program, at the
 * first code fence and at an "Explanation" heading; `<think>` removed.
 */
export function cleanCodeReasoning(text: string, referenceSolution: string | null): string {
  let out = text;
  const thinkEnd = out.indexOf('</think>');
  if (thinkEnd >= 0) out = out.slice(0, thinkEnd);
  const reference = referenceSolution?.trim();
  if (reference) {
    const at = out.indexOf(reference);
    if (at >= 0) out = out.slice(0, at);
  }
  const fence = out.indexOf('```');
  if (fence >= 0) out = out.slice(0, fence);
  const explanation = /^\s*(?:#+\s*|\*\*)?explanation\b/im.exec(out);
  if (explanation) out = out.slice(0, explanation.index);
  return out.replace(/<think>/g, '').trim();
}
