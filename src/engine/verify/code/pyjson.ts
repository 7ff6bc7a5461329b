/**
 * Typed JSON (see contract/codeTests.ts): Python values that survive a trip
 * through JavaScript. `parsePythonJson` reads JSON the way Python's json
 * module does — `1.0` stays a float, big integers stay exact, objects become
 * dicts — and returns typed JSON; the helpers build tuples, sets and complex
 * numbers for dataset deserialisers (EvalPlus MBPP+).
 */

export type PyValue =
  | null
  | boolean
  | number
  | string
  | PyValue[]
  | { $int: string }
  | { $float: string }
  | { $tuple: PyValue[] }
  | { $dict: [PyValue, PyValue][] }
  | { $set: PyValue[] }
  | { $frozenset: PyValue[] }
  | { $bytes: string }
  | { $complex: [PyValue, PyValue] | string };

export const pyTuple = (items: PyValue[]): PyValue => ({ $tuple: items });
export const pySet = (items: PyValue[]): PyValue => ({ $set: items });
/** complex("1+2j") on the Python side. */
export const pyComplexFromString = (s: string): PyValue => ({ $complex: s });
/** float(x) on the Python side (keeps 1.0 a float). */
export function pyFloat(x: PyValue): PyValue {
  if (typeof x === 'number') return Number.isInteger(x) ? { $float: x.toFixed(1) } : x;
  if (typeof x === 'string') return { $float: x };
  if (isTagged(x, '$float')) return x;
  if (isTagged(x, '$int')) return { $float: String(parseInt(x.$int, 16)) };
  throw new Error('pyFloat: not a number');
}

export function isTagged<K extends string>(v: unknown, tag: K): v is Record<K, never> & Record<K, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, tag);
}

/** A Python list (a JSON array), or the items of a typed tuple. */
export function pyItems(v: PyValue): PyValue[] | null {
  if (Array.isArray(v)) return v;
  if (isTagged(v, '$tuple')) return (v as { $tuple: PyValue[] }).$tuple;
  return null;
}

/** list → tuple, one level. */
export function asTuple(v: PyValue): PyValue {
  const items = pyItems(v);
  return items ? pyTuple(items) : v;
}

/** Every list, at any depth, becomes a tuple. */
export function deepTuple(v: PyValue): PyValue {
  const items = pyItems(v);
  return items ? pyTuple(items.map(deepTuple)) : v;
}

export class PyJsonError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
    this.name = 'PyJsonError';
  }
}

const SAFE = 2 ** 53;

/** Parse JSON text as Python's json.loads would type it, into typed JSON. */
export function parsePythonJson(text: string): PyValue {
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const fail = (msg: string): never => {
    throw new PyJsonError(msg, i);
  };
  const value = (depth: number): PyValue => {
    if (depth > 10000) fail('nested too deeply');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const items: [PyValue, PyValue][] = [];
      ws();
      if (text[i] === '}') {
        i++;
        return { $dict: items };
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key');
        const k = str();
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        items.push([k, value(depth + 1)]);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return { $dict: items };
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const items: PyValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return items;
      }
      for (;;) {
        items.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return items;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    if (text.startsWith('NaN', i)) {
      i += 3;
      return { $float: 'nan' };
    }
    if (text.startsWith('Infinity', i)) {
      i += 8;
      return { $float: 'inf' };
    }
    if (text.startsWith('-Infinity', i)) {
      i += 9;
      return { $float: '-inf' };
    }
    return num();
  };
  const num = (): PyValue => {
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 4096));
    if (!m) fail('invalid value');
    const lex = m![0];
    i += lex.length;
    if (m![1] === undefined && m![2] === undefined) {
      const v = Number(lex);
      if (Math.abs(v) < SAFE) return v;
      const neg = lex.startsWith('-');
      const hex = BigInt(neg ? lex.slice(1) : lex).toString(16);
      return { $int: neg ? `-${hex}` : hex };
    }
    const v = Number(lex);
    if (!Number.isFinite(v)) return { $float: v > 0 ? 'inf' : '-inf' };
    if (Number.isInteger(v)) return { $float: lex };
    return v;
  };
  const str = (): string => {
    // Fast path: no escapes.
    const start = ++i;
    let j = start;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === 34 || c === 92) break;
      j++;
    }
    if (text.charCodeAt(j) === 34) {
      i = j + 1;
      return text.slice(start, j);
    }
    // Slow path with escapes: let JSON.parse decode the string literal.
    j = start;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === 92) j += 2;
      else if (c === 34) break;
      else j++;
    }
    if (j >= n) fail('unterminated string');
    const lit = text.slice(start - 1, j + 1);
    i = j + 1;
    try {
      return JSON.parse(lit) as string;
    } catch {
      return fail('invalid string');
    }
  };
  const v = value(0);
  ws();
  if (i !== n) fail('trailing data');
  return v;
}

/** Plain JSON value (e.g. from JSON.parse) → typed JSON: objects become dicts. */
export function toPyValue(v: unknown): PyValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return { $float: Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf' };
    return v;
  }
  if (Array.isArray(v)) return v.map(toPyValue);
  if (typeof v === 'object') return { $dict: Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, toPyValue(x)]) };
  throw new Error(`not representable as a Python value: ${typeof v}`);
}
