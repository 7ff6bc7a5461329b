/**
 * The verl adapter (backend/tracelift_backend/adapters/verl_reward.py)
 * against the real reward service: the service is started as the launcher
 * starts it (engine scorer, fake OpenAI executor), a Python process loads the
 * adapter by file path as verl does and calls it with verl's arguments, and
 * the rewards it returns are the engine's; the batched call's samples make one
 * rollout_group per problem at the step the adapter counted; a missing reward
 * stops the call (default) or becomes NaN when asked.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MathProblem, RunEvent } from '../../src/engine/contract';
import { buildRunComponents, type RunComponents } from '../../src/engine/eval/runComponents';
import { readEvents, RunWriter } from '../../src/engine/run/runDir';
import { SummaryBuilder } from '../../src/engine/run/summary';
import { REWARD_TOKEN_ENV, REWARD_URL_ENV } from '../../src/engine/train/launcher';
import { RewardService, type TrainingProblem } from '../../src/engine/train/rewardService';
import { parseTrainConfig, resolveTrainConfig, scorerEvalConfig } from '../../src/engine/train/trainConfig';
import { backendDir, pythonPathFor } from '../../src/engine/util/python';
import { startFakeOpenAI, type FakeServer } from '../helpers/fakeOpenAI';

const ADAPTER = path.join(backendDir(), 'tracelift_backend', 'adapters', 'verl_reward.py');
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
let service: RewardService;
let parts: RunComponents;
let runDir: string;
const events: RunEvent[] = [];

before(async () => {
  // 18 only with the helpful trace in the prompt; a trace with FAIL makes every executor call fail.
  executor = await startFakeOpenAI({
    honourN: true,
    answer: (user) => (user.includes('HELPFUL') ? 'The answer is 18.' : 'The answer is 7.'),
    failWhen: (user) => user.includes('FAIL'),
  });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-verl-'));
  runDir = path.join(tmp, 'run');
  const config = resolveTrainConfig(
    parseTrainConfig({
      tasks: [{ task: 'gsm8k' }],
      max_steps: 2,
      num_generations: 4,
      k: 2,
      baseline_samples: 4,
      executor: { base_url: executor.url, model: 'fake', max_retries: 0 },
      data_dir: tmp,
      cache_dir: path.join(tmp, 'cache'),
    }),
  );
  parts = buildRunComponents(scorerEvalConfig(config, 'math', { endpoint: config.executor!, origin: 'configured' }), {
    executorIdentity: 'fake',
    noCache: true,
  });
  const { writer } = RunWriter.open(runDir);
  service = await new RewardService({
    runId: 'verl-run',
    writer,
    problems: new Map<string, TrainingProblem>([
      ['gsm8k/train/1', { problem: problem('gsm8k/train/1'), index: 0 }],
      ['gsm8k/train/2', { problem: problem('gsm8k/train/2'), index: 1 }],
    ]),
    scorers: { math: parts.scorer },
    groupSize: 4,
    summary: new SummaryBuilder(),
    onEvent: (e) => events.push(e),
  }).start();
});
after(async () => {
  await service.close();
  await parts.close();
  await executor.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Runs Python code with the adapter loaded by path as `verl` (verl's custom_reward_function loader); its last stdout line as JSON. */
async function python(code: string, env: Record<string, string> = {}) {
  const script = [
    'import importlib.util, json, math, sys',
    "spec = importlib.util.spec_from_file_location('custom_module', sys.argv[1])",
    'verl = importlib.util.module_from_spec(spec)',
    "sys.modules['custom_module'] = verl",
    'spec.loader.exec_module(verl)',
    code,
  ].join('\n');
  // Asynchronously: the service answering it runs in this process.
  const child = spawn(pythonPathFor(), ['-c', script, ADAPTER], {
    cwd: tmp,
    timeout: 120_000,
    env: { ...process.env, PYTHONPATH: '', [REWARD_URL_ENV]: service.url, [REWARD_TOKEN_ENV]: service.token, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { status, stderr, out: status === 0 ? (JSON.parse(stdout.trim().split('\n').at(-1)!) as unknown) : null };
}

const tagged = (trace: string) => `Let me think.\n<reasoning>\n${trace}\n</reasoning>\nDone.`;

test('batched: one step of G=4 per problem scored by the real service; rewards are the engine uplifts; one rollout_group each', async () => {
  const completions = [tagged(HELPFUL), tagged('think about ducks'), 'HELPFUL without tags', tagged('geese')];
  const res = await python(
    [
      `completions = ${JSON.stringify(completions)}`,
      "ids = ['gsm8k/train/1'] * 4 + ['gsm8k/train/2'] * 4",
      'rewards = verl.compute_score_batched(data_sources=["openai/gsm8k"] * 8, solution_strs=completions + completions[::-1],',
      '    ground_truths=["18"] * 8, extra_infos=[{"problem_id": i, "split": "train"} for i in ids])',
      'print(json.dumps(rewards))',
    ].join('\n'),
  );
  assert.equal(res.status, 0, res.stderr);
  // exec_only against a no-trace baseline of 0: a helpful trace lifts the executor to 1/1, the others to 0.
  assert.deepEqual(res.out, [1, 0, 1, 0, 0, 1, 0, 1]);
  const groups = events.filter((e) => e.type === 'rollout_group');
  assert.equal(groups.length, 2);
  for (const g of groups) {
    assert.equal(g.step, 1, 'the first batched call is step 0: events record it + 1');
    assert.equal(g.samples.length, 4);
  }
  assert.deepEqual(groups.map((g) => g.problem_id).sort(), ['gsm8k/train/1', 'gsm8k/train/2']);
  const rewards = groups.find((g) => g.problem_id === 'gsm8k/train/1')!.samples.map((s) => s.reward?.value ?? null);
  assert.deepEqual(rewards, [1, 0, 1, 0]);
});

test('per sample: compute_score with the step in extra_info; a missing reward raises by default, NaN when asked', async () => {
  const one = await python(
    `print(json.dumps(verl.compute_score("openai/gsm8k", ${JSON.stringify(tagged(HELPFUL))}, "18", {"problem_id": "gsm8k/train/2", "step": 4})))`,
  );
  assert.equal(one.status, 0, one.stderr);
  assert.equal(one.out, 1);

  const call = `print(json.dumps(repr(verl.compute_score("openai/gsm8k", ${JSON.stringify(tagged('FAIL here'))}, "18", {"problem_id": "gsm8k/train/2", "step": 4}))))`;
  const refused = await python(call);
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /RewardServiceError: the reward service has no reward for a completion of 'gsm8k\/train\/2'/);
  const nan = await python(call, { TRACELIFT_VERL_NULL_REWARD: 'nan' });
  assert.equal(nan.status, 0, nan.stderr);
  assert.equal(nan.out, 'nan');

  // A problem the run does not have: the service's 400 names the field; no reward is made up.
  const unknown = await python('verl.compute_score("d", "x", None, {"problem_id": "gsm8k/train/99"})');
  assert.notEqual(unknown.status, 0);
  assert.match(unknown.stderr, /HTTP 400.*items\.0\.problem_id/);
  // A wrong token: refused (401), not retried into a reward.
  const wrongToken = await python('verl.compute_score("d", "x", None, {"problem_id": "gsm8k/train/1"})', {
    [REWARD_TOKEN_ENV]: 'f'.repeat(64),
  });
  assert.notEqual(wrongToken.status, 0);
  assert.match(wrongToken.stderr, /HTTP 401/);
});

test('the run directory written through the adapter reads back valid', async () => {
  await service.close();
  const { events: written, issues } = readEvents(runDir);
  assert.deepEqual(issues, []);
  assert.ok(
    written.some((e) => e.type === 'rollout_group' && e.step === 5),
    'the per-sample step 4 is recorded as 5',
  );
});
