/** SVAMP (arkilpatel/SVAMP SVAMP.json): one JSON list of Body / Question / Equation / Answer. */
import { z } from 'zod';
import type { MathProblem } from '../../contract';
import { DataFileError, describeZodError, readJsonFile } from '../../util/jsonl';
import { requireTaskFile } from '../dataDir';
import type { TaskModule } from '../types';
import { formatNumber } from './numberFormat';

const SvampRowSchema = z.object({
  ID: z.string(),
  Body: z.string(),
  Question: z.string(),
  Equation: z.string(),
  Answer: z.number(),
  Type: z.string().optional(),
});

export const svamp: TaskModule = {
  name: 'svamp',
  kind: 'math',
  description: 'SVAMP arithmetic word problems (numeric answers)',
  splits: ['test'],
  defaultSplit: 'test',
  files: [{ split: 'test', path: 'svamp/SVAMP.json', source: 'arkilpatel/SVAMP, SVAMP.json (MIT)' }],
  hasReferenceTraces: true,
  load(dataDir, split) {
    const file = requireTaskFile(this, dataDir, split);
    const data = readJsonFile(file);
    if (!Array.isArray(data)) throw new DataFileError(file, null, 'expected a JSON list of problems');
    return data.map((value, i): MathProblem => {
      const parsed = SvampRowSchema.safeParse(value);
      if (!parsed.success) throw new DataFileError(file, null, `item ${i}: ${describeZodError(parsed.error)}`);
      const row = parsed.data;
      const body = row.Body.trim();
      const joiner = /[.!?]$/.test(body) ? ' ' : '. ';
      return {
        task: 'svamp',
        id: row.ID,
        kind: 'math',
        problem: `${body}${joiner}${row.Question.trim()}`,
        answer: formatNumber(row.Answer),
        // The dataset's worked solution is its equation; state it as reasoning, without the result.
        reference_trace: `The quantity asked for can be computed as ${row.Equation.trim()}.`,
        meta: { type: row.Type ?? null, equation: row.Equation },
      };
    });
  },
};
