import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildEvalConfig, defaultRunDirName } from '../../src/engine/eval/buildConfig';
import { getTask } from '../../src/engine/tasks/registry';
import { humaneval } from '../../src/engine/tasks/code/humaneval';
import { probeEndpoint, stageProblemFile } from '../../src/extension/services/evalPrep';
import { listTraces } from '../../src/extension/services/traceItems';
import { sampleRows } from '../../src/engine/run/runDir';
import { rolloutGroup } from '../helpers/runFixtures';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tl-ext-eval-'));
const GROUPS = path.resolve(__dirname, '../fixtures/groups.gsm8k.jsonl');
const executor = {
  endpoint: {
    base_url: 'http://127.0.0.1:9/v1',
    model: 'm',
    api: 'chat' as const,
    api_key_env: null,
    timeout_ms: 1000,
    max_retries: 0,
    concurrency: 2,
    n_sampling: 'auto' as const,
  },
  origin: 'configured' as const,
};

test('a workspace GSM8K file is staged where the task reads it, and loads with its validation', () => {
  const dir = tmp();
  const file = path.join(dir, 'my-problems.jsonl');
  fs.writeFileSync(file, '{"question":"1+1?","answer":"1+1=2\\n#### 2"}\n{"question":"2+2?","answer":"#### 4"}\n');
  const dataDir = path.join(dir, 'data');
  const split = stageProblemFile(file, getTask('gsm8k'), dataDir);
  assert.equal(split, 'test');
  const problems = getTask('gsm8k').load(dataDir, split);
  assert.deepEqual(
    problems.map((p) => p.kind === 'math' && p.answer),
    ['2', '4'],
  );
});

test('a plain JSONL file is gzipped when the task reads a .gz file; a format mismatch is named', () => {
  const dir = tmp();
  const he = path.join(dir, 'he.jsonl');
  fs.writeFileSync(
    he,
    JSON.stringify({
      task_id: 'HumanEval/0',
      prompt: 'def f():\n',
      entry_point: 'f',
      canonical_solution: '  return 1\n',
      test: 'def check(c):\n  assert c() == 1\n',
    }) + '\n',
  );
  const dataDir = path.join(dir, 'data');
  stageProblemFile(he, humaneval, dataDir);
  assert.equal(humaneval.load(dataDir, 'test').length, 1);
  const json = path.join(dir, 'x.json');
  fs.writeFileSync(json, '[]');
  assert.throws(() => stageProblemFile(json, getTask('gsm8k'), dataDir), /gsm8k reads gsm8k\/test\.jsonl/);
});

test('eval configs: reference traces, a groups file recognised, reward mode defaults', () => {
  const ref = buildEvalConfig({ task: 'gsm8k', traceSource: { kind: 'reference' }, executor, dataDir: '/d', limit: 5 });
  assert.equal(ref.split, 'test');
  assert.equal(ref.reward.mode, 'exec_only');
  assert.equal(ref.executor_sampling.max_tokens, 96);
  assert.equal(ref.limit, 5);
  const groups = buildEvalConfig({
    task: 'gsm8k',
    traceSource: { kind: 'file', path: GROUPS },
    executor,
    dataDir: '/d',
    rmUrl: 'http://127.0.0.1:1/score',
    k: 2,
    m: 4,
  });
  assert.deepEqual(groups.trace_source, { kind: 'file', path: GROUPS, format: 'groups' });
  assert.equal(groups.reward.mode, 'tracelift');
  assert.equal(groups.baseline_samples, 4);
  assert.throws(
    () => buildEvalConfig({ task: 'gsm8k', traceSource: { kind: 'file', path: '/no/such.jsonl' }, executor, dataDir: '/d' }),
    /not found/,
  );
  assert.throws(() => buildEvalConfig({ task: 'nope', traceSource: { kind: 'reference' }, executor, dataDir: '/d' }), /Unknown task/);
  assert.match(defaultRunDirName('gsm8k', new Date('2026-01-02T03:04:05.678Z')), /^gsm8k-2026-01-02T03-04-05-678Z$/);
});

test('an endpoint that answers (even 404) is reachable; a closed port is not, with the reason', async () => {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    assert.deepEqual(await probeEndpoint(`http://127.0.0.1:${port}/v1`), { reachable: true, status: 404 });
  } finally {
    server.close();
  }
  const closed = await probeEndpoint(`http://127.0.0.1:${port}/v1`, { timeoutMs: 2000 });
  assert.equal(closed.reachable, false);
  assert.match(closed.error!, /ECONNREFUSED/);
  assert.equal((await probeEndpoint('not a url')).reachable, false);
});

test('traces of a file for "Diff Two Traces": groups positives/negatives, samples; bad lines skipped', () => {
  const groups = listTraces(fs.readFileSync(GROUPS, 'utf8') + '{bad\n', 'groups');
  assert.equal(groups.skipped, 1);
  assert.match(groups.items[0]!.label, / · positive 0$/);
  assert.match(groups.items[1]!.description, /^calculation_error · rubric 0\.35/);
  const samples = listTraces(
    sampleRows(rolloutGroup('p'))
      .map((r) => JSON.stringify(r))
      .join('\n'),
    'samples',
  );
  assert.equal(samples.items.length, 2);
  assert.equal(samples.items[1]!.text, 'trace neg0 <b>bold</b>');
  const events = listTraces(JSON.stringify(rolloutGroup('p')), 'events');
  assert.equal(events.items.length, 2);
});
