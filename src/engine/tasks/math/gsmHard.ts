/** GSM-Hard (reasoning-machines/pal gsmhardv2.jsonl): GSM8K test questions with larger numbers. */
import { z } from 'zod';
import type { MathProblem } from '../../contract';
import { parseJsonl, readTextFile, validateLines } from '../../util/jsonl';
import { requireTaskFile } from '../dataDir';
import type { TaskModule } from '../types';
import { formatNumber } from './numberFormat';

const GsmHardRowSchema = z.object({
  input: z.string(),
  code: z.string().optional(),
  target: z.number(),
});

export const gsmHard: TaskModule = {
  name: 'gsm_hard',
  kind: 'math',
  description: 'GSM-Hard: GSM8K test questions with larger numbers (numeric answers)',
  splits: ['test'],
  defaultSplit: 'test',
  files: [{ split: 'test', path: 'gsm_hard/gsmhardv2.jsonl', source: 'reasoning-machines/pal, datasets/gsmhardv2.jsonl (Apache-2.0)' }],
  // The dataset's only worked solution is a PAL program; planner traces must not be code.
  hasReferenceTraces: false,
  load(dataDir, split) {
    const file = requireTaskFile(this, dataDir, split);
    const rows = validateLines(GsmHardRowSchema, parseJsonl(readTextFile(file), file), file);
    return rows.map((row, i): MathProblem => ({
      task: 'gsm_hard',
      id: `gsm_hard/${split}/${i}`,
      kind: 'math',
      problem: row.input,
      answer: formatNumber(row.target),
      reference_trace: null,
      meta: { index: i },
    }));
  },
};
