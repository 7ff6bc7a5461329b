/**
 * MBPP+ (EvalPlus v0.2.0): MBPP tasks checked on base + extra inputs against
 * the canonical solution. Inputs are deserialised exactly as EvalPlus's
 * mbpp_deserialize_inputs does (lists → tuples/sets/complex for the tasks
 * whose functions expect them), and EvalPlus's special oracles apply.
 */
import type { EvalPlusOracle } from '../../contract';
import { asTuple, deepTuple, isTagged, pyComplexFromString, pyFloat, pyItems, pySet, type PyValue } from '../../verify/code/pyjson';
import { requireTaskFile } from '../dataDir';
import type { TaskModule } from '../types';
import { functionProblemText, readPyJsonl } from './common';
import { evalPlusProblem } from './evalplus';

const SOURCE = 'evalplus/mbppplus_release v0.2.0 (Apache-2.0)';

const TUPLE_ARGS = [2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616, 630, 726, 740, 744, 809];
const TUPLE_ITEMS_OF_ARGS = [63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780];
const FIRST_ARG_ITEMS = [75, 413, 444, 753];
const FIRST_ARG_TUPLE = [250, 405, 446, 617, 720, 763, 808];
const NESTED_TUPLE_ARGS = [259, 401, 445];
const DEEP_TUPLE = [580, 615, 791];

/** Output not serialisable in EvalPlus: only "is not None" is checked. */
const NOT_NONE = ['check_str', 'text_match_three', 'text_starta_endb'];
const SET_EQ = [
  'similar_elements',
  'find_char_long',
  'common_in_nested_lists',
  'extract_singly',
  'larg_nnum',
  'intersection_array',
  'find_dissimilar',
  'Diff',
];

const items = (v: PyValue): PyValue[] => pyItems(v) ?? [];

/** complex(x) on the Python side, for a serialised string or a number. */
function complexOf(v: PyValue): PyValue {
  if (typeof v === 'string') return pyComplexFromString(v);
  if (typeof v === 'number') return { $complex: [String(v), '0.0'] };
  if (isTagged(v, '$float')) return { $complex: [(v as { $float: string }).$float, '0.0'] };
  return v;
}

/** Port of evalplus.data.mbpp.mbpp_deserialize_inputs on typed JSON. */
export function mbppDeserializeInputs(taskId: string, inputs: PyValue[][]): PyValue[][] {
  const id = Number(taskId.split('/').pop());
  if (TUPLE_ARGS.includes(id)) return inputs.map((inp) => inp.map(asTuple));
  if (TUPLE_ITEMS_OF_ARGS.includes(id)) return inputs.map((inp) => inp.map((lst) => items(lst).map(asTuple)));
  if (FIRST_ARG_ITEMS.includes(id)) return inputs.map((inp) => [items(inp[0]!).map(asTuple), inp[1]!]);
  if (id === 106 || id === 750) return inputs.map((inp) => [inp[0]!, asTuple(inp[1]!)]);
  if (id === 115)
    return inputs.map((inp) => [items(inp[0]!).map((item) => (Array.isArray(item) && item.length ? pySet(item) : { $dict: [] }))]);
  if (id === 124) return inputs.map((inp) => [pyFloat(inp[0]!), complexOf(inp[1]!)]);
  if (FIRST_ARG_TUPLE.includes(id)) return inputs.map((inp) => [asTuple(inp[0]!), inp[1]!]);
  if (NESTED_TUPLE_ARGS.includes(id)) return inputs.map((inp) => inp.map((lst) => ({ $tuple: items(lst).map(asTuple) })));
  if (id === 278) return inputs.map((inp) => [{ $tuple: items(inp[0]!).map((item) => (Array.isArray(item) ? asTuple(item) : item)) }]);
  if (id === 307) return inputs.map((inp) => [asTuple(inp[0]!), inp[1]!, inp[2]!]);
  if (id === 722)
    return inputs.map((inp) => {
      const d = inp[0]!;
      const entries = isTagged(d, '$dict') ? (d as { $dict: [PyValue, PyValue][] }).$dict : [];
      return [{ $dict: entries.map(([k, v]) => [k, asTuple(v)] as [PyValue, PyValue]) }, ...inp.slice(1)];
    });
  if (id === 252) return inputs.map((inp) => [complexOf(inp[0]!)]);
  if (DEEP_TUPLE.includes(id)) return inputs.map((inp) => inp.map(deepTuple));
  return inputs;
}

export function mbppPlusOracle(taskId: string, entryPoint: string): EvalPlusOracle {
  if (entryPoint === 'are_equivalent') return 'always_true';
  if (entryPoint === 'sum_div') return 'or_zero';
  if (entryPoint === 'surface_Area') return 'surface_area';
  if (entryPoint === 'digit_distance_nums') return 'digit_distance';
  if (SET_EQ.includes(entryPoint)) return 'set_eq';
  if (NOT_NONE.includes(entryPoint)) return 'not_none';
  void taskId;
  return 'exact';
}

/** MBPP+ prompts are a docstring holding the task and one example assert. */
function mbppPlusText(prompt: string, entryPoint: string): string {
  const inner = prompt
    .trim()
    .replace(/^"""\s*/, '')
    .replace(/\s*"""$/, '');
  return `${inner}\n\nWrite the Python function \`${entryPoint}\`.`;
}

export const mbppplus: TaskModule = {
  name: 'mbppplus',
  kind: 'code',
  description: 'MBPP+ (EvalPlus): 378 MBPP tasks checked on base + extra inputs against the canonical solution',
  splits: ['test', 'noextreme'],
  defaultSplit: 'test',
  files: [
    { split: 'test', path: 'mbppplus/MbppPlus.jsonl.gz', source: SOURCE },
    { split: 'noextreme', path: 'mbppplus/MbppPlus-NoExtreme.jsonl.gz', source: SOURCE },
  ],
  hasReferenceTraces: false,
  load(dataDir, split) {
    const file = requireTaskFile(this, dataDir, split);
    return readPyJsonl(file).map((row) =>
      evalPlusProblem(row, {
        task: 'mbppplus',
        deserialize: mbppDeserializeInputs,
        oracle: mbppPlusOracle,
        problemText: (r) => {
          const ep = r.str('entry_point');
          const prompt = r.str('prompt');
          return prompt.trim().startsWith('"""') ? mbppPlusText(prompt, ep) : functionProblemText(prompt, ep);
        },
      }),
    );
  },
};
