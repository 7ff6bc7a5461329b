import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { recordIndexAtLine } from '../../src/engine/groups';
import { sampleRows } from '../../src/engine/run/runDir';
import {
  annotateLine,
  annotationKindFor,
  escapeMarkdown,
  renderHoverMarkdown,
  type AnnotateContext,
} from '../../src/extension/services/annotate';
import { safeLine } from '../../src/shared/safeText';
import { rolloutGroup } from '../helpers/runFixtures';

const GROUPS = fs.readFileSync(path.resolve(__dirname, '../fixtures/groups.gsm8k.jsonl'), 'utf8');
const ctx = (kind: AnnotateContext['kind'], extra: Partial<AnnotateContext> = {}): AnnotateContext => ({
  kind,
  line: 0,
  unterminatedTail: false,
  ...extra,
});

test('file kinds come from the head of the file', () => {
  assert.equal(annotationKindFor(GROUPS), 'groups');
  const rows =
    sampleRows(rolloutGroup('p'))
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n';
  assert.equal(annotationKindFor(rows), 'samples');
  assert.equal(annotationKindFor(JSON.stringify(rolloutGroup('p')) + '\n'), 'events');
  assert.equal(annotationKindFor('{"id":"1","correct":false,"extracted":null}\n'), 'verifyResults');
  assert.equal(annotationKindFor('{"question":"q","answer":"#### 1"}\n'), null);
  assert.equal(annotationKindFor('{"a":1}\n'), null);
});

test('a groups record: counts, negative kinds, rubric totals, both CodeLens actions', () => {
  const line = GROUPS.split('\n')[0]!;
  const a = annotateLine(line, ctx('groups', { line: 4 }))!;
  assert.match(a.text!, /^1 pos · 3 neg \(calculation_error, incomplete_reasoning, irrelevant\) · rubric 1\.00 \| 0\.35 0\.30 0\.00/);
  assert.deepEqual(a.lenses, [
    { kind: 'diffGroup', line: 4 },
    { kind: 'measureUplift', line: 4 },
  ]);
  assert.ok(a.hover!.rows.some(([k, v]) => k === 'negative 0: calculation_error' && /total 0\.35, problem_understanding 4/.test(v)));
  assert.equal(a.issue, null);
});

test('measured uplift shows on the groups record once a run scored it', () => {
  const line = GROUPS.split('\n')[0]!;
  const id = JSON.parse(line).problem_id as string;
  const measured = new Map([
    [`${id}#pos0`, { uplift: 0.5, reward: 1, run: 'r1' }],
    [`${id}#neg0`, { uplift: -0.25, reward: 0, run: 'r1' }],
  ]);
  const a = annotateLine(line, ctx('groups', { measured: (p) => (p === id ? measured : undefined) }))!;
  assert.match(a.text!, /uplift \+0\.50 \| −0\.25 n\/a n\/a$/);
  assert.equal(a.tone, 'good');
});

test('RM scores of a groups record show as RM/gold per trace, and whether the RM ranks the reference first', () => {
  const line = GROUPS.split('\n')[0]!;
  const id = JSON.parse(line).problem_id as string;
  const s = (score: number) => ({ score, gold: null, rm: 'http://rm/score' });
  const scores = new Map([
    [`${id}#pos0`, s(0.8)],
    [`${id}#neg0`, s(0.3)],
    [`${id}#neg1`, s(0.2)],
    [`${id}#neg2`, s(0.1)],
  ]);
  const a = annotateLine(line, ctx('groups', { rmScored: (p) => (p === id ? scores : undefined) }))!;
  assert.match(a.text!, /RM\/gold 0\.80\/1\.00 \| 0\.30\/0\.35 0\.20\/0\.30 0\.10\/0\.00$/);
  assert.match(a.summary!, /RM ranks ref first$/);
  assert.ok(a.hover!.rows.some(([k, v]) => k === 'negative 0: calculation_error' && /RM 0\.300 vs gold 0\.35/.test(v)));
  // A negative the RM scores at or above the reference is counted; an unscored one leaves no verdict.
  scores.set(`${id}#neg2`, s(0.9));
  assert.match(annotateLine(line, ctx('groups', { rmScored: () => scores }))!.summary!, /RM: 1 neg ≥ ref$/);
  scores.delete(`${id}#neg2`);
  const partial = annotateLine(line, ctx('groups', { rmScored: () => scores }))!;
  assert.match(partial.text!, /0\.20\/0\.30 –$/);
  assert.doesNotMatch(partial.summary!, /RM/);
  // Without scores nothing RM is shown.
  assert.doesNotMatch(annotateLine(line, ctx('groups'))!.text!, /RM/);
});

test('a samples row: uplift, reward, k/K vs baseline, label, rubric; Inspect lens', () => {
  const [pos, neg] = sampleRows(rolloutGroup('gsm8k/test/3'));
  const a = annotateLine(JSON.stringify(pos), ctx('samples'))!;
  assert.equal(a.text, 'uplift +0.333 · reward 1.000 · 2/3 vs base 33% of 3 · reference · rubric 1.00');
  assert.equal(a.tone, 'good');
  assert.deepEqual(a.lenses, [{ kind: 'inspect', problemId: 'gsm8k/test/3', sampleId: 'gsm8k/test/3#pos0' }]);
  assert.ok(a.hover!.rows.some(([k, v]) => k === 'formula' && v === 'e2e'));
  const b = annotateLine(JSON.stringify(neg), ctx('samples'))!;
  assert.equal(b.tone, 'bad');
  assert.match(b.text!, /calculation_error · rubric 0\.35$/);
});

test('a malformed line names the field; others on the file keep working', () => {
  const row = sampleRows(rolloutGroup('p'))[0]!;
  const bad = annotateLine(JSON.stringify({ ...row, uplift: 'high' }), ctx('samples'))!;
  assert.equal(bad.issue?.severity, 'warning');
  assert.match(bad.issue!.message, /field "uplift"/);
  assert.equal(annotateLine('{oops', ctx('groups'))!.issue!.message.startsWith('invalid JSON'), true);
  assert.equal(annotateLine('   ', ctx('groups')), null);
});

test('a cut last line of a run file is not an error; in a groups file it is', () => {
  const tail = annotateLine('{"sample_id": "x", "upl', ctx('samples', { unterminatedTail: true }))!;
  assert.equal(tail.issue, null);
  assert.match(tail.text!, /incomplete line/);
  assert.equal(annotateLine('{"problem_id": ', ctx('groups', { unterminatedTail: true }))!.issue?.severity, 'warning');
});

test('events: rollout groups summarised, run end and errors shown', () => {
  const g = annotateLine(JSON.stringify(rolloutGroup('p9', 3)), ctx('events'))!;
  assert.equal(g.text, 'group 3 · p9 · 2 traces · base 1/3 · uplift +0.333…−0.333');
  assert.equal(g.lenses[0]!.kind, 'inspect');
  const end = annotateLine('{"time":"t","type":"run_ended","status":"failed","message":"executor unreachable"}', ctx('events'))!;
  assert.equal(end.text, 'run failed · executor unreachable');
  assert.equal(end.tone, 'bad');
  const err = annotateLine('{"time":"t","type":"error","message":"boom","where":"executor"}', ctx('events'))!;
  assert.match(err.text!, /^⚠ error \(executor\): boom/);
});

test('verifier results: correct / passed with tests', () => {
  assert.equal(annotateLine('{"id":"a","correct":true,"extracted":"18"}', ctx('verifyResults'))!.text, '✓ correct · extracted 18');
  assert.equal(
    annotateLine('{"id":"a","passed":false,"status":"failed","tests_passed":1,"tests_total":3}', ctx('verifyResults'))!.text,
    '✗ failed 1/3 tests · failed',
  );
});

test('untrusted text: decorations are one capped line; hover markdown is escaped', () => {
  assert.equal(safeLine('a\n\tb\u2028c'), 'a b c');
  assert.equal(safeLine('x'.repeat(100), 10).length, 10);
  const md = renderHoverMarkdown({
    title: 'Sample [x](command:evil)',
    rows: [['label', '<img src=x onerror=alert(1)> | `code` ![i](http://e/x.png)']],
    notes: ['# heading\n- item'],
  });
  assert.ok(!md.includes('[x](command'), md);
  assert.ok(!/[^\\]<img/.test(md), 'no raw HTML');
  assert.equal(md.split('\n')[4]!.split(/(?<!\\)\|/).length, 4, 'pipes inside cells are escaped');
  assert.ok(!md.includes('](http'), md);
  assert.equal(escapeMarkdown('a*b_c'), 'a\\*b\\_c');
});

test('record index counts non-blank lines before the record', () => {
  const text = '{"a":1}\n\n{"a":2}\n{"a":3}\n';
  assert.equal(recordIndexAtLine(text, 0), 0);
  assert.equal(recordIndexAtLine(text, 2), 1);
  assert.equal(recordIndexAtLine(text, 3), 2);
});
