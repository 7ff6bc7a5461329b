/** GSM8K (openai/grade-school-math): question + worked answer ending "#### N". */
import { z } from 'zod';
import type { MathProblem } from '../../contract';
import { parseJsonl, readTextFile, validateLines } from '../../util/jsonl';
import { requireTaskFile } from '../dataDir';
import type { TaskModule } from '../types';

const SOURCE = 'openai/grade-school-math, grade_school_math/data/{test,train}.jsonl (MIT)';

const Gsm8kRowSchema = z.object({
  question: z.string(),
  answer: z.string().regex(/####\s*\S/, 'must end with "#### <number>"'),
});

/** The number after "####", commas removed. */
export function gsm8kFinalAnswer(answer: string): string {
  const match = /####\s*(.+?)\s*$/.exec(answer.trim());
  return (match?.[1] ?? '').replace(/,/g, '');
}

/**
 * The reference trace evals use: the worked solution without the "#### N" line
 * and without the <<a*b=c>> calculator annotations. (The groups builder's
 * positive keeps an annotation's inner text, as the official builder does:
 * cleanGsm8kReasoning in engine/groups/build.)
 */
export function gsm8kReferenceTrace(answer: string): string {
  return answer
    .split('\n')
    .filter((line) => !line.trim().startsWith('####'))
    .join('\n')
    .replace(/<<[^>]*>>/g, '')
    .trim();
}

export const gsm8k: TaskModule = {
  name: 'gsm8k',
  kind: 'math',
  description: 'GSM8K grade-school math word problems (numeric answers)',
  splits: ['test', 'train'],
  defaultSplit: 'test',
  files: [
    { split: 'test', path: 'gsm8k/test.jsonl', source: SOURCE },
    { split: 'train', path: 'gsm8k/train.jsonl', source: SOURCE },
  ],
  hasReferenceTraces: true,
  load(dataDir, split) {
    const file = requireTaskFile(this, dataDir, split);
    const rows = validateLines(Gsm8kRowSchema, parseJsonl(readTextFile(file), file), file);
    return rows.map((row, i): MathProblem => ({
      task: 'gsm8k',
      id: `gsm8k/${split}/${i}`,
      kind: 'math',
      problem: row.question,
      answer: gsm8kFinalAnswer(row.answer),
      reference_trace: gsm8kReferenceTrace(row.answer),
      meta: { index: i },
    }));
  },
};
