/**
 * EvalPlus (HumanEval+ / MBPP+) rows → evalplus CodeTests. The expected
 * outputs are not in the release files: EvalPlus computes them by running the
 * canonical solution. Here the tests carry the canonical program as
 * `reference`; CodeVerifier runs it in the sandbox on first use and caches
 * the outputs on disk (see CodeVerifier `expectedCacheDir`).
 */
import type { CodeProblem, EvalPlusOracle } from '../../contract';
import type { PyValue } from '../../verify/code/pyjson';
import type { PyRow } from './common';
import { functionProblemText } from './common';

export interface EvalPlusOptions {
  task: string;
  /** Turns the file's JSON argument lists into the Python values the task expects (MBPP+ tuples/sets). */
  deserialize?: (taskId: string, inputs: PyValue[][]) => PyValue[][];
  oracle?: (taskId: string, entryPoint: string) => EvalPlusOracle;
  problemText?: (row: PyRow) => string;
}

export function evalPlusProblem(row: PyRow, o: EvalPlusOptions): CodeProblem {
  const taskId = row.str('task_id');
  const entryPoint = row.str('entry_point');
  const prompt = row.str('prompt');
  const canonical = row.str('canonical_solution');
  const base = row.argLists('base_input');
  const plus = row.has('plus_input') ? row.argLists('plus_input') : [];
  let inputs = [...base, ...plus];
  if (o.deserialize) inputs = o.deserialize(taskId, inputs);
  const atol = row.has('atol') ? row.num('atol') : 0;
  const oracle = o.oracle?.(taskId, entryPoint) ?? 'exact';
  const reference = prompt + canonical;
  return {
    task: o.task,
    id: taskId,
    kind: 'code',
    problem: o.problemText ? o.problemText(row) : functionProblemText(prompt, entryPoint),
    reference_trace: null,
    meta: { task_id: taskId, base_inputs: base.length, plus_inputs: plus.length },
    tests: {
      kind: 'evalplus',
      entry_point: entryPoint,
      inputs,
      reference,
      ...(atol ? { atol } : {}),
      ...(oracle !== 'exact' ? { oracle } : {}),
    },
    entry_point: entryPoint,
    starter_code: prompt,
    reference_solution: reference,
  };
}
