import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EndpointSchema, RewardConfigSchema, RolloutGroupSchema, SamplingSchema, type MathProblem } from '../../src/engine/contract';
import { ExecutorClient } from '../../src/engine/executor/client';
import { DEFAULT_PROMPTS } from '../../src/engine/prompts/templates';
import { BaselineCache } from '../../src/engine/uplift/baselineCache';
import { GroupScorer } from '../../src/engine/uplift/scorer';
import { EngineVerifier } from '../../src/engine/verify';
import { startFakeOpenAI } from '../helpers/fakeOpenAI';

const problem: MathProblem = {
  task: 'gsm8k',
  id: 'p1',
  kind: 'math',
  problem: 'Janet has 16 eggs…',
  answer: '18',
  reference_trace: null,
  meta: {},
};
const HELPFUL = 'Subtract, then double: 18.';
const withTrace = (user: string) => user.includes('Provided reasoning');

function scorer(url: string, cacheDir: string | null, mode: 'exec_only' | 'tracelift' = 'exec_only') {
  const client = new ExecutorClient(EndpointSchema.parse({ base_url: url, model: 'm', max_retries: 0, concurrency: 8 }));
  return new GroupScorer({
    client,
    executorIdentity: 'fake',
    sampling: SamplingSchema.parse({}),
    prompts: DEFAULT_PROMPTS,
    verifier: new EngineVerifier(),
    cache: cacheDir ? new BaselineCache(cacheDir) : null,
    k: 3,
    baselineSamples: 8,
    reward: RewardConfigSchema.parse({ mode }),
  });
}

test('a helpful trace lifts a failing executor: uplift +1, e2e from the K samples', async () => {
  // With a helpful trace the executor answers 18; without any trace, 7; with an unhelpful trace, 7.
  const srv = await startFakeOpenAI({
    honourN: true,
    answer: (u) => (withTrace(u) && u.includes(HELPFUL) ? 'The answer is 18.' : 'The answer is 7'),
  });
  try {
    const s = scorer(srv.url, fs.mkdtempSync(path.join(os.tmpdir(), 'tl-cache-')));
    const group = await s.scoreGroup(
      problem,
      [
        { sample_id: 'a', trace: HELPFUL, source: 'test' },
        { sample_id: 'b', trace: 'Think about ducks.', source: 'test' },
      ],
      { groupIndex: 0 },
    );
    RolloutGroupSchema.parse(group);
    assert.equal(group.baseline.tally.valid, 8);
    assert.equal(group.baseline.tally.rate, 0);
    const [a, b] = group.samples;
    assert.equal(a!.with_trace.tally.successes, 3);
    assert.equal(a!.uplift, 1);
    assert.equal(a!.e2e, 1);
    assert.equal(a!.reward!.value, 1);
    assert.equal(b!.uplift, 0);
    assert.equal(b!.reward!.value, 0);
    // 3 requests: baseline n=8, two traces n=3 each. No extra e2e call.
    assert.equal(srv.requests.length, 3);
    assert.equal(s.generations, 14);
  } finally {
    await srv.close();
  }
});

test('the baseline is sampled once per problem and reused from the cache', async () => {
  const srv = await startFakeOpenAI({ honourN: true, answer: (u) => (withTrace(u) ? '18' : '#### 18') });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-cache-'));
  try {
    const s = scorer(srv.url, dir);
    // Two groups of the same problem at once share one baseline request.
    const [g1, g2] = await Promise.all([
      s.scoreGroup(problem, [{ sample_id: 'a', trace: 't1', source: 'x' }], { groupIndex: 0 }),
      s.scoreGroup(problem, [{ sample_id: 'b', trace: 't2', source: 'x' }], { groupIndex: 1 }),
    ]);
    const noTrace = srv.requests.filter((r) => !withTrace(JSON.stringify(r.body.messages)));
    assert.equal(noTrace.length, 1);
    assert.equal(g1.baseline.cache_key, g2.baseline.cache_key);
    // A new scorer (a later run) reads it from disk.
    const later = scorer(srv.url, dir);
    const g3 = await later.scoreGroup(problem, [{ sample_id: 'c', trace: 't3', source: 'x' }], { groupIndex: 0 });
    assert.equal(g3.baseline.from_cache, true);
    assert.equal(g3.baseline.tally.rate, 1);
    assert.equal(srv.requests.filter((r) => !withTrace(JSON.stringify(r.body.messages))).length, 1);
  } finally {
    await srv.close();
  }
});

test('failed executor calls are excluded and counted, not scored as wrong', async () => {
  // Every with-trace call fails; the baseline succeeds.
  const srv = await startFakeOpenAI({ honourN: true, answer: () => 'The answer is 18', failWhen: withTrace, failStatus: 500 });
  try {
    const s = scorer(srv.url, null);
    const group = await s.scoreGroup(problem, [{ sample_id: 'a', trace: 'x', source: 't' }], { groupIndex: 0 });
    const a = group.samples[0]!;
    assert.equal(a.with_trace.tally.valid, 0);
    assert.equal(a.with_trace.tally.failed, 3);
    assert.equal(a.with_trace.tally.rate, null);
    assert.equal(a.uplift, null, 'no uplift from failed calls');
    assert.equal(a.reward, null);
    assert.ok(a.errors.some((e) => /3 of 3 with-trace executor calls failed/.test(e)));
    assert.equal(group.baseline.tally.rate, 1);
  } finally {
    await srv.close();
  }
});

test('tracelift mode without an RM endpoint reports the missing signal instead of inventing a score', async () => {
  const srv = await startFakeOpenAI({ honourN: true, answer: () => '18' });
  try {
    const group = await scorer(srv.url, null, 'tracelift').scoreGroup(problem, [{ sample_id: 'a', trace: 'x', source: 't' }], {
      groupIndex: 0,
    });
    assert.equal(group.samples[0]!.reward, null);
    assert.ok(group.samples[0]!.errors.some((e) => /missing rm/.test(e)));
  } finally {
    await srv.close();
  }
});
