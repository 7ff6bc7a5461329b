/** MATH500 (openai/prm800k math_splits/test.jsonl): LaTeX problems with \boxed{} solutions. */
import { z } from 'zod';
import type { MathProblem } from '../../contract';
import { parseJsonl, readTextFile, validateLines } from '../../util/jsonl';
import { requireTaskFile } from '../dataDir';
import type { TaskModule } from '../types';

const Math500RowSchema = z.object({
  problem: z.string(),
  solution: z.string(),
  answer: z.string(),
  subject: z.string().optional(),
  level: z.number().optional(),
  unique_id: z.string(),
});

/** Replaces each \boxed{X} (balanced braces) by X, so the trace reads as reasoning. */
export function unboxLatex(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf('\\boxed{', i);
    if (at < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, at);
    let depth = 1;
    let j = at + '\\boxed{'.length;
    const start = j;
    while (j < text.length && depth > 0) {
      if (text[j] === '{') depth++;
      else if (text[j] === '}') depth--;
      j++;
    }
    out += depth === 0 ? text.slice(start, j - 1) : text.slice(at);
    i = depth === 0 ? j : text.length;
  }
  return out;
}

export const math500: TaskModule = {
  name: 'math500',
  kind: 'math',
  description: 'MATH500 competition math (LaTeX answers, checked with math-verify)',
  splits: ['test'],
  defaultSplit: 'test',
  files: [{ split: 'test', path: 'math500/test.jsonl', source: 'openai/prm800k, prm800k/math_splits/test.jsonl (MIT)' }],
  hasReferenceTraces: true,
  load(dataDir, split) {
    const file = requireTaskFile(this, dataDir, split);
    const rows = validateLines(Math500RowSchema, parseJsonl(readTextFile(file), file), file);
    return rows.map((row): MathProblem => ({
      task: 'math500',
      id: row.unique_id,
      kind: 'math',
      problem: row.problem,
      answer: row.answer,
      reference_trace: unboxLatex(row.solution).trim(),
      meta: { subject: row.subject ?? null, level: row.level ?? null },
    }));
  },
};
