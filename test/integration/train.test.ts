/**
 * SLOW (minutes on 2 cores): the embedded recipe trained for real — the TRL
 * trainer (backend/tracelift_backend/train) on SmolLM2-135M from the
 * embedded GGUF, the real reward service and the real embedded executor —
 * through the CLI: 2 GRPO steps, then a resume to step 3. Skipped, saying
 * why, where the training environment (TRL) or the embedded model is not
 * installed (scripts/setup.sh installs both).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunSummarySchema, TrainConfigSchema, type RunEvent } from '../../src/engine/contract';
import { computeReward } from '../../src/engine/reward/rewards';
import { readEvents } from '../../src/engine/run/runDir';
import { pythonPathFor } from '../../src/engine/util/python';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'src', 'cli', 'main.ts');
const RECIPE = path.join(ROOT, 'recipes', 'cpu-smollm2.json');

function missingEnvironment(): string | null {
  if (!fs.existsSync(path.join(ROOT, 'models', 'SmolLM2-135M-Instruct.Q4_1.gguf')))
    return 'the embedded model is not installed (scripts/setup.sh)';
  const probe = spawnSync(pythonPathFor(), ['-c', 'import trl, peft, gguf, llama_cpp'], { encoding: 'utf8' });
  return probe.status === 0 ? null : `the training environment is incomplete: ${probe.stderr.trim().split('\n').at(-1)}`;
}

function tracelift(args: string[], env: NodeJS.ProcessEnv) {
  const res = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 1_500_000,
    env: { ...process.env, ...env },
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

const ofType = <T extends RunEvent['type']>(events: RunEvent[], type: T) =>
  events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);

const skip = missingEnvironment();

test(
  'SLOW: tracelift train recipes/cpu-smollm2.json — 2 real GRPO steps on CPU, then a resume',
  { timeout: 3_000_000, skip: skip ?? false },
  () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-train-'));
    const out = path.join(tmp, 'run');
    const env = { TRACELIFT_CACHE_DIR: path.join(tmp, 'cache') };
    const first = tracelift(['train', RECIPE, '--out', out, '--max-steps', '2'], env);
    assert.equal(first.code, 0, `${first.stdout}\n${first.stderr.slice(-4000)}`);
    assert.match(first.stdout, /step 1\/2 {2}reward \S+/);
    assert.match(first.stdout, /step 2\/2 /);
    assert.match(first.stdout, /train completed/);

    const config = TrainConfigSchema.parse(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')));
    assert.equal(config.max_steps, 2);
    const { events, issues } = readEvents(out);
    assert.deepEqual(issues, []);
    assert.equal(events[0]!.type, 'run_started');
    assert.equal(ofType(events, 'run_started')[0]!.run_kind, 'train');
    const ended = ofType(events, 'run_ended');
    assert.equal(ended.length, 1);
    assert.equal(ended[0]!.status, 'completed');

    // Groups of every step, G=4 traces each, whose rewards are the engine's reward function of the recorded counts.
    const groups = ofType(events, 'rollout_group');
    assert.deepEqual([...new Set(groups.map((g) => g.step))].sort(), [1, 2]);
    for (const g of groups) {
      assert.equal(g.samples.length, config.num_generations, `group ${g.problem_id} at step ${g.step}`);
      assert.ok(g.baseline.tally.valid > 0);
      for (const s of g.samples) {
        assert.equal(s.source, 'planner');
        if (s.reward === null) {
          assert.ok(s.errors.length > 0, 'a missing reward says why');
          continue;
        }
        const expected = computeReward(
          {
            mode: config.reward.mode,
            taskKind: 'math',
            e2e: s.e2e!,
            execVerdict: null,
            withTraceSuccesses: s.with_trace.tally.successes,
            k: s.with_trace.tally.valid,
            baselineRate: g.baseline.tally.rate ?? 0,
            baselineSamples: g.baseline.tally.valid,
            rmScore: null,
            judgeScore: null,
          },
          { execStyle: config.reward.exec_style },
        );
        assert.equal(s.reward.value, expected.reward);
        // exec_only on math: the reward is the first valid with-trace sample's success.
        const first = s.with_trace.attempts.find((a) => a.verdict !== null)!;
        assert.equal(s.reward.value, first.verdict!.correct ? 1 : 0);
      }
    }

    const metrics = ofType(events, 'step_metrics');
    assert.deepEqual(
      metrics.map((m) => m.step),
      [1, 2],
    );
    for (const m of metrics) {
      assert.equal(typeof m.metrics.loss, 'number', `step ${m.step}: the trainer's loss`);
      assert.equal(typeof m.metrics.executor_generations, 'number', `step ${m.step}: the service's figures merged`);
      const rewards = groups.filter((g) => g.step === m.step).flatMap((g) => g.samples.map((s) => s.reward?.value ?? null));
      const valid = rewards.filter((r): r is number => r !== null);
      if (valid.length) assert.ok(Math.abs(m.metrics.reward_mean! - valid.reduce((a, b) => a + b, 0) / valid.length) < 1e-9);
      assert.equal(m.metrics.reward_null_count, rewards.length - valid.length);
    }
    const checkpoints = ofType(events, 'checkpoint');
    assert.ok(checkpoints.length >= 1, 'a checkpoint event');
    for (const c of checkpoints) assert.ok(fs.existsSync(path.join(out, c.path)), `${c.path} exists`);

    const summary = RunSummarySchema.parse(JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')));
    assert.equal(summary.status, 'completed');
    assert.equal(
      summary.micro.traces,
      groups.reduce((n, g) => n + g.samples.length, 0),
    );
    const all = groups.flatMap((g) => g.samples).filter((s) => s.reward !== null);
    if (all.length) assert.ok(Math.abs(summary.mean_reward! - all.reduce((a, s) => a + s.reward!.value, 0) / all.length) < 1e-9);
    const samples = fs.readFileSync(path.join(out, 'samples.jsonl'), 'utf8').trim().split('\n');
    assert.equal(samples.length, summary.micro.traces);
    assert.match(fs.readFileSync(path.join(out, 'trainer.log'), 'utf8'), /\S/);

    // Resume from the last checkpoint: the step count continues.
    const again = tracelift(['train', '--resume', out, '--max-steps', '3'], env);
    assert.equal(again.code, 0, `${again.stdout}\n${again.stderr.slice(-4000)}`);
    const after = readEvents(out).events;
    const starts = ofType(after, 'run_started');
    assert.equal(starts.length, 2);
    assert.equal(starts[1]!.resumed, true);
    assert.equal(Math.max(...ofType(after, 'step_metrics').map((m) => m.step)), 3);
    assert.ok(ofType(after, 'rollout_group').some((g) => g.step === 3));
    assert.equal(ofType(after, 'run_ended').at(-1)!.status, 'completed');
    fs.rmSync(tmp, { recursive: true, force: true });
  },
);
