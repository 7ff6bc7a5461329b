/**
 * The reward service against a fake executor: auth, body validation, a batch
 * scored with the engine's scorer (nulls for failed calls, never 0), groups
 * joined across requests, step_metrics merged, and a run directory that
 * reads back valid against the contract.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RewardResponseSchema, RunSummarySchema, TraceSampleRowSchema, type MathProblem, type RunEvent } from '../../src/engine/contract';
import { buildRunComponents, type RunComponents } from '../../src/engine/eval/runComponents';
import { readEvents, readSummary, RunWriter } from '../../src/engine/run/runDir';
import { SummaryBuilder } from '../../src/engine/run/summary';
import { RewardService, type TrainingProblem } from '../../src/engine/train/rewardService';
import { parseTrainConfig, resolveTrainConfig, scorerEvalConfig } from '../../src/engine/train/trainConfig';
import { startFakeOpenAI, type FakeServer } from '../helpers/fakeOpenAI';

const HELPFUL = 'HELPFUL: double 9 to get 18';
const problem = (id: string): MathProblem => ({
  task: 'gsm8k',
  id,
  kind: 'math',
  problem: `Problem ${id}: what is 2 × 9?`,
  answer: '18',
  reference_trace: null,
  meta: {},
});

let executor: FakeServer;
let tmp: string;

before(async () => {
  // Answers 18 only when the helpful trace is in the prompt; a trace containing FAIL makes the call fail.
  executor = await startFakeOpenAI({
    honourN: true,
    answer: (user) => (user.includes('HELPFUL') ? 'The answer is 18.' : 'The answer is 7.'),
    failWhen: (user) => user.includes('FAIL'),
  });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-reward-service-'));
});
after(async () => {
  await executor.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A JSON reply: an error message, or the route's body. */
type Reply = { error?: string } & Record<string, unknown>;

interface Harness {
  service: RewardService;
  runDir: string;
  events: RunEvent[];
  parts: RunComponents;
  post(route: string, body: unknown, token?: string | null): Promise<{ status: number; body: Reply }>;
  close(): Promise<void>;
}

async function harness(name: string, groupSize = 4): Promise<Harness> {
  const runDir = path.join(tmp, name);
  const config = resolveTrainConfig(
    parseTrainConfig({
      tasks: [{ task: 'gsm8k' }],
      max_steps: 2,
      num_generations: groupSize,
      k: 2,
      baseline_samples: 4,
      executor: { base_url: executor.url, model: 'fake', max_retries: 0 },
      data_dir: tmp,
      cache_dir: path.join(tmp, `${name}-cache`),
    }),
  );
  const parts = buildRunComponents(scorerEvalConfig(config, 'math', { endpoint: config.executor!, origin: 'configured' }), {
    executorIdentity: 'fake',
    noCache: true,
  });
  const problems = new Map<string, TrainingProblem>([
    ['p1', { problem: problem('p1'), index: 0 }],
    ['p2', { problem: problem('p2'), index: 1 }],
  ]);
  const { writer } = RunWriter.open(runDir);
  const events: RunEvent[] = [];
  const service = await new RewardService({
    runId: `run-${name}`,
    writer,
    problems,
    scorers: { math: parts.scorer },
    groupSize,
    summary: new SummaryBuilder(),
    onEvent: (e) => events.push(e),
  }).start();
  const post = async (route: string, body: unknown, token: string | null = service.token) => {
    const res = await fetch(`${service.url}${route}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', ...(token !== null ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Reply };
  };
  return {
    service,
    runDir,
    events,
    parts,
    post,
    close: async () => {
      await service.close();
      await parts.close();
    },
  };
}

const completion = (trace: string) => `Sure.\n<reasoning>\n${trace}\n</reasoning>\nDone.`;

test('requests without the bearer token are refused (401); health answers with the run id', async () => {
  const h = await harness('auth');
  try {
    assert.equal((await h.post('/v1/health', undefined, null)).status, 401);
    assert.equal((await h.post('/v1/health', undefined, 'x'.repeat(64))).status, 401);
    assert.equal((await h.post('/v1/rewards', { step: 0, items: [] }, 'nope')).status, 401);
    const health = await h.post('/v1/health', undefined);
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { ok: true, run_id: 'run-auth' });
    assert.equal((await h.post('/v1/nothing', {})).status, 404);
    assert.match(h.service.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  } finally {
    await h.close();
  }
});

test('invalid bodies are refused (400) with the field named', async () => {
  const h = await harness('validation');
  try {
    const cases: Array<[unknown, RegExp]> = [
      ['{not json', /not JSON/],
      [{ items: [] }, /field "step"/],
      [{ step: -1, items: [] }, /field "step"/],
      [{ step: 0, items: [{ completion: 'x' }] }, /field "items\.0\.problem_id"/],
      [
        {
          step: 0,
          items: [
            { problem_id: 'p1', completion: 'x' },
            { problem_id: 'p9', completion: 'x' },
          ],
        },
        /field "items\.1\.problem_id": not a problem of this run/,
      ],
    ];
    for (const [body, message] of cases) {
      const res = await h.post('/v1/rewards', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.body.error ?? '', message);
    }
    const events: Array<[unknown, RegExp]> = [
      [{ type: 'step_metrics', step: 1, metrics: { loss: 'high' } }, /field "metrics\.loss"/],
      [{ type: 'checkpoint', step: 1, path: '/etc/passwd' }, /field "path"/],
      [{ type: 'checkpoint', step: 1, path: '../elsewhere' }, /field "path"/],
      [{ type: 'run_started', run_id: 'x' }, /field "type"/],
    ];
    for (const [body, message] of events) {
      const res = await h.post('/v1/events', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.body.error ?? '', message);
    }
    assert.equal(h.events.length, 0, 'nothing refused was written');
  } finally {
    await h.close();
  }
});

test('a batch is scored with the engine: rewards per item, null (never 0) where the executor failed, traces extracted', async () => {
  const h = await harness('batch');
  try {
    const res = await h.post('/v1/rewards', {
      step: 0,
      items: [
        { problem_id: 'p1', completion: completion(HELPFUL) },
        { problem_id: 'p1', completion: completion('think about ducks') },
        { problem_id: 'p1', completion: completion('FAIL on purpose') },
        { problem_id: 'p1', completion: 'no tags, HELPFUL anyway' },
      ],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const body = RewardResponseSchema.parse(res.body);
    assert.deepEqual(body.rewards, [1, 0, null, 1]);
    assert.deepEqual(body.traces, [HELPFUL, 'think about ducks', 'FAIL on purpose', 'no tags, HELPFUL anyway']);
    assert.deepEqual(
      body.details.map((d) => [d.uplift, d.with_trace_rate, d.baseline_rate, d.e2e]),
      [
        [1, 1, 0, 1],
        [0, 0, 0, 0],
        [null, null, 0, null],
        [1, 1, 0, 1],
      ],
    );
    assert.equal(body.details[0]!.error, null);
    assert.match(body.details[2]!.error!, /executor calls failed/);
    // One complete group (G=4) written at once, at step 0 + 1.
    const groups = h.events.filter((e) => e.type === 'rollout_group');
    assert.equal(groups.length, 1);
    assert.equal(groups[0]!.step, 1);
    assert.equal(groups[0]!.samples.length, 4);
    assert.equal(groups[0]!.samples[2]!.reward, null);
  } finally {
    await h.close();
  }
});

test('samples of one (step, problem) sent in two requests become one rollout_group; step_metrics get the service figures merged', async () => {
  const h = await harness('join');
  try {
    const half = (traces: string[]) => ({ step: 0, items: traces.map((t) => ({ problem_id: 'p2', completion: completion(t) })) });
    const [a, b] = await Promise.all([h.post('/v1/rewards', half([HELPFUL, 'ducks'])), h.post('/v1/rewards', half(['geese', HELPFUL]))]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    let groups = h.events.filter((e) => e.type === 'rollout_group');
    assert.equal(groups.length, 1);
    assert.equal(groups[0]!.samples.length, 4);
    assert.equal(new Set(groups[0]!.samples.map((s) => s.sample_id)).size, 4, 'sample ids are unique in the group');
    assert.equal(groups[0]!.group_index, 1);

    // The trainer's metrics for update 1 (the rollouts of request step 0): its loss plus the service's figures.
    const ok = await h.post('/v1/events', { type: 'step_metrics', step: 1, metrics: { loss: 0.25, reward_std: 9 } });
    assert.deepEqual(ok.body, { ok: true });
    const metrics = h.events.filter((e) => e.type === 'step_metrics');
    assert.equal(metrics.length, 1);
    const m = metrics[0]!.metrics;
    assert.equal(m.loss, 0.25);
    assert.equal(m.reward_mean, 0.5);
    assert.equal(m.reward_std, 9, 'a figure the trainer sent is kept');
    assert.equal(m.uplift_mean, 0.5);
    assert.equal(m.with_trace_success, 0.5);
    assert.equal(m.no_trace_success, 0);
    assert.equal(m.reward_null_count, 0);
    assert.ok(m.executor_generations! >= 8, `executor generations counted (${m.executor_generations})`);
    assert.ok(m.time_reward_s! >= 0);

    // A partial group of the next step is written when the run ends, with its figures as their own step_metrics.
    await h.post('/v1/rewards', { step: 1, items: [{ problem_id: 'p1', completion: completion(HELPFUL) }] });
    await h.post('/v1/events', { type: 'checkpoint', step: 1, path: 'checkpoints/checkpoint-1' });
    await h.close();
    groups = h.events.filter((e) => e.type === 'rollout_group');
    assert.equal(groups.length, 2);
    assert.deepEqual([groups[1]!.step, groups[1]!.problem_id, groups[1]!.samples.length], [2, 'p1', 1]);
    const last = h.events.filter((e) => e.type === 'step_metrics').at(-1)!;
    assert.equal(last.step, 2);
    assert.equal(last.metrics.reward_mean, 1);
    assert.equal(last.metrics.loss, undefined);

    // The run directory reads back valid: events, samples, summary.
    const { events, issues } = readEvents(h.runDir);
    assert.deepEqual(issues, []);
    assert.deepEqual(
      events.map((e) => e.type),
      ['rollout_group', 'step_metrics', 'checkpoint', 'rollout_group', 'step_metrics'],
    );
    const rows = fs
      .readFileSync(path.join(h.runDir, 'samples.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => TraceSampleRowSchema.parse(JSON.parse(l)));
    assert.equal(rows.length, 5);
    assert.deepEqual([...new Set(rows.map((r) => r.step))], [1, 2]);
    const summary = RunSummarySchema.parse(readSummary(h.runDir));
    assert.equal(summary.micro.traces, 5);
    assert.equal(summary.micro.problems, 2);
    assert.equal(summary.mean_reward, 0.6);
    const written = events
      .filter((e) => e.type === 'rollout_group')
      .reduce((n, e) => n + ((e as { executor_generations?: number | null }).executor_generations ?? 0), 0);
    assert.equal(summary.executor_generations, h.service.generations);
    assert.ok(written <= summary.executor_generations);
  } finally {
    await h.close();
  }
});

test('the service refuses to score once the run is ending', async () => {
  const h = await harness('closing');
  await h.close();
  await assert.rejects(fetch(`${h.service.url}/v1/health`, { headers: { authorization: `Bearer ${h.service.token}` } }));
});
