/**
 * Shared pieces of the code task modules: reading rows whose values must keep
 * their Python types (EvalPlus inputs), field access with errors that name the
 * file, line and field, and the problem texts given to planner and executor.
 */
import { DataFileError, readTextFile } from '../../util/jsonl';
import { isTagged, parsePythonJson, type PyValue } from '../../verify/code/pyjson';

/** A JSONL row parsed the Python way: field → typed JSON value. */
export class PyRow {
  constructor(
    readonly file: string,
    readonly line: number,
    private readonly fields: Map<string, PyValue>,
  ) {}

  has(key: string): boolean {
    return this.fields.has(key);
  }

  raw(key: string): PyValue {
    if (!this.fields.has(key)) throw new DataFileError(this.file, this.line, `field "${key}": missing`);
    return this.fields.get(key)!;
  }

  str(key: string): string {
    const v = this.raw(key);
    if (typeof v !== 'string') throw new DataFileError(this.file, this.line, `field "${key}": expected a string`);
    return v;
  }

  num(key: string): number {
    const v = this.raw(key);
    if (typeof v === 'number') return v;
    if (isTagged(v, '$float')) return Number((v as { $float: string }).$float);
    if (isTagged(v, '$int')) return parseInt((v as { $int: string }).$int, 16);
    throw new DataFileError(this.file, this.line, `field "${key}": expected a number`);
  }

  list(key: string): PyValue[] {
    const v = this.raw(key);
    if (!Array.isArray(v)) throw new DataFileError(this.file, this.line, `field "${key}": expected a list`);
    return v;
  }

  /** A list of argument lists (EvalPlus base_input / plus_input; MBPP+ writes an empty one as {}). */
  argLists(key: string): PyValue[][] {
    const v = this.raw(key);
    if (isTagged(v, '$dict') && (v as { $dict: unknown[] }).$dict.length === 0) return [];
    return this.list(key).map((args, i) => {
      if (!Array.isArray(args)) throw new DataFileError(this.file, this.line, `field "${key}.${i}": expected a list of arguments`);
      return args;
    });
  }
}

/** Reads a (gzipped) JSONL file with Python typing (1.0 stays a float, objects become dicts). */
export function readPyJsonl(file: string): PyRow[] {
  const text = readTextFile(file);
  const rows: PyRow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (!raw) continue;
    let v: PyValue;
    try {
      v = parsePythonJson(raw);
    } catch (e) {
      throw new DataFileError(file, i + 1, `invalid JSON (${(e as Error).message})`);
    }
    if (!isTagged(v, '$dict')) throw new DataFileError(file, i + 1, 'expected a JSON object');
    const fields = new Map<string, PyValue>();
    for (const [k, x] of (v as { $dict: [PyValue, PyValue][] }).$dict) fields.set(String(k), x);
    rows.push(new PyRow(file, i + 1, fields));
  }
  return rows;
}

/** Problem text for a function-level task given as a Python prompt (signature + docstring). */
export function functionProblemText(prompt: string, entryPoint: string): string {
  return (
    `Implement the Python function \`${entryPoint}\` below. Keep its name and signature, ` +
    `and include the imports and helper functions it needs.\n\n${prompt.replace(/\s+$/, '')}\n`
  );
}

export function stdioProblemText(statement: string): string {
  return `${statement.replace(/\s+$/, '')}\n\nThe program reads the input from standard input and writes the answer to standard output.`;
}

export function leetcodeProblemText(statement: string, starter: string): string {
  return `${statement.replace(/\s+$/, '')}\n\nComplete this starter code (class \`Solution\`; keep the method name and signature):\n\n${starter.replace(/\s+$/, '')}\n`;
}

/** Name of the method a LeetCode starter (`class Solution: def name(self, …)`) declares. */
export function starterMethodName(starter: string): string | null {
  const m = /^[ \t]+def[ \t]+(\w+)[ \t]*\(\s*self\b/m.exec(starter);
  return m ? m[1]! : null;
}
