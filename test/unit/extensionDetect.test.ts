import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeCounts, detectText } from '../../src/extension/services/detect';
import { sampleRows } from '../../src/engine/run/runDir';
import { rolloutGroup } from '../helpers/runFixtures';

const GROUPS = fs.readFileSync(path.resolve(__dirname, '../fixtures/groups.gsm8k.jsonl'), 'utf8');

test('a TraceLift-Groups file is recognised by schema, with record and trace counts', () => {
  const d = detectText(GROUPS, 'anything.jsonl');
  assert.equal(d.kind, 'groups');
  assert.equal(d.records, 2);
  assert.equal(d.traces, 4 + GROUPS.split('\n')[1]!.split('"reasoning"').length - 1);
  assert.equal(d.problems, 2);
  assert.deepEqual(d.sources, ['gsm8k']);
  assert.equal(d.malformedCount, 0);
  assert.match(describeCounts(d), /^2 records · \d+ traces$/);
});

test('malformed lines are counted and named by line and field; the rest still counts', () => {
  const [good] = GROUPS.split('\n');
  const bad = JSON.parse(good!);
  delete bad.negative_bank;
  const text = [good, '{not json', JSON.stringify(bad), good].join('\n') + '\n';
  const d = detectText(text, 'g.jsonl');
  assert.equal(d.kind, 'groups');
  assert.equal(d.records, 2);
  assert.equal(d.malformedCount, 2);
  assert.equal(d.malformed[0]!.line, 2);
  assert.match(d.malformed[0]!.message, /invalid JSON/);
  assert.equal(d.malformed[1]!.line, 3);
  assert.match(d.malformed[1]!.message, /field "negative_bank"/);
  assert.match(describeCounts(d), /2 malformed/);
});

test('a cut last line (no newline yet) is reported apart, not as malformed', () => {
  const rows = sampleRows(rolloutGroup('p1')).map((r) => JSON.stringify(r));
  const text = rows.join('\n') + '\n' + rows[0]!.slice(0, 40);
  const d = detectText(text, 'samples.jsonl');
  assert.equal(d.kind, 'samples');
  assert.equal(d.records, rows.length);
  assert.equal(d.malformedCount, 0);
  assert.equal(d.truncatedTail, true);
  assert.match(describeCounts(d), /last line incomplete/);
});

test('run events, traces files and verifier results are told apart by their fields', () => {
  const events = [
    { time: 't', type: 'run_started', run_id: 'r', run_kind: 'eval', engine_version: '0', config: {} },
    rolloutGroup('p1'),
    { time: 't', type: 'run_ended', status: 'completed' },
  ];
  const e = detectText(events.map((x) => JSON.stringify(x)).join('\n') + '\n', 'whatever.jsonl');
  assert.equal(e.kind, 'events');
  assert.equal(e.traces, 2);
  assert.equal(e.problems, 1);

  const traces = detectText('{"problem_id":"gsm8k/test/0","trace":"t"}\n{"problem_id":1,"trace":"u","label":"x"}\n', 't.jsonl');
  assert.equal(traces.kind, 'traces');
  assert.equal(traces.records, 2);

  const math = detectText('{"id":"a","correct":true,"extracted":"18"}\n', 'r.jsonl');
  assert.equal(math.kind, 'verifyResults');
  const code = detectText('{"id":"a","passed":false,"status":"failed","tests_passed":1,"tests_total":3}\n', 'r.jsonl');
  assert.equal(code.kind, 'verifyResults');
});

test('benchmark files in their published formats map to engine tasks', () => {
  const gsm = detectText('{"question":"q?","answer":"a\\n#### 72"}\n{"question":"q2","answer":"no final line"}\n', 'x.jsonl');
  assert.equal(gsm.kind, 'benchmark');
  assert.equal(gsm.task, 'gsm8k');
  assert.equal(gsm.records, 1);
  assert.match(gsm.malformed[0]!.message, /field "answer"/);

  const math = detectText(
    JSON.stringify({ problem: 'p', solution: 's', answer: '1', subject: 'x', level: 1, unique_id: 'test/x/1.json' }) + '\n',
    'm.jsonl',
  );
  assert.equal(math.task, 'math500');

  const svamp = detectText(
    JSON.stringify([{ ID: 'chal-1', Body: 'b', Question: 'q', Equation: '( 1 + 2 )', Answer: 3, Type: 'Addition' }]),
    'SVAMP.json',
  );
  assert.equal(svamp.format, 'json');
  assert.equal(svamp.task, 'svamp');
  assert.equal(svamp.records, 1);

  const he = detectText(
    JSON.stringify({
      task_id: 'HumanEval/0',
      prompt: 'def f():',
      entry_point: 'f',
      canonical_solution: ' pass',
      test: 'def check(c): pass',
    }) + '\n',
    'he.jsonl',
  );
  assert.equal(he.task, 'humaneval');
  const hep = { task_id: 'Mbpp/2', prompt: 'p', entry_point: 'f', canonical_solution: 'c', base_input: [[1]] };
  // EvalPlus lines may hold NaN/Infinity: read by the Python-style parser, still counted.
  const mbppplus = detectText(JSON.stringify(hep) + '\n' + JSON.stringify(hep).replace('[[1]]', '[[NaN]]') + '\n', 'MbppPlus.jsonl');
  assert.equal(mbppplus.task, 'mbppplus');
  assert.equal(mbppplus.records, 2);
  assert.equal(mbppplus.malformedCount, 0);
});

test('summary and config JSON objects; package.json-like files are not recognised', () => {
  assert.equal(detectText('{"name":"x","version":"1"}', 'package.json').kind, 'unknown');
  assert.equal(detectText('', 'empty.jsonl').kind, 'unknown');
  const cfg = detectText(JSON.stringify({ task: 'gsm8k', trace_source: { kind: 'reference' }, executor: {} }), 'config.json');
  assert.equal(cfg.kind, 'runConfig');
  assert.equal(cfg.malformedCount, 1, 'an incomplete config is named, not hidden');
});
