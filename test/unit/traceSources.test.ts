import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { extractPlannerTrace, referenceTraces, tracesFromFile, tracesFromGroups } from '../../src/engine/eval/traceSources';
import { GroupRecordSchema, type MathProblem } from '../../src/engine/contract';
import { DataFileError } from '../../src/engine/util/jsonl';

const FIXTURE = path.resolve(__dirname, '../fixtures/groups.gsm8k.jsonl');
const p = (id: string, trace: string | null = null): MathProblem => ({
  task: 'gsm8k',
  id,
  kind: 'math',
  problem: `problem ${id}`,
  answer: '1',
  reference_trace: trace,
  meta: {},
});

test('a TraceLift-Groups file yields its problem, gold answer, positives and labelled negatives', () => {
  const items = tracesFromGroups(FIXTURE, 'gsm8k');
  assert.equal(items.length, 2);
  const first = items[0]!;
  assert.equal(first.problem.kind === 'math' && first.problem.answer, '18');
  assert.equal(first.traces.length, 4);
  assert.deepEqual(
    first.traces.map((t) => t.source),
    ['positive', 'negative', 'negative', 'negative'],
  );
  assert.deepEqual(
    first.traces.slice(1).map((t) => t.label),
    ['calculation_error', 'incomplete_reasoning', 'irrelevant'],
  );
  assert.equal(first.traces[1]!.rubric_total, 0.35);
});

test('groups schema: numeric problem ids, unknown fields kept, rubric range enforced', () => {
  const rec = {
    problem_id: 7,
    source: 's',
    task_type: 'math',
    problem: 'p',
    reference_solution: '1',
    positive_pool: [{ reasoning: 'r', rubric: { a: 4, total: 1 } }],
    negative_bank: [],
    extra: 1,
  };
  const parsed = GroupRecordSchema.parse(rec);
  assert.equal(parsed.problem_id, '7');
  assert.equal((parsed as Record<string, unknown>).extra, 1);
  assert.equal(GroupRecordSchema.safeParse({ ...rec, positive_pool: [{ reasoning: 'r', rubric: { a: 5 } }] }).success, false);
  assert.equal(GroupRecordSchema.safeParse({ ...rec, positive_pool: [{ reasoning: 'r', rubric: { total: 1.5 } }] }).success, false);
});

test('a malformed groups line is rejected with file, line and field', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-groups-'));
  const file = path.join(dir, 'g.jsonl');
  const good = fs.readFileSync(FIXTURE, 'utf8').split('\n')[0]!;
  const bad = JSON.parse(good);
  delete bad.negative_bank[0].negative_kind;
  fs.writeFileSync(file, `${good}\n${JSON.stringify(bad)}\n`);
  assert.throws(
    () => tracesFromGroups(file, 'gsm8k'),
    (e: unknown) => e instanceof DataFileError && e.line === 2 && /negative_bank\.0\.negative_kind/.test(e.message),
  );
});

test('a traces file is matched to problems by id; unknown ids are reported', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-traces-'));
  const file = path.join(dir, 't.jsonl');
  fs.writeFileSync(
    file,
    [
      { problem_id: 'a', trace: 'x' },
      { problem_id: 'a', trace: 'y', label: 'alt' },
      { problem_id: 'zzz', trace: 'z' },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
  const { items, unmatched } = tracesFromFile(file, [p('a'), p('b')]);
  assert.equal(items.length, 1);
  assert.equal(items[0]!.traces.length, 2);
  assert.deepEqual(unmatched, ['zzz']);
});

test('reference traces need a task with worked solutions', () => {
  assert.equal(referenceTraces([p('a', 'r'), p('b')], 'gsm8k').length, 1);
  assert.throws(() => referenceTraces([p('a')], 'gsm_hard'), /no reference traces/);
});

test('planner traces: the <reasoning> block when present, else the whole reply', () => {
  assert.equal(extractPlannerTrace('junk <reasoning>\n step 1 \n</reasoning> tail'), 'step 1');
  assert.equal(extractPlannerTrace('  plain  '), 'plain');
});
