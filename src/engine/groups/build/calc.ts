/**
 * The computation graph of a GSM8K worked solution, read from its
 * `<<expr=result>>` calculator annotations: each annotation is a step, a
 * step depends on the latest earlier step whose result it uses as an
 * operand. Expressions are arithmetic on decimals (+ − × ÷, parentheses),
 * which every annotation of the train split is; steps whose expression
 * does not parse or does not give their result are kept as opaque text.
 */
import { GSM8K_CALC_RE, gsm8kSolutionBody } from './clean';

export type Operator = '+' | '-' | '*' | '/';

export type ExprToken =
  | { type: 'num'; text: string; value: number; ws: string }
  | { type: 'op'; op: Operator; ws: string }
  | { type: 'paren'; text: '(' | ')'; ws: string };

export interface CalcStep {
  /** 0-based, in text order. */
  index: number;
  /** Tokens of the expression left of "=", with the whitespace before each. */
  tokens: ExprToken[];
  /** The stated result as written. */
  result: string;
  value: number;
  /** The number written after the annotation ("24", " $24", "5%"), or null when none follows. */
  trailing: string | null;
  /** Indexes of the earlier steps whose result each num token uses (null: a given quantity). */
  operandSources: (number | null)[];
  /** False when the expression does not parse or does not give the stated result. */
  consistent: boolean;
}

export type Segment = { kind: 'text'; text: string } | { kind: 'step'; step: number };

export interface Gsm8kSolution {
  /** The worked solution without its "#### N" tail. */
  body: string;
  /** The body as text and steps in order; rendering them back gives `body`. */
  segments: Segment[];
  steps: CalcStep[];
}

const NUM = /^(?:\d+(?:\.\d*)?|\.\d+)/;

/** Tokens of an annotation's expression, or null when it holds anything else. */
export function tokenizeExpr(expr: string): ExprToken[] | null {
  const tokens: ExprToken[] = [];
  let i = 0;
  while (i < expr.length) {
    const ws = /^\s*/.exec(expr.slice(i))![0];
    i += ws.length;
    if (i >= expr.length) break;
    const rest = expr.slice(i);
    const num = NUM.exec(rest);
    if (num) {
      tokens.push({ type: 'num', text: num[0], value: Number(num[0]), ws });
      i += num[0].length;
    } else if ('+-*/'.includes(rest[0]!)) {
      tokens.push({ type: 'op', op: rest[0] as Operator, ws });
      i += 1;
    } else if (rest[0] === '(' || rest[0] === ')') {
      tokens.push({ type: 'paren', text: rest[0], ws });
      i += 1;
    } else {
      return null;
    }
  }
  return tokens;
}

export function renderExpr(tokens: readonly ExprToken[]): string {
  return tokens.map((t) => t.ws + (t.type === 'num' ? t.text : t.type === 'op' ? t.op : t.text)).join('');
}

/** Value of the tokens (usual precedence, unary minus), or null when they do not form an expression. */
export function evaluateTokens(tokens: readonly ExprToken[]): number | null {
  let pos = 0;
  const peek = () => tokens[pos];
  function primary(): number | null {
    const t = peek();
    if (!t) return null;
    if (t.type === 'num') {
      pos++;
      return t.value;
    }
    if (t.type === 'op' && (t.op === '-' || t.op === '+')) {
      pos++;
      const v = primary();
      return v === null ? null : t.op === '-' ? -v : v;
    }
    if (t.type === 'paren' && t.text === '(') {
      pos++;
      const v = sum();
      const close = peek();
      if (v === null || !close || close.type !== 'paren' || close.text !== ')') return null;
      pos++;
      return v;
    }
    return null;
  }
  function product(): number | null {
    let v = primary();
    while (v !== null) {
      const t = peek();
      if (!t || t.type !== 'op' || (t.op !== '*' && t.op !== '/')) break;
      pos++;
      const r = primary();
      if (r === null) return null;
      v = t.op === '*' ? v * r : v / r;
    }
    return v;
  }
  function sum(): number | null {
    let v = product();
    while (v !== null) {
      const t = peek();
      if (!t || t.type !== 'op' || (t.op !== '+' && t.op !== '-')) break;
      pos++;
      const r = product();
      if (r === null) return null;
      v = t.op === '+' ? v + r : v - r;
    }
    return v;
  }
  const v = sum();
  return v !== null && pos === tokens.length && Number.isFinite(v) ? v : null;
}

/** Two values equal up to floating-point noise. */
export function sameValue(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/**
 * A computed value written as GSM8K writes results: an integer plainly,
 * otherwise with at most `decimals` decimals and no trailing zeros.
 */
export function formatValue(value: number, decimals = 2): string {
  if (sameValue(value, Math.round(value))) return String(Math.round(value));
  const fixed = value.toFixed(decimals).replace(/0+$/, '').replace(/\.$/, '');
  return fixed === '-0' ? '0' : fixed;
}

/** Reads the steps of a GSM8K `answer` field. */
export function parseGsm8kSolution(answer: string): Gsm8kSolution {
  const body = gsm8kSolutionBody(answer);
  const segments: Segment[] = [];
  const steps: CalcStep[] = [];
  // Every annotation, followed by a number (as the cleaning regex takes it) or not.
  const any = /<<([^<>]+)>>/g;
  const withNumber = new RegExp(GSM8K_CALC_RE.source, 'uy');
  let at = 0;
  for (let m = any.exec(body); m; m = any.exec(body)) {
    withNumber.lastIndex = m.index;
    const full = withNumber.exec(body);
    const end = full ? m.index + full[0].length : m.index + m[0].length;
    const inner = m[1]!;
    const eq = inner.lastIndexOf('=');
    const tokens = eq > 0 ? tokenizeExpr(inner.slice(0, eq)) : null;
    const result = eq > 0 ? inner.slice(eq + 1).trim() : '';
    const value = Number(result);
    const computed = tokens ? evaluateTokens(tokens) : null;
    if (!tokens || !result || !Number.isFinite(value) || computed === null) {
      // Not an arithmetic step we can read: it stays text.
      continue;
    }
    if (m.index > at) segments.push({ kind: 'text', text: body.slice(at, m.index) });
    const index = steps.length;
    steps.push({
      index,
      tokens,
      result,
      value,
      trailing: full ? body.slice(m.index + m[0].length, end) : null,
      operandSources: tokens.map((t) => (t.type === 'num' ? latestStepWithValue(steps, t.value) : null)),
      consistent: sameValue(computed, value),
    });
    segments.push({ kind: 'step', step: index });
    at = end;
    any.lastIndex = end;
  }
  if (at < body.length) segments.push({ kind: 'text', text: body.slice(at) });
  return { body, segments, steps };
}

function latestStepWithValue(steps: readonly CalcStep[], value: number): number | null {
  for (let i = steps.length - 1; i >= 0; i--) if (sameValue(steps[i]!.value, value)) return i;
  return null;
}

/** The annotation as written in the raw solution, with `result` shown after it where a number followed. */
export function renderStep(tokens: readonly ExprToken[], result: string, trailing: string | null): string {
  const annotation = `<<${renderExpr(tokens)}=${result}>>`;
  if (trailing === null) return annotation;
  // Keep the whitespace, sign, "$" and "%" around the shown number.
  return annotation + trailing.replace(/[-+]?(\$?)\p{Nd}[\p{Nd},]*(?:\.\p{Nd}+)?/u, (_n, dollar: string) => dollar + result);
}

/** Steps that `target` depends on, directly or not, and `target` itself. */
export function ancestorsOf(steps: readonly CalcStep[], target: number): Set<number> {
  const out = new Set<number>([target]);
  for (let i = target; i >= 0; i--) {
    if (!out.has(i)) continue;
    for (const src of steps[i]!.operandSources) if (src !== null) out.add(src);
  }
  return out;
}

/** The last step whose result is the gold answer, or null. */
export function answerStep(steps: readonly CalcStep[], gold: number): number | null {
  for (let i = steps.length - 1; i >= 0; i--) if (sameValue(steps[i]!.value, gold)) return i;
  return null;
}
