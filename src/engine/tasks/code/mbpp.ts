/**
 * MBPP (google-research/mbpp): mbpp.jsonl with Google's splits (by task id:
 * 1–10 prompt, 11–510 test, 511–600 validation, 601–974 train) and the
 * sanitized subset (sanitized-mbpp.json, 427 tasks with test_imports).
 * Each assert of test_list is one test; the problem text lists them, as in
 * the MBPP paper's prompt.
 */
import { z } from 'zod';
import type { CodeProblem } from '../../contract';
import { DataFileError, describeZodError, readJsonFile, readJsonlFile } from '../../util/jsonl';
import { requireTaskFile } from '../dataDir';
import type { TaskModule } from '../types';

const SOURCE = 'google-research/google-research mbpp/ (CC-BY-4.0)';

const MbppRowSchema = z.object({
  task_id: z.number().int(),
  text: z.string(),
  code: z.string(),
  test_setup_code: z.string().default(''),
  test_list: z.array(z.string()).min(1),
  challenge_test_list: z.array(z.string()).default([]),
});

const SanitizedRowSchema = z.object({
  task_id: z.number().int(),
  prompt: z.string(),
  code: z.string(),
  test_imports: z.array(z.string()).default([]),
  test_list: z.array(z.string()).min(1),
});

const SPLIT_RANGES: Record<string, [number, number]> = {
  prompt: [1, 10],
  test: [11, 510],
  validation: [511, 600],
  train: [601, 974],
};

/** The function the asserts call: a function the reference defines, first one the tests use. */
export function mbppEntryPoint(code: string, tests: readonly string[]): string | null {
  const defined = [...code.matchAll(/^[ \t]*def[ \t]+(\w+)[ \t]*\(/gm)].map((m) => m[1]!);
  const joined = tests.join('\n');
  let best: { name: string; at: number } | null = null;
  for (const name of defined) {
    const m = new RegExp(`\\b${name}\\s*\\(`).exec(joined);
    if (m && (!best || m.index < best.at)) best = { name, at: m.index };
  }
  return best?.name ?? null;
}

export function mbppProblemText(text: string, tests: readonly string[]): string {
  return `${text.trim()}\nYour code should pass these tests:\n\n${tests.join('\n')}\n`;
}

function problem(
  task: string,
  id: string,
  text: string,
  code: string,
  tests: string[],
  setup: string,
  meta: Record<string, unknown>,
): CodeProblem {
  const entry = mbppEntryPoint(code, tests);
  const normalizedCode = code.replace(/\r\n?/g, '\n');
  return {
    task,
    id,
    kind: 'code',
    problem: mbppProblemText(text, tests),
    reference_trace: null,
    meta,
    tests: {
      kind: 'asserts',
      asserts: tests,
      ...(setup.trim() ? { setup: setup.replace(/\r\n?/g, '\n') } : {}),
      ...(entry ? { entry_point: entry } : {}),
    },
    entry_point: entry,
    starter_code: null,
    reference_solution: normalizedCode,
  };
}

export const mbpp: TaskModule = {
  name: 'mbpp',
  kind: 'code',
  description: 'MBPP: 974 basic Python programming tasks with 3 assert tests each (Google splits; "sanitized" = the 427-task subset)',
  splits: ['test', 'train', 'validation', 'prompt', 'sanitized'],
  defaultSplit: 'test',
  files: [
    { split: 'test', path: 'mbpp/mbpp.jsonl', source: SOURCE },
    { split: 'train', path: 'mbpp/mbpp.jsonl', source: SOURCE },
    { split: 'validation', path: 'mbpp/mbpp.jsonl', source: SOURCE },
    { split: 'prompt', path: 'mbpp/mbpp.jsonl', source: SOURCE },
    { split: 'sanitized', path: 'mbpp/sanitized-mbpp.json', source: SOURCE },
  ],
  hasReferenceTraces: false,
  load(dataDir, split) {
    const file = requireTaskFile(this, dataDir, split);
    if (split === 'sanitized') {
      const raw = readJsonFile(file);
      if (!Array.isArray(raw)) throw new DataFileError(file, null, 'expected a JSON list');
      return raw.map((value, i) => {
        const parsed = SanitizedRowSchema.safeParse(value);
        if (!parsed.success) throw new DataFileError(file, null, `item ${i}: ${describeZodError(parsed.error)}`);
        const row = parsed.data;
        return problem('mbpp', `mbpp/${row.task_id}`, row.prompt, row.code, row.test_list, row.test_imports.join('\n'), {
          task_id: row.task_id,
          sanitized: true,
        });
      });
    }
    const [lo, hi] = SPLIT_RANGES[split]!;
    return readJsonlFile(MbppRowSchema, file)
      .filter((row) => row.task_id >= lo && row.task_id <= hi)
      .map((row) =>
        problem('mbpp', `mbpp/${row.task_id}`, row.text, row.code, row.test_list, row.test_setup_code, { task_id: row.task_id }),
      );
  },
};
