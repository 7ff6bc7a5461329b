/**
 * DeepMind CodeContests test split as stored by rllm (165 problems, stdin /
 * stdout tests, no reference solutions): code_contests_rllm/code_contests.json.
 */
import { z } from 'zod';
import type { CodeProblem } from '../../contract';
import { DataFileError, describeZodError, readJsonFile } from '../../util/jsonl';
import { requireTaskFile } from '../dataDir';
import type { TaskModule } from '../types';
import { stdioProblemText } from './common';

const SOURCE = 'deepmind/code_contests test split via agentica-project/rllm data/test/code/code_contests.json (CC-BY-4.0)';

const RowSchema = z.object({
  problem: z.string(),
  tests: z
    .object({ input: z.array(z.string()), output: z.array(z.string()) })
    .refine((t) => t.input.length === t.output.length && t.input.length > 0, {
      message: 'input and output lists must be non-empty and of equal length',
    }),
});

export const codeContests: TaskModule = {
  name: 'code_contests',
  kind: 'code',
  description: 'CodeContests (DeepMind) test split: competitive programming with stdin/stdout tests',
  splits: ['test'],
  defaultSplit: 'test',
  files: [{ split: 'test', path: 'code_contests_rllm/code_contests.json', source: SOURCE }],
  hasReferenceTraces: false,
  load(dataDir, split) {
    const file = requireTaskFile(this, dataDir, split);
    const raw = readJsonFile(file);
    if (!Array.isArray(raw)) throw new DataFileError(file, null, 'expected a JSON list');
    return raw.map((value, i): CodeProblem => {
      const parsed = RowSchema.safeParse(value);
      if (!parsed.success) throw new DataFileError(file, null, `item ${i}: ${describeZodError(parsed.error)}`);
      const row = parsed.data;
      return {
        task: 'code_contests',
        id: `code_contests/${i}`,
        kind: 'code',
        problem: stdioProblemText(row.problem),
        reference_trace: null,
        meta: { index: i },
        tests: { kind: 'stdio', cases: row.tests.input.map((input, k) => ({ input, output: row.tests.output[k]! })) },
        entry_point: null,
        starter_code: null,
        reference_solution: null,
      };
    });
  },
};
