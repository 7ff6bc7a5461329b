import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gsm8k, gsm8kFinalAnswer, gsm8kReferenceTrace } from '../../src/engine/tasks/math/gsm8k';
import { unboxLatex } from '../../src/engine/tasks/math/math500';
import { formatNumber } from '../../src/engine/tasks/math/numberFormat';
import { getTask, listTasks } from '../../src/engine/tasks/registry';
import { MissingDataError } from '../../src/engine/tasks/dataDir';
import { DataFileError } from '../../src/engine/util/jsonl';
import { ProblemSchema } from '../../src/engine/contract';

const DATA = process.env.TRACELIFT_DATA_DIR ?? path.resolve(__dirname, '../../../shared/data');

test('gsm8k reference trace drops the #### line and calculator annotations', () => {
  const answer = 'Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nShe sold 48+24 = <<48+24=72>>72 clips.\n#### 72';
  assert.equal(gsm8kReferenceTrace(answer), 'Natalia sold 48/2 = 24 clips in May.\nShe sold 48+24 = 72 clips.');
  assert.equal(gsm8kFinalAnswer(answer), '72');
  assert.equal(gsm8kFinalAnswer('x\n#### 1,234'), '1234');
});

test('formatNumber writes float targets as plain decimals', () => {
  assert.equal(formatNumber(51.0), '51');
  assert.equal(formatNumber(-9867630.0), '-9867630');
  assert.equal(formatNumber(0.1 + 0.2), '0.3');
  assert.equal(formatNumber(3.5), '3.5');
});

test('unboxLatex keeps the boxed content with nested braces', () => {
  assert.equal(unboxLatex('so $\\boxed{\\frac{1}{2}}$.'), 'so $\\frac{1}{2}$.');
  assert.equal(unboxLatex('no box'), 'no box');
  assert.equal(unboxLatex('\\boxed{a} and \\boxed{b}'), 'a and b');
});

test('every math task loads its published file into valid problems', () => {
  const expected: Record<string, number> = { gsm8k: 1319, gsm_hard: 1319, svamp: 1000, math500: 500 };
  for (const [name, count] of Object.entries(expected)) {
    const task = getTask(name);
    const problems = task.load(DATA, task.defaultSplit);
    assert.equal(problems.length, count, name);
    for (const p of problems.slice(0, 50)) ProblemSchema.parse(p);
    assert.equal(new Set(problems.map((p) => p.id)).size, count, `${name} ids are unique`);
    if (task.hasReferenceTraces)
      assert.ok(
        problems.every((p) => p.reference_trace && !p.reference_trace.includes('####')),
        name,
      );
  }
  const first = getTask('gsm8k').load(DATA, 'test')[0]!;
  assert.equal(first.kind === 'math' && first.answer, '18');
  const hard = getTask('gsm_hard').load(DATA, 'test')[0]!;
  assert.equal(hard.kind === 'math' && hard.answer, '-9867630');
});

test('a missing file names the file and where it comes from', () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-data-'));
  assert.throws(
    () => gsm8k.load(empty, 'test'),
    (err: unknown) =>
      err instanceof MissingDataError &&
      err.message.includes(path.join(empty, 'gsm8k/test.jsonl')) &&
      err.message.includes('openai/grade-school-math'),
  );
  assert.throws(() => gsm8k.load(empty, 'validation'), /no split "validation"/);
});

test('a malformed row is rejected with file, line and field', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-data-'));
  fs.mkdirSync(path.join(dir, 'gsm8k'));
  const good = JSON.stringify({ question: 'q', answer: 'a\n#### 1' });
  fs.writeFileSync(path.join(dir, 'gsm8k/test.jsonl'), `${good}\n${good}\n${JSON.stringify({ question: 'q' })}\n`);
  assert.throws(
    () => gsm8k.load(dir, 'test'),
    (err: unknown) =>
      err instanceof DataFileError && err.line === 3 && /field "answer"/.test(err.message) && err.message.includes('test.jsonl:3'),
  );
  fs.writeFileSync(path.join(dir, 'gsm8k/test.jsonl'), `${good}\n{not json\n`);
  assert.throws(() => gsm8k.load(dir, 'test'), /test\.jsonl:2: invalid JSON/);
});

test('unknown task lists the known ones', () => {
  assert.throws(() => getTask('nope'), /Known tasks: .*gsm8k/);
  assert.ok(listTasks().length >= 4);
});
