/**
 * LiveCodeBench code generation with public tests only (the hidden tests are
 * not in any public copy small enough to ship; see shared/data/README.md).
 *  - split "test": livecodebench/problems.jsonl (release_v5 + v6, 342 problems, original LCB fields)
 *  - splits "v5" / "v6": the same file filtered by release
 *  - split "rllm": livecodebench_rllm/livecodebench.json (879 problems, rllm's reformatted copy)
 * AtCoder/Codeforces problems have stdin tests; LeetCode problems have
 * functional tests calling Solution().<func_name>(...).
 */
import { z } from 'zod';
import type { CodeProblem, CodeTests } from '../../contract';
import { DataFileError, describeZodError, readJsonFile, readJsonlFile } from '../../util/jsonl';
import { requireTaskFile } from '../dataDir';
import type { TaskModule } from '../types';
import { leetcodeProblemText, starterMethodName, stdioProblemText } from './common';

const SOURCE_V56 = 'livecodebench/code_generation_lite release_v5+v6 via matt-seb-ho/mem2 (public tests)';
const SOURCE_RLLM = 'agentica-project/rllm data/test/code/livecodebench.json (MIT; LCB "cc")';

const TestCaseSchema = z.object({
  input: z.string(),
  output: z.string(),
  testtype: z.enum(['stdin', 'functional']),
});

const LcbRowSchema = z.object({
  question_title: z.string(),
  question_content: z.string(),
  platform: z.string(),
  question_id: z.string().min(1),
  contest_id: z.string().optional(),
  contest_date: z.string().optional(),
  starter_code: z.string().default(''),
  difficulty: z.string().optional(),
  public_test_cases: z.string(),
  metadata: z.string().default('{}'),
  _version: z.string().optional(),
});

const RllmRowSchema = z.object({
  problem: z.string(),
  starter_code: z.string().default(''),
  tests: z.array(TestCaseSchema).min(1),
});

function lcbTests(cases: z.infer<typeof TestCaseSchema>[], funcName: string | null, where: string): CodeTests {
  const functional = cases.filter((c) => c.testtype === 'functional');
  if (functional.length) {
    if (!funcName) throw new Error(`${where}: functional tests but no function name`);
    return { kind: 'functional', func_name: funcName, cases: functional.map((c) => ({ input: c.input, output: c.output })) };
  }
  return { kind: 'stdio', cases: cases.map((c) => ({ input: c.input, output: c.output })) };
}

function toProblem(
  task: string,
  id: string,
  statement: string,
  starter: string,
  tests: CodeTests,
  meta: Record<string, unknown>,
): CodeProblem {
  const functional = tests.kind === 'functional';
  return {
    task,
    id,
    kind: 'code',
    problem: functional && starter.trim() ? leetcodeProblemText(statement, starter) : stdioProblemText(statement),
    reference_trace: null,
    meta,
    tests,
    entry_point: functional ? tests.func_name : null,
    starter_code: starter.trim() ? starter : null,
    reference_solution: null,
  };
}

export const livecodebench: TaskModule = {
  name: 'livecodebench',
  kind: 'code',
  description: 'LiveCodeBench code generation (public tests): AtCoder stdin problems and LeetCode Solution-class problems',
  splits: ['test', 'v5', 'v6', 'rllm'],
  defaultSplit: 'test',
  files: [
    { split: 'test', path: 'livecodebench/problems.jsonl', source: SOURCE_V56 },
    { split: 'v5', path: 'livecodebench/problems.jsonl', source: SOURCE_V56 },
    { split: 'v6', path: 'livecodebench/problems.jsonl', source: SOURCE_V56 },
    { split: 'rllm', path: 'livecodebench_rllm/livecodebench.json', source: SOURCE_RLLM },
  ],
  hasReferenceTraces: false,
  load(dataDir, split) {
    const file = requireTaskFile(this, dataDir, split);
    if (split === 'rllm') {
      const raw = readJsonFile(file);
      if (!Array.isArray(raw)) throw new DataFileError(file, null, 'expected a JSON list');
      return raw.map((value, i) => {
        const parsed = RllmRowSchema.safeParse(value);
        if (!parsed.success) throw new DataFileError(file, null, `item ${i}: ${describeZodError(parsed.error)}`);
        const row = parsed.data;
        const tests = lcbTests(row.tests, starterMethodName(row.starter_code), `${file} item ${i}`);
        return toProblem('livecodebench', `lcb-rllm/${i}`, row.problem, row.starter_code, tests, { index: i, source: 'rllm' });
      });
    }
    const rows = readJsonlFile(LcbRowSchema, file);
    const out: CodeProblem[] = [];
    rows.forEach((row, i) => {
      if (split !== 'test' && row._version !== split) return;
      let cases: unknown;
      let metadata: Record<string, unknown>;
      try {
        cases = JSON.parse(row.public_test_cases);
        metadata = JSON.parse(row.metadata) as Record<string, unknown>;
      } catch (e) {
        throw new DataFileError(file, i + 1, `field "public_test_cases"/"metadata": invalid JSON string (${(e as Error).message})`);
      }
      const parsed = z.array(TestCaseSchema).min(1).safeParse(cases);
      if (!parsed.success) throw new DataFileError(file, i + 1, `field "public_test_cases": ${describeZodError(parsed.error)}`);
      const funcName = typeof metadata.func_name === 'string' ? metadata.func_name : starterMethodName(row.starter_code);
      const tests = lcbTests(parsed.data, funcName, `${file}:${i + 1}`);
      out.push(
        toProblem('livecodebench', row.question_id, row.question_content, row.starter_code, tests, {
          title: row.question_title,
          platform: row.platform,
          contest_id: row.contest_id,
          contest_date: row.contest_date,
          difficulty: row.difficulty,
          release: row._version,
        }),
      );
    });
    return out;
  },
};
