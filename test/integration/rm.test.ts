/**
 * SLOW (minutes on 2 cores): the Reason RM through the CLI on the real
 * embedded backbone (SmolLM2-135M from the embedded GGUF): `tracelift rm
 * train` for 2 steps on a small groups file, then `tracelift rm serve` on the
 * trained RM, scored through the engine's RM client (src/engine/reward/rmClient.ts).
 * Skipped, saying why, where the training environment or the embedded model
 * is not installed (scripts/setup.sh installs both).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RmTrainConfigSchema } from '../../src/engine/contract/rm';
import type { RunEvent } from '../../src/engine/contract';
import { scoreTraces, type RmItem } from '../../src/engine/reward/rmClient';
import { freePort } from '../../src/engine/rm/rmProcess';
import { readEvents } from '../../src/engine/run/runDir';
import { pythonPathFor } from '../../src/engine/util/python';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'src', 'cli', 'main.ts');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'groups.gsm8k.jsonl');
const MATH_DIMS = ['problem_understanding', 'solution_strategy', 'step_coherence', 'calculation_correctness', 'answer_support'];

function missingEnvironment(): string | null {
  if (!fs.existsSync(path.join(ROOT, 'models', 'SmolLM2-135M-Instruct.Q4_1.gguf')))
    return 'the embedded model is not installed (scripts/setup.sh)';
  const probe = spawnSync(pythonPathFor(), ['-c', 'import torch, peft, gguf, fastapi, uvicorn'], { encoding: 'utf8' });
  return probe.status === 0 ? null : `the training environment is incomplete: ${probe.stderr.trim().split('\n').at(-1)}`;
}

const rubric = (level: number, total: number) => ({ ...Object.fromEntries(MATH_DIMS.map((d) => [d, level])), total });

/** Small groups whose negatives are plainly broken (cut short, irrelevant). */
function syntheticGroups(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const steps = `She buys ${i + 2} boxes of 3 pens, so ${i + 2} * 3 = ${3 * (i + 2)} pens.\nShe gives away 2, so ${3 * (i + 2)} - 2 = ${3 * (i + 2) - 2}.`;
    lines.push(
      JSON.stringify({
        problem_id: `synthetic_${i}`,
        source: 'synthetic',
        task_type: 'math',
        problem: `Ann buys ${i + 2} boxes of 3 pens and gives away 2 pens. How many pens does she have?`,
        reference_solution: String(3 * (i + 2) - 2),
        positive_pool: [{ reasoning: steps, rubric: rubric(4, 1) }],
        negative_bank: [
          { reasoning: steps.slice(0, 12), negative_kind: 'truncated', rubric: rubric(1, 0.2) },
          { reasoning: 'The weather is nice today.', negative_kind: 'irrelevant', rubric: rubric(0, 0) },
        ],
      }),
    );
  }
  return lines.join('\n') + '\n';
}

const ofType = <T extends RunEvent['type']>(events: RunEvent[], type: T) =>
  events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);

const skip = missingEnvironment();

test(
  'SLOW: tracelift rm train (embedded, 2 steps) then rm serve, scored by the engine RM client',
  { timeout: 1_800_000, skip: skip ?? false },
  async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-rm-'));
    const groups = path.join(tmp, 'groups.jsonl');
    fs.writeFileSync(groups, fs.readFileSync(FIXTURE, 'utf8') + syntheticGroups(6));
    const out = path.join(tmp, 'run');
    // The embedded default with one group per optimizer step: 2 steps train on 2 groups (a CPU step is costly).
    const recipe = path.join(tmp, 'rm-recipe.json');
    const defaults = JSON.parse(fs.readFileSync(path.join(ROOT, 'recipes', 'rm', 'cpu-smollm2.json'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(recipe, JSON.stringify({ ...defaults, $schema: undefined, gradient_accumulation_steps: 1, max_length: 256 }));

    const train = spawnSync(
      process.execPath,
      ['--import', 'tsx', CLI, 'rm', 'train', '--recipe', recipe, '--groups', groups, '--out', out, '--max-steps', '2'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 1_200_000,
      },
    );
    assert.equal(train.status, 0, `${train.stdout}\n${train.stderr.slice(-4000)}`);
    assert.match(train.stdout, /rm train completed/);

    const config = RmTrainConfigSchema.parse(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')));
    assert.equal(config.base.model, 'embedded');
    assert.equal(config.gradient_accumulation_steps, 1);
    assert.deepEqual(config.groups, [groups]);
    const { events, issues } = readEvents(out);
    assert.deepEqual(issues, []);
    const started = ofType(events, 'run_started');
    assert.equal(started.length, 1);
    assert.equal(started[0]!.run_kind, 'rm_train');
    const losses = ofType(events, 'step_metrics').filter((e) => 'loss' in e.metrics);
    assert.deepEqual(
      losses.map((e) => e.step),
      [1, 2],
    );
    const dev = ofType(events, 'step_metrics').filter((e) => 'dev_pair_accuracy' in e.metrics);
    assert.ok(dev.length >= 1, 'dev metrics after training');
    assert.equal(ofType(events, 'checkpoint').at(-1)!.path, 'model');
    const ended = ofType(events, 'run_ended');
    assert.equal(ended.length, 1);
    assert.equal(ended[0]!.status, 'completed');

    const port = await freePort();
    const token = 'integration-token';
    const serve = spawn(
      process.execPath,
      ['--import', 'tsx', CLI, 'rm', 'serve', '--model', out, '--port', String(port), '--token', token],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    serve.stdout.on('data', (c: Buffer) => (output += c.toString()));
    serve.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => serve.once('close', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 600_000;
      while (!output.includes('rm serve: http://')) {
        assert.ok(Date.now() < deadline, `rm serve did not start:\n${output}`);
        assert.equal(serve.exitCode, null, `rm serve exited:\n${output}`);
        await new Promise((r) => setTimeout(r, 500));
      }
      const url = `http://127.0.0.1:${port}/score`;
      const items: RmItem[] = [
        { problem: 'Ann has 3 apples and buys 2 more. How many?', reasoning: '3 + 2 = 5 apples.', taskName: 'math', taskType: 'math' },
        { problem: 'Ann has 3 apples and buys 2 more. How many?', reasoning: 'The weather is nice.', taskName: 'math', taskType: 'math' },
        { problem: 'Sum a list of integers.', reasoning: 'Loop over the list and add.', taskName: 'code', taskType: 'algorithm' },
      ];
      const batched = await scoreTraces(url, items, { apiKey: token, batchSize: 16 });
      const oneByOne = await scoreTraces(url, items, { apiKey: token, batchSize: 1, concurrency: 3 });
      assert.equal(batched.length, 3);
      for (const [i, s] of batched.entries()) {
        assert.ok(s >= 0 && s <= 1, `score ${s} in [0, 1]`);
        assert.ok(Math.abs(s - oneByOne[i]!) < 1e-4, `item ${i}: batched ${s} vs alone ${oneByOne[i]}`);
      }
      // The response also carries each item's dimension expectations; the token is required.
      const raw = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ items: [{ problem: 'p', reasoning: 'r' }], max_length: 2048, batch_size: 1 }),
      });
      const body = (await raw.json()) as { scores: number[]; dimensions: Record<string, number>[] };
      assert.deepEqual(Object.keys(body.dimensions[0]!), MATH_DIMS);
      const denied = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"items":[]}' });
      assert.equal(denied.status, 401);
      await assert.rejects(scoreTraces(url, items, { apiKey: 'wrong', retries: 0 }), /HTTP 401/);
    } finally {
      serve.kill('SIGTERM');
    }
    assert.equal(await exited, 0, output.slice(-2000));

    await evalWithRmModel(tmp, out);
  },
);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rmServerPids(modelDir: string): number[] {
  const r = spawnSync('pgrep', ['-f', `tracelift_backend.rm.serve --model ${modelDir}`], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

/**
 * `tracelift eval --rm-model RUN_DIR`: the engine serves the trained RM for
 * the run; samples carry its score and dimensions; the config names the RM by
 * directory and content hash. Its server is killed mid-run: the samples scored
 * after that say the RM failed and get no reward (nothing invented), and no
 * server is left behind.
 */
async function evalWithRmModel(tmp: string, rmRunDir: string): Promise<void> {
  const modelDir = path.join(rmRunDir, 'model');
  const runDir = path.join(tmp, 'eval');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI,
      'eval',
      '--task',
      'gsm8k',
      '--split',
      'test',
      '--limit',
      '8',
      '-k',
      '2',
      '-m',
      '1',
      '--rm-model',
      rmRunDir,
      '--out',
      runDir,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout.on('data', (c: Buffer) => (log += c.toString()));
  child.stderr.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  // Kill the RM server once the first group is written.
  const deadline = Date.now() + 600_000;
  const groupsWritten = () => readEvents(runDir).events.filter((e) => e.type === 'rollout_group').length;
  while (groupsWritten() < 1) {
    assert.ok(Date.now() < deadline && child.exitCode === null, `eval did not score a group:\n${log.slice(-3000)}`);
    await sleep(100);
  }
  const pids = rmServerPids(modelDir);
  assert.ok(pids.length >= 1, `the engine started an RM server on ${modelDir}`);
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  assert.equal(await exited, 0, log.slice(-3000));
  assert.deepEqual(rmServerPids(modelDir), [], 'no RM server left after the run');

  const config = JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')) as {
    reward: { mode: string; rm_url: string | null; rm_model: { dir: string; id: string } };
  };
  assert.equal(config.reward.mode, 'tracelift');
  assert.equal(config.reward.rm_url, null, 'the per-run port is not recorded');
  assert.equal(config.reward.rm_model.dir, modelDir);
  assert.match(config.reward.rm_model.id, /^sha256:[0-9a-f]{64}$/);

  const samples = readEvents(runDir)
    .events.filter((e) => e.type === 'rollout_group')
    .flatMap((g) => (g.type === 'rollout_group' ? g.samples : []));
  assert.equal(samples.length, 8);
  const scored = samples.filter((s) => s.rm_score !== null);
  const failed = samples.filter((s) => s.rm_score === null);
  assert.ok(scored.length >= 1, 'the first group was scored by the served RM');
  for (const s of scored) {
    assert.ok(s.rm_score! >= 0 && s.rm_score! <= 1);
    assert.deepEqual(Object.keys(s.rm_dimensions ?? {}), MATH_DIMS);
  }
  assert.ok(failed.length >= 1, 'groups scored after the kill have no RM score');
  for (const s of failed) {
    assert.ok(
      s.errors.some((e) => /RM scoring failed/.test(e)),
      `the sample says the RM failed: ${s.errors.join('; ')}`,
    );
    assert.equal(s.reward, null, 'no reward without its RM term');
  }
}
