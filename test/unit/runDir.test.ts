import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readEvents, RunWriter, sampleRows } from '../../src/engine/run/runDir';
import { BaselineCache, baselineKey } from '../../src/engine/uplift/baselineCache';
import { RolloutGroupSchema, SamplingSchema, type TraceSampleRow } from '../../src/engine/contract';
import { tally } from '../helpers/runFixtures';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tl-run-'));
const started = { time: 't', type: 'run_started', run_id: 'r', run_kind: 'eval', engine_version: '0', config: {} } as const;

test('appended events read back; a truncated last line is left for later', () => {
  const dir = tmp();
  const { writer } = RunWriter.open(dir);
  writer.append(started);
  writer.append({ time: 't', type: 'step_metrics', step: 1, metrics: { loss: 0.5 } });
  fs.appendFileSync(path.join(dir, 'events.jsonl'), '{"time":"t","type":"run_en');
  const first = readEvents(dir);
  assert.equal(first.events.length, 2);
  assert.equal(first.issues.length, 0);
  fs.appendFileSync(path.join(dir, 'events.jsonl'), 'ded","status":"completed"}\n');
  const next = readEvents(dir, first.offset, 3);
  assert.equal(next.events.length, 1);
  assert.equal(next.events[0]!.type, 'run_ended');
});

test('invalid lines are reported with line and field, and the rest still reads', () => {
  const dir = tmp();
  fs.writeFileSync(
    path.join(dir, 'events.jsonl'),
    [
      JSON.stringify(started),
      '{oops',
      JSON.stringify({ time: 't', type: 'step_metrics', step: -1, metrics: {} }),
      JSON.stringify({ ...started, run_id: 'r2' }),
    ].join('\n') + '\n',
  );
  const { events, issues } = readEvents(dir);
  assert.equal(events.length, 2);
  assert.deepEqual(
    issues.map((i) => i.line),
    [2, 3],
  );
  assert.match(issues[1]!.message, /field "step"/);
});

test('the writer refuses invalid events and repairs a cut line before appending', () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'events.jsonl'), JSON.stringify(started) + '\n{"cut');
  const { writer, previous } = RunWriter.open(dir);
  assert.equal(previous.length, 1);
  assert.throws(() => writer.append({ time: 't', type: 'checkpoint', step: 1 } as never), /invalid run event/);
  writer.append({ time: 't', type: 'checkpoint', step: 1, path: 'ckpt' });
  const { events, issues } = readEvents(dir);
  assert.equal(events.length, 2);
  assert.equal(issues.length, 1, 'only the cut line is bad');
});

test('baseline cache: key changes with what changes executor behaviour; entries persist', () => {
  const sampling = SamplingSchema.parse({});
  const parts = {
    executor: 'e',
    api: 'chat',
    sampling,
    prompt_version: 'v1',
    verifier_version: 'v1',
    task: 't',
    problem_id: '1',
    problem: 'p',
    reference: '1',
  };
  const k = baselineKey(parts);
  assert.equal(k, baselineKey({ ...parts }));
  for (const change of [
    { executor: 'e2' },
    { sampling: { ...sampling, temperature: 0.1 } },
    { prompt_version: 'v2' },
    { problem: 'p2' },
    { reference: '2' },
    { verifier_version: 'v2' },
  ]) {
    assert.notEqual(baselineKey({ ...parts, ...change }), k, JSON.stringify(change));
  }
  const dir = tmp();
  const cache = new BaselineCache(dir);
  cache.put({
    key: k,
    problem_id: '1',
    attempts: [
      {
        output: '1',
        verdict: { correct: true, extracted: '1', status: null, tests_passed: null, tests_total: null, detail: null },
        error: null,
        finish_reason: 'stop',
        latency_ms: 1,
      },
    ],
    created: 't',
  });
  fs.appendFileSync(cache.file, '{"key":"cut');
  const again = new BaselineCache(dir);
  assert.equal(again.size, 1);
  assert.equal(again.get(k)!.attempts.length, 1);
});

test('sample rows: a per-trace baseline (no_trace) is the row baseline, else the group baseline', () => {
  const sample = (id: string, noTrace: ReturnType<typeof tally> | null) => ({
    sample_id: id,
    source: 'reference',
    trace: 't',
    with_trace: { tally: tally(3, 4), attempts: [] },
    uplift: null,
    e2e: null,
    reward: null,
    ...(noTrace ? { no_trace: { tally: noTrace, attempts: [] } } : {}),
  });
  const group = RolloutGroupSchema.parse({
    time: 't',
    type: 'rollout_group',
    group_index: 0,
    task: 'gsm8k',
    task_kind: 'math',
    problem_id: 'p1',
    problem: 'q',
    baseline: { tally: tally(1, 4), attempts: [], cache_key: 'k', from_cache: false },
    samples: [sample('own', tally(2, 3)), sample('cached', null)],
  });
  const [own, cached] = sampleRows(group) as [TraceSampleRow, TraceSampleRow];
  assert.equal(own.baseline_rate, 2 / 3);
  assert.equal(own.baseline_valid, 3);
  assert.equal(cached.baseline_rate, 0.25);
  assert.equal(cached.baseline_valid, 4);
  assert.equal(own.with_trace_rate, 0.75);
  assert.ok(!('no_trace' in own));
});
