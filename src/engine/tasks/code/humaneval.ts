/** HumanEval (openai/human-eval): prompt + canonical solution + check(candidate). */
import { z } from 'zod';
import type { CodeProblem } from '../../contract';
import { readJsonlFile } from '../../util/jsonl';
import { requireTaskFile } from '../dataDir';
import type { TaskModule } from '../types';
import { functionProblemText } from './common';

const SOURCE = 'openai/human-eval, data/HumanEval.jsonl.gz (MIT)';

export const HumanEvalRowSchema = z.object({
  task_id: z.string().min(1),
  prompt: z.string(),
  entry_point: z.string().min(1),
  canonical_solution: z.string(),
  test: z.string().min(1),
});

export const humaneval: TaskModule = {
  name: 'humaneval',
  kind: 'code',
  description: 'HumanEval: 164 Python functions from docstrings, checked by check(candidate)',
  splits: ['test'],
  defaultSplit: 'test',
  files: [{ split: 'test', path: 'humaneval/HumanEval.jsonl.gz', source: SOURCE }],
  hasReferenceTraces: false,
  load(dataDir, split) {
    const file = requireTaskFile(this, dataDir, split);
    return readJsonlFile(HumanEvalRowSchema, file).map((row): CodeProblem => ({
      task: 'humaneval',
      id: row.task_id,
      kind: 'code',
      problem: functionProblemText(row.prompt, row.entry_point),
      reference_trace: null,
      meta: { task_id: row.task_id },
      // The prompt runs on the judge side as trusted helper code, so the
      // helpers check() uses (poly, encode_cyclic, …) are the dataset's own.
      tests: { kind: 'humaneval', test: row.test, entry_point: row.entry_point, helpers: row.prompt },
      entry_point: row.entry_point,
      starter_code: row.prompt,
      reference_solution: row.prompt + row.canonical_solution,
    }));
  },
};
