/** HumanEval+ (EvalPlus v0.1.10): HumanEval with many extra inputs, outputs from the canonical solution. */
import { requireTaskFile } from '../dataDir';
import type { TaskModule } from '../types';
import { readPyJsonl } from './common';
import { evalPlusProblem } from './evalplus';

const SOURCE = 'evalplus/humanevalplus_release v0.1.10 (Apache-2.0)';

export const humanevalplus: TaskModule = {
  name: 'humanevalplus',
  kind: 'code',
  description: 'HumanEval+ (EvalPlus): HumanEval functions checked on base + extra inputs against the canonical solution',
  splits: ['test', 'mini', 'noextreme'],
  defaultSplit: 'test',
  files: [
    { split: 'test', path: 'humanevalplus/HumanEvalPlus.jsonl.gz', source: SOURCE },
    { split: 'mini', path: 'humanevalplus/HumanEvalPlus-Mini.jsonl.gz', source: SOURCE },
    { split: 'noextreme', path: 'humanevalplus/HumanEvalPlus-NoExtreme.jsonl.gz', source: SOURCE },
  ],
  hasReferenceTraces: false,
  load(dataDir, split) {
    const file = requireTaskFile(this, dataDir, split);
    return readPyJsonl(file).map((row) =>
      evalPlusProblem(row, {
        task: 'humanevalplus',
        // EvalPlus's special oracle for HumanEval/32: any root of the polynomial passes.
        oracle: (_id, ep) => (ep === 'find_zero' ? 'find_zero' : 'exact'),
      }),
    );
  },
};
