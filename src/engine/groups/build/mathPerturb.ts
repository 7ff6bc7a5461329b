/**
 * The four math perturbations that the calculator annotations of a GSM8K
 * worked solution make programmatic and deterministic (docs/groups.md):
 *
 * - arithmetic_error: one step states a wrong result (a careless slip: a
 *   digit off, two digits swapped, a factor of ten); the steps that use it
 *   compute correctly from the wrong value.
 * - incorrect_operation: one operator of one step is swapped (+↔−, ×↔÷),
 *   in the annotation and in the sentence that restates it; the step and
 *   what depends on it are recomputed.
 * - unsupported_leap: one step's computation is removed from its sentence
 *   and a value is asserted in its place (one of the step's inputs, as if
 *   the step had been skipped); dependents are recomputed from it.
 * - premature_answer: the reasoning stops after a non-final step and
 *   states that step's value as the answer.
 *
 * Every perturbation is checked: the text differs from the positive, the
 * step that gave the gold answer no longer does, and the engine's own
 * answer extraction no longer finds the gold answer in it. A problem where
 * no step allows the change gets a reason instead of a perturbation.
 */
import { verifyNumeric } from '../../verify/math/numeric';
import {
  ancestorsOf,
  answerStep,
  evaluateTokens,
  formatValue,
  parseGsm8kSolution,
  renderStep,
  sameValue,
  type CalcStep,
  type ExprToken,
  type Gsm8kSolution,
  type Operator,
} from './calc';
import { cleanGsm8kReasoning } from './clean';
import { shuffled, streamFor, type Rng } from './rng';

export const PROGRAMMATIC_MATH_KINDS = ['arithmetic_error', 'incorrect_operation', 'unsupported_leap', 'premature_answer'] as const;
export type ProgrammaticMathKind = (typeof PROGRAMMATIC_MATH_KINDS)[number];

export interface MathPerturbInput {
  problemId: string;
  problem: string;
  /** The dataset's raw worked solution (with annotations and the "#### N" tail). */
  answer: string;
  /** The gold final answer. */
  gold: string;
  seed: number;
}

export interface MathPerturbation {
  kind: ProgrammaticMathKind;
  /** Cleaned as the positive is (§3.3). */
  reasoning: string;
  /** The perturbed solution with its annotations, before cleaning (for checks). */
  raw: string;
  /** What was changed, for the record's metadata. */
  detail: Record<string, string | number>;
}

export type MathPerturbResult = { ok: true; perturbation: MathPerturbation } | { ok: false; reason: string };

interface StepEdit {
  tokens?: ExprToken[];
  /** A stated result that is not what the expression gives (arithmetic_error, unsupported_leap). */
  forced?: string;
}

interface Propagated {
  tokens: ExprToken[][];
  results: string[];
  values: number[];
  /** Steps whose value differs from the original's. */
  changed: Set<number>;
}

/** Recomputes every step after the edits: operands taken from changed steps are replaced and the step recomputed. */
function propagate(sol: Gsm8kSolution, edits: ReadonlyMap<number, StepEdit>): Propagated | null {
  const out: Propagated = { tokens: [], results: [], values: [], changed: new Set() };
  for (const step of sol.steps) {
    const edit = edits.get(step.index);
    let touched = edit?.tokens !== undefined;
    const tokens = (edit?.tokens ?? step.tokens).map((t, k): ExprToken => {
      const src = step.operandSources[k];
      if (t.type !== 'num' || src === null || src === undefined || !out.changed.has(src)) return { ...t };
      touched = true;
      return { ...t, text: out.results[src]!, value: out.values[src]! };
    });
    let result = step.result;
    if (edit?.forced !== undefined) result = edit.forced;
    else if (touched) {
      if (!step.consistent) return null; // an opaque step cannot be recomputed
      const v = evaluateTokens(tokens);
      if (v === null || !Number.isFinite(v)) return null;
      result = formatValue(v);
    }
    const value = Number(result);
    out.tokens.push(tokens);
    out.results.push(result);
    out.values.push(value);
    if (!sameValue(value, step.value)) out.changed.add(step.index);
  }
  return out;
}

const TEXT_NUMBER = /(?<![\d.,])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?!\d)|(?<![\d.])\.\d+/g;

function withCommas(text: string): string {
  const [int, frac] = text.split('.');
  const grouped = int!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

/** Numbers in free text equal to a changed step's old value become its new value (the latest such step first). */
function rewriteText(text: string, changes: readonly { old: number; result: string }[]): string {
  if (!changes.length) return text;
  return text.replace(TEXT_NUMBER, (num) => {
    const value = Number(num.replace(/,/g, ''));
    const change = changes.find((c) => sameValue(c.old, value));
    if (!change) return num;
    return num.includes(',') && !change.result.startsWith('-') ? withCommas(change.result) : change.result;
  });
}

interface RenderOptions {
  /** Replacement text for a text segment (by segment index), before free-text rewriting. */
  textOverrides?: ReadonlyMap<number, string>;
  /** A step shown as plain text instead of its annotation. */
  stepAsText?: ReadonlyMap<number, string>;
  /** Cut the body at the end of this step's line. */
  stopAfterStep?: number;
}

/** The perturbed raw solution: steps from `prop`, free text after a changed step rewritten. */
function renderBody(sol: Gsm8kSolution, prop: Propagated, opts: RenderOptions = {}): string {
  let raw = '';
  const seenChanges: { old: number; result: string }[] = [];
  for (const [segIndex, seg] of sol.segments.entries()) {
    if (seg.kind === 'text') {
      const text = opts.textOverrides?.get(segIndex) ?? seg.text;
      raw += rewriteText(text, seenChanges);
      continue;
    }
    const step = sol.steps[seg.step]!;
    raw += opts.stepAsText?.get(step.index) ?? renderStep(prop.tokens[step.index]!, prop.results[step.index]!, step.trailing);
    if (prop.changed.has(step.index)) seenChanges.unshift({ old: step.value, result: prop.results[step.index]! });
    if (opts.stopAfterStep === step.index) {
      const rest = sol.segments.slice(segIndex + 1).map((s) => (s.kind === 'text' ? s.text : ''));
      const tail = rest.join('');
      const nl = tail.indexOf('\n');
      raw += nl < 0 ? tail : tail.slice(0, nl);
      return raw;
    }
  }
  return raw;
}

/** Index of the text segment right before a step's annotation, or null when another step precedes it directly. */
function preTextSegment(sol: Gsm8kSolution, step: number): number | null {
  const at = sol.segments.findIndex((s) => s.kind === 'step' && s.step === step);
  return at > 0 && sol.segments[at - 1]!.kind === 'text' ? at - 1 : null;
}

const OP_CLASS: Record<Operator, string> = { '+': '\\+', '-': '[-−–]', '*': '[*x×X]', '/': '[/÷]' };

function numberPattern(tok: Extract<ExprToken, { type: 'num' }>): string {
  const forms = new Set([tok.text, withCommas(tok.text)]);
  if (tok.text.startsWith('.')) forms.add(`0${tok.text}`);
  const value = Number(tok.text);
  forms.add(formatValue(value, 6));
  return `(?:${[...forms].map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`;
}

/**
 * Where the sentence before an annotation restates its expression
 * ("she earned 0.2 x 50 = $"), with the span of each operator, or null.
 */
function findRestatement(text: string, tokens: readonly ExprToken[]): { start: number; opSpans: [number, number][] } | null {
  const parts = tokens.map((t) =>
    // A number may carry up to three unit words ("5 snakes/jaguar * 6 jaguars =").
    t.type === 'num' ? `\\$?${numberPattern(t)}(?:\\s+[A-Za-z][A-Za-z/]*){0,3}` : t.type === 'op' ? `(${OP_CLASS[t.op]})` : `\\${t.text}?`,
  );
  const re = new RegExp(`(?<![\\d.,])${parts.join('\\s*')}\\s*=\\s*\\$?\\s*$`, 'd');
  const m = re.exec(text);
  if (!m || !m.indices) return null;
  const opSpans: [number, number][] = [];
  for (let g = 1; g < m.indices.length; g++) {
    const span = m.indices[g];
    if (span) opSpans.push([span[0], span[1]]);
  }
  return { start: m.index, opSpans };
}

interface StepSentence {
  /** The text segment before the step, or null when the step follows another step directly. */
  pre: number | null;
  preText: string;
  /** Where the restated expression starts in preText (its end when nothing is restated), and its operators. */
  start: number;
  opSpans: [number, number][];
  /** False when the sentence states only the annotation ("She sold <<48/2=24>>24 clips"). */
  restates: boolean;
}

/** The sentence around a step, or null when it restates the expression in a way we cannot read. */
function stepSentence(sol: Gsm8kSolution, step: CalcStep): StepSentence | null {
  const pre = preTextSegment(sol, step.index);
  const preText = pre === null ? '' : (sol.segments[pre] as { text: string }).text;
  const restated = findRestatement(preText, step.tokens);
  if (restated) return { pre, preText, ...restated, restates: true };
  if (/=\s*\$?\s*$/.test(preText)) return null;
  return { pre, preText, start: preText.length, opSpans: [], restates: false };
}

/** Numbers a problem states (ambiguous to rewrite in free text). */
function statedNumbers(problem: string): number[] {
  return [...problem.matchAll(TEXT_NUMBER)].map((m) => Number(m[0].replace(/,/g, '')));
}

/** Plausible careless slips of a result, in seeded order. */
export function carelessValues(value: number, rng: Rng): string[] {
  const candidates: number[] = [];
  if (Number.isInteger(value)) {
    candidates.push(value + 1, value - 1, value + 10, value - 10, value * 10);
    if (value % 10 === 0) candidates.push(value / 10);
    const digits = String(Math.abs(value));
    for (let i = 0; i + 1 < digits.length; i++) {
      if (digits[i] === digits[i + 1] || (i === 0 && digits[i + 1] === '0')) continue;
      const swapped = digits.slice(0, i) + digits[i + 1] + digits[i] + digits.slice(i + 2);
      candidates.push(Math.sign(value || 1) * Number(swapped));
    }
  } else {
    candidates.push(value + 0.1, value - 0.1, value * 10, value / 10, value + 1);
  }
  const seen = new Set<string>();
  const out: string[] = [];
  for (const c of candidates) {
    if (!Number.isFinite(c) || (value >= 0 && c <= 0) || sameValue(c, value)) continue;
    const text = formatValue(c, 3);
    if (seen.has(text) || sameValue(Number(text), value)) continue;
    seen.add(text);
    out.push(text);
  }
  return shuffled(out, rng);
}

const SWAP: Record<Operator, Operator> = { '+': '-', '-': '+', '*': '/', '/': '*' };

/** Indexes of binary operators in a token list (an operator after a number or a closing parenthesis). */
function binaryOperators(tokens: readonly ExprToken[]): number[] {
  const out: number[] = [];
  tokens.forEach((t, i) => {
    const prev = tokens[i - 1];
    if (t.type === 'op' && prev && (prev.type === 'num' || (prev.type === 'paren' && prev.text === ')'))) out.push(i);
  });
  return out;
}

interface Context {
  input: MathPerturbInput;
  sol: Gsm8kSolution;
  gold: number;
  answer: number;
  positive: string;
  stated: number[];
  rng: Rng;
}

/** The final checks every perturbation passes; null when it does, else why not. */
function rejection(ctx: Context, reasoning: string, prop: Propagated | null): string | null {
  if (reasoning.trim() === ctx.positive.trim()) return 'same text as the positive';
  if (prop && sameValue(prop.values[ctx.answer]!, ctx.gold)) return 'the answer step still gives the gold answer';
  if (verifyNumeric(reasoning, ctx.input.gold).correct) return 'the gold answer still follows from the text';
  return null;
}

/**
 * A change this builder does not make: a changed step's old value is also
 * stated in the problem and repeated in the free text after the step
 * (rewriting it there would be ambiguous), or a quantity turns negative
 * (−11 stamps reads as nonsense, not as a slip).
 */
function implausible(ctx: Context, prop: Propagated): boolean {
  return [...prop.changed].some((i) => {
    const old = ctx.sol.steps[i]!.value;
    if (old >= 0 && prop.values[i]! < 0) return true;
    return ctx.stated.some((n) => sameValue(n, old)) && freeTextAfter(ctx.sol, i).some((n) => sameValue(n, old));
  });
}

/** Numbers in the free text after a step (what rewriteText may touch). */
function freeTextAfter(sol: Gsm8kSolution, step: number): number[] {
  const at = sol.segments.findIndex((s) => s.kind === 'step' && s.step === step);
  return sol.segments
    .slice(at + 1)
    .flatMap((s) => (s.kind === 'text' ? [...s.text.matchAll(TEXT_NUMBER)].map((m) => Number(m[0].replace(/,/g, ''))) : []));
}

function finish(ctx: Context, kind: ProgrammaticMathKind, raw: string, prop: Propagated | null, detail: MathPerturbation['detail']) {
  const reasoning = cleanGsm8kReasoning(raw);
  const why = rejection(ctx, reasoning, prop);
  return why ? null : { kind, reasoning, raw, detail };
}

function arithmeticError(ctx: Context): MathPerturbation | null {
  const candidates = [...ancestorsOf(ctx.sol.steps, ctx.answer)].filter((i) => ctx.sol.steps[i]!.consistent);
  for (const i of shuffled(
    candidates.sort((a, b) => a - b),
    ctx.rng,
  )) {
    const step = ctx.sol.steps[i]!;
    for (const wrong of carelessValues(step.value, ctx.rng)) {
      const prop = propagate(ctx.sol, new Map([[i, { forced: wrong }]]));
      if (!prop || implausible(ctx, prop)) continue;
      const done = finish(ctx, 'arithmetic_error', renderBody(ctx.sol, prop), prop, { step: i, correct: step.result, stated: wrong });
      if (done) return done;
    }
  }
  return null;
}

/** The new operator written in the sentence's style: "x" for × where the old one stood between spaces and the text uses " x ". */
function opSymbol(op: Operator, body: string, spaced: boolean): string {
  if (op === '*') return spaced && / x /.test(body) ? 'x' : '*';
  return op;
}

function incorrectOperation(ctx: Context): MathPerturbation | null {
  const candidates = [...ancestorsOf(ctx.sol.steps, ctx.answer)].filter((i) => ctx.sol.steps[i]!.consistent);
  for (const i of shuffled(
    candidates.sort((a, b) => a - b),
    ctx.rng,
  )) {
    const step = ctx.sol.steps[i]!;
    const sentence = stepSentence(ctx.sol, step);
    if (!sentence) continue;
    const { pre, preText } = sentence;
    const allOps = step.tokens.flatMap((t, k) => (t.type === 'op' ? [k] : []));
    for (const k of shuffled(binaryOperators(step.tokens), ctx.rng)) {
      const from = (step.tokens[k] as { op: Operator }).op;
      const to = SWAP[from];
      const tokens = step.tokens.map((t, j) => (j === k ? { ...t, op: to } : { ...t })) as ExprToken[];
      const v = evaluateTokens(tokens);
      if (v === null || (step.value >= 0 && v < 0)) continue;
      const prop = propagate(ctx.sol, new Map([[i, { tokens }]]));
      if (!prop || implausible(ctx, prop)) continue;
      // The sentence's restatement shows the new operator too.
      const textOverrides = new Map<number, string>();
      if (sentence.restates) {
        const span = sentence.opSpans[allOps.indexOf(k)];
        if (!span || pre === null) continue;
        const spaced = preText[span[0] - 1] === ' ' && preText[span[1]] === ' ';
        textOverrides.set(pre, preText.slice(0, span[0]) + opSymbol(to, ctx.sol.body, spaced) + preText.slice(span[1]));
      }
      const raw = renderBody(ctx.sol, prop, { textOverrides });
      const done = finish(ctx, 'incorrect_operation', raw, prop, { step: i, from, to });
      if (done) return done;
    }
  }
  return null;
}

function unsupportedLeap(ctx: Context): MathPerturbation | null {
  const candidates = [...ancestorsOf(ctx.sol.steps, ctx.answer)].filter((i) => ctx.sol.steps[i]!.consistent);
  for (const i of shuffled(
    candidates.sort((a, b) => a - b),
    ctx.rng,
  )) {
    const step = ctx.sol.steps[i]!;
    const sentence = stepSentence(ctx.sol, step);
    if (!sentence || step.trailing === null) continue;
    const { pre, preText } = sentence;
    const inputs = step.tokens.flatMap((t) => (t.type === 'num' && !sameValue(t.value, step.value) ? [t.text] : []));
    for (const asserted of shuffled([...new Set(inputs)], ctx.rng)) {
      const prop = propagate(ctx.sol, new Map([[i, { forced: formatValue(Number(asserted), 3) }]]));
      if (!prop || implausible(ctx, prop)) continue;
      // A "$" cut away with the restatement comes back before the value; one left in the sentence stays.
      const dollar = (sentence.restates && /\$\s*$/.test(preText)) || step.trailing.includes('$') ? '$' : '';
      const percent = step.trailing.trimEnd().endsWith('%') ? '%' : '';
      const shown = `${dollar}${prop.results[i]!}${percent}`;
      const raw = renderBody(ctx.sol, prop, {
        textOverrides: pre === null ? new Map() : new Map([[pre, preText.slice(0, sentence.start)]]),
        stepAsText: new Map([[i, shown]]),
      });
      const done = finish(ctx, 'unsupported_leap', raw, prop, { step: i, correct: step.result, asserted: prop.results[i]! });
      if (done) return done;
    }
  }
  return null;
}

const PREMATURE_PHRASES = ['So the answer is {v}.', 'The answer is {v}.', 'Therefore, the final answer is {v}.'];

function prematureAnswer(ctx: Context): MathPerturbation | null {
  const ancestors = ancestorsOf(ctx.sol.steps, ctx.answer);
  const earlier = ctx.sol.steps.filter((s: CalcStep) => s.index < ctx.answer && !sameValue(s.value, ctx.gold)).map((s) => s.index);
  // Steps on the way to the answer first, then the others.
  const order = [
    ...shuffled(
      earlier.filter((i) => ancestors.has(i)),
      ctx.rng,
    ),
    ...shuffled(
      earlier.filter((i) => !ancestors.has(i)),
      ctx.rng,
    ),
  ];
  const unchanged = propagate(ctx.sol, new Map());
  if (!unchanged) return null;
  for (const i of order) {
    const phrase = PREMATURE_PHRASES[Math.floor(ctx.rng() * PREMATURE_PHRASES.length)]!;
    const stated = ctx.sol.steps[i]!.result;
    const raw = `${renderBody(ctx.sol, unchanged, { stopAfterStep: i }).trimEnd()}\n${phrase.replace('{v}', stated)}`;
    const done = finish(ctx, 'premature_answer', raw, null, { step: i, stated });
    if (done) return done;
  }
  return null;
}

const PERTURBERS: Record<ProgrammaticMathKind, (ctx: Context) => MathPerturbation | null> = {
  arithmetic_error: arithmeticError,
  incorrect_operation: incorrectOperation,
  unsupported_leap: unsupportedLeap,
  premature_answer: prematureAnswer,
};

/** Why a kind found no step (each candidate step also has to keep quantities plausible: see implausible()). */
const NO_CANDIDATE: Record<ProgrammaticMathKind, string> = {
  arithmetic_error: 'no step on the way to the answer takes a careless result that plausibly changes the answer',
  incorrect_operation: 'no step on the way to the answer has a restated operator whose swap plausibly changes the answer',
  unsupported_leap: 'no step on the way to the answer has a restated computation whose removal plausibly changes the answer',
  premature_answer: 'no earlier step has a value other than the answer',
};

/** One programmatic perturbation of a GSM8K solution; the same input and seed give the same result. */
export function perturbMath(kind: ProgrammaticMathKind, input: MathPerturbInput): MathPerturbResult {
  const sol = parseGsm8kSolution(input.answer);
  const gold = Number(input.gold.replace(/,/g, ''));
  if (!sol.steps.length) return { ok: false, reason: 'the solution has no calculator annotations' };
  if (!Number.isFinite(gold)) return { ok: false, reason: 'the gold answer is not a number' };
  const answer = answerStep(sol.steps, gold);
  if (answer === null) return { ok: false, reason: 'no annotated step gives the gold answer' };
  const ctx: Context = {
    input,
    sol,
    gold,
    answer,
    positive: cleanGsm8kReasoning(input.answer),
    stated: statedNumbers(input.problem),
    rng: streamFor(input.seed, input.problemId, kind),
  };
  const perturbation = PERTURBERS[kind](ctx);
  return perturbation ? { ok: true, perturbation } : { ok: false, reason: NO_CANDIDATE[kind] };
}
