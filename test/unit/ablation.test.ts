import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EndpointSchema, RewardConfigSchema, SamplingSchema, type MathProblem, type RolloutGroup } from '../../src/engine/contract';
import { ExecutorClient } from '../../src/engine/executor/client';
import { DEFAULT_PROMPTS } from '../../src/engine/prompts/templates';
import { LlmJudge } from '../../src/engine/reward/judge';
import { GroupScorer } from '../../src/engine/uplift/scorer';
import { EngineVerifier } from '../../src/engine/verify';
import { ablate, ALL_REWARD_MODES, rewardSettingsOf } from '../../src/engine/analysis/ablation';
import { startFakeOpenAI } from '../helpers/fakeOpenAI';

const problems: MathProblem[] = ['a', 'b', 'c'].map((id, i) => ({
  task: 'gsm8k',
  id,
  kind: 'math',
  problem: `Problem ${id}: what is ${i + 2} times 3?`,
  answer: String((i + 2) * 3),
  reference_trace: null,
  meta: {},
}));
/** Traces as a groups file has them: the reference (positive) and perturbations (negative, with a kind). */
const traces = [
  { sample_id: 'ref', trace: 'Multiply carefully. GOOD', source: 'positive', label: 'reference' },
  { sample_id: 'neg1', trace: 'Add instead. BAD', source: 'negative', label: 'calculation_error' },
  { sample_id: 'neg2', trace: 'Something about ducks, at length, GOOD', source: 'negative', label: 'irrelevant' },
];

/** A Reason RM on the official /score protocol: the score is a function of the reasoning's length. */
async function startRm(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { items: Array<{ reasoning: string }> };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ scores: body.items.map((it) => Math.min(1, it.reasoning.length / 40)) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/score`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('ablation on recorded rollouts reproduces every mode’s reward exactly; absent signals are unavailable, not faked', async () => {
  // Executor: right with a GOOD trace on two of three samples, wrong with a BAD one, right on every other no-trace sample.
  // Judge: 9 for a GOOD trace, 4 otherwise.
  const llm = await startFakeOpenAI({
    answer: (prompt, index) => {
      if (prompt.includes('rubric')) return prompt.includes('GOOD') ? 'Score: 9' : 'Score: 4';
      const p = problems.find((q) => prompt.includes(q.problem))!;
      if (prompt.includes('Provided reasoning')) return prompt.includes('GOOD') && index % 3 !== 0 ? p.answer : '0';
      return index % 2 === 0 ? p.answer : '1';
    },
  });
  const rm = await startRm();
  try {
    const verifier = new EngineVerifier();
    const endpoint = EndpointSchema.parse({ base_url: llm.url, model: 'm', max_retries: 0, concurrency: 4 });
    // One recorded run per mode: each records its own reward, and every run records RM and judge scores.
    for (const mode of ALL_REWARD_MODES) {
      const reward = RewardConfigSchema.parse({ mode, rm_url: rm.url, judge: endpoint });
      const scorer = new GroupScorer({
        client: new ExecutorClient(endpoint),
        executorIdentity: 'fake',
        sampling: SamplingSchema.parse({}),
        prompts: DEFAULT_PROMPTS,
        verifier,
        cache: null,
        k: 3,
        baselineSamples: 4,
        reward,
        judge: new LlmJudge(new ExecutorClient(endpoint), DEFAULT_PROMPTS, SamplingSchema.parse({ temperature: 0 })),
      });
      const groups: RolloutGroup[] = [];
      for (const [i, p] of problems.entries()) groups.push(await scorer.scoreGroup(p, traces, { groupIndex: i }));
      const settings = rewardSettingsOf({ reward: { mode, exec_style: 'hybrid' }, protocol: { code_outcome: 'summary' } });
      const result = ablate(groups, settings);
      assert.equal(result.traces.length, 9);
      for (const t of result.traces) {
        assert.notEqual(t.recorded, null, `${mode}: the run recorded a reward`);
        assert.equal(t.rewards[mode], t.recorded, `${mode} ${t.problem_id}/${t.sample_id}: re-scored = recorded`);
      }
      assert.ok(result.modes.every((m) => m.available && m.unscored === 0));
      // Every trace was scored by every mode, so each pair of modes is compared over all nine.
      assert.equal(result.correlations.length, 10);
      assert.ok(result.correlations.every((c) => c.n === 9));

      // Preference: hand-counted from the re-scored rewards of each group's reference and negatives.
      const pref = result.preference!.find((p) => p.mode === mode)!;
      let prefers = 0;
      let ties = 0;
      for (const p of problems) {
        const rows = result.traces.filter((t) => t.problem_id === p.id);
        const ref = rows.find((t) => t.sample_id === 'ref')!.rewards[mode]!;
        for (const neg of rows.filter((t) => t.sample_id !== 'ref')) {
          if (neg.rewards[mode]! > ref) prefers++;
          else if (neg.rewards[mode] === ref) ties++;
        }
      }
      assert.deepEqual([pref.pairs, pref.prefersPerturbed, pref.ties], [6, prefers, ties]);
      assert.equal(pref.byKind.calculation_error!.pairs, 3);
      if (mode === 'exec_only') {
        // The BAD trace never succeeds: exec_only never prefers it over the reference.
        assert.equal(pref.byKind.calculation_error!.prefersPerturbed, 0);
      }

      // Without RM scores (a run that had no RM endpoint) the RM modes are unavailable, the others unchanged.
      const noRm = groups.map((g) => ({ ...g, samples: g.samples.map((s) => ({ ...s, rm_score: null })) }));
      const stripped = ablate(noRm, settings);
      for (const m of stripped.modes) {
        const needsRm = m.mode === 'tracelift' || m.mode === 'no_uplift' || m.mode === 'rm_uplift_only';
        assert.equal(m.available, !needsRm, `${m.mode} availability`);
        if (needsRm) assert.equal(m.missing.rm, 9);
      }
      for (const t of stripped.traces) {
        assert.equal(t.rewards.tracelift, null);
        assert.equal(
          t.rewards.exec_only,
          result.traces.find((r) => r.sample_id === t.sample_id && r.problem_id === t.problem_id)!.rewards.exec_only,
        );
      }
      assert.ok(stripped.correlations.every((c) => c.a !== 'tracelift' && c.b !== 'tracelift'));
    }
    await verifier.close();
  } finally {
    await llm.close();
    await rm.close();
  }
});

test('within-group variance: a group whose rewards are all equal is counted as giving no signal', () => {
  const settings = rewardSettingsOf(null);
  const tally = (successes: number, valid: number) => ({
    successes,
    valid,
    requested: valid,
    failed: 0,
    rate: valid ? successes / valid : null,
  });
  const attempt = (correct: boolean) => ({
    output: 'x',
    verdict: { correct, extracted: null, status: null, tests_passed: null, tests_total: null, detail: null },
    error: null,
    finish_reason: 'stop',
    latency_ms: 1,
  });
  const sample = (id: string, e2e: number) => ({
    sample_id: id,
    source: 'planner',
    label: null,
    rubric_total: null,
    trace: id,
    with_trace: { tally: tally(e2e, 1), attempts: [attempt(e2e === 1)] },
    uplift: null,
    e2e,
    rm_score: null,
    judge_score: null,
    reward: null,
    errors: [],
  });
  const group = (id: string, e2es: number[]): RolloutGroup => ({
    time: 't',
    type: 'rollout_group',
    step: 0,
    group_index: 0,
    task: 'gsm8k',
    task_kind: 'math',
    problem_id: id,
    problem: id,
    reference: '1',
    baseline: { tally: tally(0, 2), attempts: [attempt(false), attempt(false)], cache_key: 'k', from_cache: false },
    samples: e2es.map((e, i) => sample(`${id}#${i}`, e)),
  });
  const result = ablate([group('same', [1, 1]), group('split', [1, 0, 0, 1])], settings, ['exec_only']);
  const v = result.withinGroup[0]!;
  assert.equal(v.groups, 2);
  assert.equal(v.zeroVarianceShare, 0.5);
  assert.equal(v.meanVariance, (0 + 0.25) / 2);
  assert.equal(result.preference, null, 'not a groups-file run');
});
