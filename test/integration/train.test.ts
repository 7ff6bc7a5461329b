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
import { spawn, spawnSync } from 'node:child_process';
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

/** Waits until `check()` holds, polling; false at the deadline. */
async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return check();
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const status = path.join('/proc', String(pid), 'status');
  return !(fs.existsSync(status) && /\nState:\s+Z/.test(fs.readFileSync(status, 'utf8')));
}

/** Pids whose command line mentions `needle` (Linux /proc). */
function pidsMentioning(needle: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)
    .filter((d) => {
      try {
        return fs.readFileSync(path.join('/proc', d, 'cmdline'), 'utf8').includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number);
}

test(
  'SLOW: kill -9 of tracelift train mid-run: trainer and executor exit with it, nothing written is lost, the run resumes',
  { timeout: 3_000_000, skip: skip ?? (process.platform !== 'linux' ? 'reads /proc' : false) },
  async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-train-kill-'));
    const out = path.join(tmp, 'run');
    const env = { ...process.env, TRACELIFT_CACHE_DIR: path.join(tmp, 'cache') };
    const launcher = spawn(process.execPath, ['--import', 'tsx', CLI, 'train', RECIPE, '--out', out, '--max-steps', '3'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    launcher.stdout.on('data', (c: Buffer) => (output += c.toString()));
    launcher.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const eventsFile = path.join(out, 'events.jsonl');
    const stepped = await until(
      () => fs.existsSync(eventsFile) && fs.readFileSync(eventsFile, 'utf8').includes('"step_metrics"'),
      1_200_000,
    );
    assert.ok(stepped, `no step finished:\n${output.slice(-4000)}`);
    const executorUrl = /embedded executor ready at (\S+)/.exec(output)?.[1];
    assert.ok(executorUrl, 'the launcher started the embedded executor');
    const trainers = pidsMentioning(`--run-dir\0${out}`);
    assert.ok(trainers.length >= 1, 'the trainer process is found');

    const before = fs.readFileSync(eventsFile, 'utf8');
    const samplesBefore = fs.readFileSync(path.join(out, 'samples.jsonl'), 'utf8');
    launcher.kill('SIGKILL');
    await new Promise((r) => launcher.once('exit', r));

    // Its children notice (backend/tracelift_backend/parent_guard.py) and exit; nothing is left holding the port.
    assert.ok(await until(() => trainers.every((pid) => !processAlive(pid)), 60_000), 'the trainer outlived the killed launcher');
    const executorDown = await until(() => pidsMentioning(`--port\0${new URL(executorUrl).port}\0`).length === 0, 60_000);
    assert.ok(executorDown, 'the embedded executor outlived the killed launcher');

    // Nothing written is lost: what was there before the kill is still there, and every file reads.
    const after = fs.readFileSync(eventsFile, 'utf8');
    assert.ok(after.startsWith(before), 'events.jsonl lost or changed lines');
    assert.ok(fs.readFileSync(path.join(out, 'samples.jsonl'), 'utf8').startsWith(samplesBefore));
    const read = readEvents(out);
    assert.ok(read.issues.length <= 1, `only a cut last line may be unreadable: ${JSON.stringify(read.issues)}`);
    assert.ok(
      ofType(read.events, 'rollout_group').some((g) => g.step === 1),
      'step 1 groups survive',
    );
    RunSummarySchema.parse(JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')));
    TrainConfigSchema.parse(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')));

    // The crashed run resumes (from its last checkpoint, or from the first step when it had none).
    const again = tracelift(['train', '--resume', out, '--max-steps', '1'], { TRACELIFT_CACHE_DIR: env.TRACELIFT_CACHE_DIR });
    assert.equal(again.code, 0, `${again.stdout}\n${again.stderr.slice(-4000)}`);
    const resumed = readEvents(out).events;
    assert.equal(ofType(resumed, 'run_started').at(-1)!.resumed, true);
    assert.equal(ofType(resumed, 'run_ended').at(-1)!.status, 'completed');
    fs.rmSync(tmp, { recursive: true, force: true });
  },
);
