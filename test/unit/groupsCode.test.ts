/**
 * Code groups: records carry their problem's tests and expand into code
 * problems for a code task (and are refused, with the line, under the wrong
 * kind of task); the code builder keeps validated LLM plans only (a program
 * or a too-short plan is dropped and counted), writes self-contained records
 * and resumes; the official code-positive cleaning.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EndpointSchema, GroupsBuildSummarySchema, type CodeProblem } from '../../src/engine/contract';
import { ExecutorClient } from '../../src/engine/executor/client';
import { tracesFromGroups } from '../../src/engine/eval/traceSources';
import { readGroupsFile } from '../../src/engine/groups';
import {
  buildCodeGroups,
  cleanCodeReasoning,
  llmCandidateRejection,
  LlmPerturber,
  looksLikeProgram,
  summaryPath,
} from '../../src/engine/groups/build';
import { DataFileError } from '../../src/engine/util/jsonl';
import { resolveDataDir } from '../../src/engine/tasks/dataDir';
import { getTask } from '../../src/engine/tasks/registry';
import { startFakeOpenAI } from '../helpers/fakeOpenAI';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures');
const CODE_FIXTURE = path.join(FIXTURES, 'groups.code.jsonl');
const MATH_FIXTURE = path.join(FIXTURES, 'groups.gsm8k.jsonl');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tl-code-groups-'));

test('a code groups file expands into code problems judged by their own tests', () => {
  const items = tracesFromGroups(CODE_FIXTURE, 'mbpp', 'code');
  assert.deepEqual(
    items.map((i) => i.problem.id),
    ['HumanEval/13', 'mbpp/12'],
  );
  const gcd = items[0]!.problem as CodeProblem;
  assert.equal(gcd.kind, 'code');
  assert.equal(gcd.tests.kind, 'humaneval');
  assert.equal(gcd.entry_point, 'greatest_common_divisor');
  assert.match(gcd.starter_code ?? '', /def greatest_common_divisor/);
  const matrix = items[1]!.problem as CodeProblem;
  assert.equal(matrix.tests.kind, 'asserts');
  // Positive first (the reference), then the perturbations labelled by kind.
  assert.deepEqual(
    items[0]!.traces.map((t) => [t.sample_id, t.label]),
    [
      ['HumanEval/13#pos0', 'reference'],
      ['HumanEval/13#neg0', 'off_by_one'],
      ['HumanEval/13#neg1', 'wrong_algorithm_choice'],
    ],
  );
  // The tests are the dataset's own: the same as the task module reads.
  const dataset = getTask('humaneval')
    .load(resolveDataDir(), 'test')
    .find((p) => p.id === 'HumanEval/13') as CodeProblem;
  assert.deepEqual(gcd.tests, dataset.tests);
});

test('a groups record under the wrong kind of task, or a code record without tests, is refused with its line', () => {
  assert.throws(
    () => tracesFromGroups(CODE_FIXTURE, 'gsm8k', 'math'),
    (e: unknown) => e instanceof DataFileError && e.line === 1 && /HumanEval\/13 is a code problem; pick a code task/.test(e.message),
  );
  assert.throws(() => tracesFromGroups(MATH_FIXTURE, 'mbpp', 'code'), /is a math problem; pick a math task/);
  const dir = tmp();
  const file = path.join(dir, 'g.jsonl');
  const [first, second] = fs.readFileSync(CODE_FIXTURE, 'utf8').trim().split('\n');
  const untested = JSON.parse(second!);
  delete untested.tests;
  fs.writeFileSync(file, `${first}\n${JSON.stringify(untested)}\n`);
  assert.throws(
    () => tracesFromGroups(file, 'mbpp', 'code'),
    (e: unknown) => e instanceof DataFileError && e.line === 2 && /mbpp\/12 has no tests/.test(e.message),
  );
  // Tests of the wrong shape are a schema error naming the field.
  const bad = JSON.parse(first!);
  bad.tests = { kind: 'asserts', asserts: [] };
  fs.writeFileSync(file, `${JSON.stringify(bad)}\n`);
  assert.throws(
    () => tracesFromGroups(file, 'mbpp', 'code'),
    (e: unknown) => e instanceof DataFileError && e.line === 1 && /tests/.test(e.message),
  );
});

test('code candidates: a program or a plan under 40 words is not kept', () => {
  const problem = 'Write a function that returns the greatest common divisor of two integers a and b.';
  const positive =
    'Use the Euclidean algorithm on the two integers. While b is not zero, replace the pair a and b by b and a modulo b. When b becomes zero, a holds the greatest common divisor of the two integers, so return a to the caller of the function. The number of steps grows with the logarithm of the smaller integer.';
  const ctx = { taskKind: 'code' as const, problemId: 'p', problem, positive, gold: null, seed: 0 };
  const program = 'def gcd(a, b):\n    while b:\n        a, b = b, a % b\n    return a  # the greatest common divisor of the two integers';
  assert.equal(looksLikeProgram(program), true);
  assert.equal(llmCandidateRejection(program, ctx), 'llm_is_program');
  assert.equal(llmCandidateRejection('```python\nreturn a\n```  the greatest common divisor of the two integers', ctx), 'llm_is_program');
  assert.equal(llmCandidateRejection('Return the smaller of the two integers as the greatest common divisor.', ctx), 'llm_too_short');
  const offByOne = positive.replace('While b is not zero', 'While b is greater than one');
  assert.equal(looksLikeProgram(offByOne), false);
  assert.equal(llmCandidateRejection(offByOne, ctx), null);
});

test('code positives are cleaned as the official builder does', () => {
  const reference = 'def f(x):\n    return x + 1';
  assert.equal(cleanCodeReasoning('<think>Add one to x.</think> ignored tail', reference), 'Add one to x.');
  assert.equal(cleanCodeReasoning('Add one to x.\n```python\ndef f(x): return x+1\n```', null), 'Add one to x.');
  assert.equal(cleanCodeReasoning(`Add one to x.\n${reference}\nmore`, reference), 'Add one to x.');
  assert.equal(cleanCodeReasoning('Add one to x.\n\n## Explanation\nIt adds one.', null), 'Add one to x.');
  assert.equal(cleanCodeReasoning('```python\ncode only\n```', null), '');
});

const GOOD_PLAN =
  'Use the Euclidean algorithm on the two integers a and b. While b is greater than one, replace the pair a and b by b and a modulo b. When the loop stops, return b as the greatest common divisor of the two integers. The number of steps grows with the logarithm of the smaller integer.';

test('groups build for a code task: positives from a traces file, validated LLM negatives, self-contained records, resume', async () => {
  const server = await startFakeOpenAI({
    answer: (prompt) =>
      prompt.includes('off by one')
        ? `<reasoning>${GOOD_PLAN}</reasoning>`
        : prompt.includes('boundary case')
          ? `<reasoning>${GOOD_PLAN.replace('greater than one', 'not zero').replace('return b', 'return a unless a is zero')}</reasoning>`
          : prompt.includes('does not solve')
            ? '<reasoning>def greatest_common_divisor(a, b):\n    return min(a, b)\n    # return the smaller integer</reasoning>'
            : '<reasoning>Handle the two integers and return the greatest common divisor.</reasoning>',
  });
  try {
    const dir = tmp();
    const positives = path.join(dir, 'positives.jsonl');
    fs.writeFileSync(
      positives,
      JSON.stringify({
        problem_id: 'HumanEval/13',
        trace:
          'Use the Euclidean algorithm on the two integers a and b. While b is not zero, replace the pair a and b by b and a modulo b. When b becomes zero, a holds the greatest common divisor of the two integers, so return a. The number of steps grows with the logarithm of the smaller integer.\n```python\ndef x(): pass\n```',
      }) + '\n',
    );
    const out = path.join(dir, 'code.jsonl');
    const dataDir = resolveDataDir();
    const problems = getTask('humaneval').load(dataDir, 'test');
    const endpoint = EndpointSchema.parse({ base_url: server.url, model: 'fake', max_retries: 0 });
    const build = () =>
      buildCodeGroups({
        task: 'humaneval',
        split: 'test',
        dataDir,
        offset: 12,
        limit: 2,
        out,
        seed: 0,
        minNegatives: 2,
        positives: {
          kind: 'file',
          file: positives,
          sha256: 'x',
          traces: new Map([['HumanEval/13', [JSON.parse(fs.readFileSync(positives, 'utf8')).trace as string]]]),
        },
        liftCheck: null,
        perturber: new LlmPerturber(new ExecutorClient(endpoint), { identity: 'fake', cacheDir: null }),
        judge: null,
        measure: null,
      });
    const summary = await build();
    assert.equal(problems[12]!.id, 'HumanEval/12');
    assert.equal(summary.status, 'completed');
    assert.equal(summary.task, 'humaneval');
    assert.deepEqual(summary.drop_reasons, { no_positive: 1 });
    assert.equal(summary.groups_written, 1);
    assert.deepEqual(summary.negative_kind_counts, { missing_boundary_case: 1, off_by_one: 1 });
    assert.deepEqual(summary.candidates_dropped, {
      wrong_algorithm_choice: { llm_is_program: 1 },
      incorrect_invariant: { llm_too_short: 1 },
      infeasible_complexity: { llm_too_short: 1 },
      vague_pseudo_solution: { llm_too_short: 1 },
    });
    assert.deepEqual(summary.positives, { source: 'file', file_sha256: 'x', planner: null, lift_check: null });
    assert.deepEqual(GroupsBuildSummarySchema.parse(JSON.parse(fs.readFileSync(summaryPath(out), 'utf8'))), summary);

    const [record] = readGroupsFile(out);
    assert.equal(record!.problem_id, 'HumanEval/13');
    assert.equal(record!.task_type, 'code');
    assert.doesNotMatch(record!.positive_pool[0]!.reasoning, /```/, 'the positive is cleaned at the code fence');
    assert.deepEqual(record!.tests, (problems[13] as CodeProblem).tests);
    assert.equal(record!.entry_point, 'greatest_common_divisor');
    for (const n of record!.negative_bank) {
      assert.equal(n.rubric_source, 'prior');
      assert.notEqual(n.reasoning, record!.positive_pool[0]!.reasoning);
    }
    // The file evaluates as a code groups file.
    assert.equal(tracesFromGroups(out, 'humaneval', 'code')[0]!.traces.length, 3);

    // Resume: nothing left to do, nothing asked, the file unchanged.
    const asked = server.requests.length;
    const before = fs.readFileSync(out, 'utf8');
    const again = await build();
    assert.equal(server.requests.length, asked);
    assert.equal(fs.readFileSync(out, 'utf8'), before);
    assert.equal(again.groups_written, 1);
  } finally {
    await server.close();
  }
});
