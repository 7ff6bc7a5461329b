import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import {
  CODE_NEGATIVE_KINDS,
  CodeNegativeKindSchema,
  expandGroup,
  groupMathProblem,
  groupTraceCount,
  groupTraceId,
  GroupsFileWriter,
  isGroupRecordLike,
  looksLikeGroupsFile,
  MATH_NEGATIVE_KINDS,
  MathNegativeKindSchema,
  readGroupRecordAt,
  readGroupsFile,
  recordIndexAtLine,
  streamGroupRecords,
  taskForGroupSource,
  writeGroupsFile,
  type GroupRecord,
} from '../../src/engine/groups';
import { DataFileError } from '../../src/engine/util/jsonl';

const FIXTURE = path.resolve(__dirname, '../fixtures/groups.gsm8k.jsonl');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tl-groups-'));
const fixtureLines = () =>
  fs
    .readFileSync(FIXTURE, 'utf8')
    .split('\n')
    .filter((l) => l.trim());

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test('a record expands into its positives then its negatives, with stable ids, kinds and rubrics', () => {
  const [record] = readGroupsFile(FIXTURE);
  const traces = expandGroup(record!);
  assert.equal(traces.length, groupTraceCount(record!));
  assert.deepEqual(
    traces.map((t) => t.id),
    ['math_gsm8k_000000#pos0', 'math_gsm8k_000000#neg0', 'math_gsm8k_000000#neg1', 'math_gsm8k_000000#neg2'],
  );
  assert.deepEqual(
    traces.map((t) => [t.role, t.index, t.isReference]),
    [
      ['positive', 0, true],
      ['negative', 0, false],
      ['negative', 1, false],
      ['negative', 2, false],
    ],
  );
  assert.deepEqual(
    traces.map((t) => t.negativeKind),
    [null, 'calculation_error', 'incomplete_reasoning', 'irrelevant'],
  );
  assert.equal(traces[1]!.rubricTotal, 0.35);
  assert.equal(traces[1]!.rubric?.calculation_correctness, 0);
  assert.equal(traces[0]!.text, record!.positive_pool[0]!.reasoning);
  assert.equal(groupTraceId('p', 'negative', 3), 'p#neg3');
});

test('a record poses a math problem only with its gold answer', () => {
  const [record] = readGroupsFile(FIXTURE);
  const problem = groupMathProblem(record!, 'gsm8k');
  assert.equal(problem?.answer, '18');
  assert.equal(problem?.task, 'gsm8k');
  assert.equal(problem?.reference_trace, record!.positive_pool[0]!.reasoning);
  assert.equal(groupMathProblem({ ...record!, reference_solution: null }, 'gsm8k'), null);
});

test('groups files and records are recognised by their fields, gzipped or not', () => {
  const dir = tmp();
  assert.equal(looksLikeGroupsFile(FIXTURE), true);
  const gz = path.join(dir, 'g.jsonl.gz');
  fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(FIXTURE)));
  assert.equal(looksLikeGroupsFile(gz), true);
  const traces = path.join(dir, 't.jsonl');
  fs.writeFileSync(traces, '\n{"problem_id": "a", "trace": "x"}\n');
  assert.equal(looksLikeGroupsFile(traces), false);
  const garbage = path.join(dir, 'x.jsonl');
  fs.writeFileSync(garbage, 'not json\n');
  assert.equal(looksLikeGroupsFile(garbage), false);
  assert.equal(isGroupRecordLike({ negative_bank: [] }), true);
  assert.equal(isGroupRecordLike([{ positive_pool: [] }]), false);
  assert.equal(isGroupRecordLike(null), false);
});

test('streaming names file, line and field of a bad record; with onIssue it is skipped and the rest read', async () => {
  const dir = tmp();
  const file = path.join(dir, 'g.jsonl');
  const [good, second] = fixtureLines();
  const bad = JSON.parse(good!);
  delete bad.negative_bank[1].negative_kind;
  fs.writeFileSync(file, `${good}\n\n${JSON.stringify(bad)}\n{oops\n${second}\n`);
  await assert.rejects(
    collect(streamGroupRecords(file)),
    (e: unknown) => e instanceof DataFileError && e.line === 3 && /negative_bank\.1\.negative_kind/.test(e.message),
  );
  const issues: DataFileError[] = [];
  const read = await collect(streamGroupRecords(file, { onIssue: (i) => issues.push(i) }));
  assert.deepEqual(
    read.map((r) => [r.line, r.index]),
    [
      [1, 0],
      [5, 3],
    ],
  );
  assert.deepEqual(
    issues.map((i) => i.line),
    [3, 4],
  );
  assert.match(issues[1]!.message, /g\.jsonl:4: invalid JSON/);
  assert.throws(
    () => readGroupsFile(file),
    (e: unknown) => e instanceof DataFileError && e.line === 3,
  );
});

test('one record is read by index (blank lines not counted), from plain and gzipped files', async () => {
  const dir = tmp();
  const [a, b] = fixtureLines();
  const text = `\n${a}\n\n${b}\n`;
  const plain = path.join(dir, 'g.jsonl');
  fs.writeFileSync(plain, text);
  const gz = path.join(dir, 'g.jsonl.gz');
  fs.writeFileSync(gz, zlib.gzipSync(text));
  for (const file of [plain, gz]) {
    const { record, line } = await readGroupRecordAt(file, 1);
    assert.equal(line, 4);
    assert.equal(record.problem_id, JSON.parse(b!).problem_id);
    await assert.rejects(readGroupRecordAt(file, 2), /has 2 record\(s\); there is no record 2/);
  }
  await assert.rejects(readGroupRecordAt(path.join(dir, 'missing.jsonl'), 0), /not found/);
  assert.equal(recordIndexAtLine(text, 1), 0);
  assert.equal(recordIndexAtLine(text, 3), 1);
});

test('the writer validates each record and appends whole lines; a cut last line stays apart', async () => {
  const dir = tmp();
  const file = path.join(dir, 'sub', 'out.jsonl');
  const [a, b] = fixtureLines().map((l) => JSON.parse(l) as GroupRecord);
  const w = GroupsFileWriter.open(file);
  const written = w.append({ ...a!, problem_id: 7 } as never);
  assert.equal(written.problem_id, '7');
  assert.throws(() => w.append({ ...b!, positive_pool: [{ reasoning: 'r', rubric: { x: 9 } }] }), /rubric dimension must be within 0–4/);
  w.close();
  assert.equal(fs.readFileSync(file, 'utf8').split('\n').length, 2, 'the rejected record wrote nothing');

  fs.appendFileSync(file, '{"problem_id": "cut", "sou'); // a crash mid-append
  const again = GroupsFileWriter.open(file);
  again.append(b!);
  again.close();
  const issues: DataFileError[] = [];
  const read = await collect(streamGroupRecords(file, { onIssue: (i) => issues.push(i) }));
  assert.deepEqual(
    read.map((r) => r.record.problem_id),
    ['7', b!.problem_id],
  );
  assert.deepEqual(
    issues.map((i) => i.line),
    [2],
  );
});

test('a whole groups file is written atomically: an invalid record leaves the old file in place', () => {
  const dir = tmp();
  const file = path.join(dir, 'g.jsonl');
  const records = readGroupsFile(FIXTURE);
  writeGroupsFile(file, records);
  assert.deepEqual(readGroupsFile(file), records);
  const before = fs.readFileSync(file, 'utf8');
  assert.throws(
    () => writeGroupsFile(file, [records[0]!, { ...records[1]!, negative_bank: [{ reasoning: 'r' }] } as never]),
    /negative_kind/,
  );
  assert.equal(fs.readFileSync(file, 'utf8'), before);
  assert.deepEqual(fs.readdirSync(dir), ['g.jsonl']);
});

test('the paper’s six perturbation kinds per domain, each described', () => {
  assert.deepEqual(MathNegativeKindSchema.options, [
    'arithmetic_error',
    'incorrect_operation',
    'missing_condition',
    'mismatched_units',
    'unsupported_leap',
    'premature_answer',
  ]);
  assert.deepEqual(CodeNegativeKindSchema.options, [
    'wrong_algorithm_choice',
    'missing_boundary_case',
    'off_by_one',
    'incorrect_invariant',
    'infeasible_complexity',
    'vague_pseudo_solution',
  ]);
  for (const d of [...Object.values(MATH_NEGATIVE_KINDS), ...Object.values(CODE_NEGATIVE_KINDS)]) assert.ok(d.length > 10);
});

test('groups sources pick the math task whose verifier judges them', () => {
  const math = ['gsm8k', 'gsm_hard', 'svamp', 'math500'];
  assert.equal(taskForGroupSource('gsm8k', math), 'gsm8k');
  assert.equal(taskForGroupSource('MATH', math), 'math500');
  assert.equal(taskForGroupSource('hendrycks_math', math), 'math500');
  assert.equal(taskForGroupSource('gsm-hard', math), 'gsm_hard');
  assert.equal(taskForGroupSource('somewhere', math), 'gsm8k');
  assert.equal(taskForGroupSource(null, math), 'gsm8k');
});
