/**
 * The launcher's contract with the trainer, independent of TRL: a small
 * Python trainer written here reads config.json and train_prompts.jsonl,
 * posts rewards (each group split over two requests, as two GPUs would) and
 * events with the URL and token from its environment, checkpoints, honours
 * SIGTERM. The executor is a fake OpenAI server; the reward service, the run
 * writer and the scorer are the real ones.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TrainConfigSchema, type RunEvent } from '../../src/engine/contract';
import { readEvents, readSummary } from '../../src/engine/run/runDir';
import { launchTraining, type TrainLaunchRequest } from '../../src/engine/train/launcher';
import { pythonPathFor } from '../../src/engine/util/python';
import { startFakeOpenAI, type FakeServer } from '../helpers/fakeOpenAI';

const FAKE_TRAINER = String.raw`
import argparse, json, os, pathlib, signal, sys, time, urllib.request

p = argparse.ArgumentParser()
p.add_argument("--config", required=True)
p.add_argument("--run-dir", required=True)
p.add_argument("--resume", action="store_true")
p.add_argument("--max-steps", type=int)
a = p.parse_args()
url, token = os.environ["TRACELIFT_REWARD_URL"], os.environ["TRACELIFT_REWARD_TOKEN"]
print("args", json.dumps(sys.argv[1:]), "pythonpath", os.environ.get("PYTHONPATH", ""), flush=True)

def post(route, body):
    req = urllib.request.Request(url + route, data=json.dumps(body).encode(),
                                 headers={"authorization": "Bearer " + token, "content-type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=120))

stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)

config = json.load(open(a.config))
run = pathlib.Path(a.run_dir)
prompts = [json.loads(line) for line in open(run / "train_prompts.jsonl")]
start = 0
if a.resume:
    done = sorted(int(c.name.split("-")[1]) for c in (run / "checkpoints").glob("checkpoint-*"))
    start = done[-1] if done else 0
G = config["num_generations"]
for step in range(start, a.max_steps or config["max_steps"]):
    prompt = prompts[step % len(prompts)]
    items = [{"problem_id": prompt["problem_id"],
              "completion": "<reasoning>HELPFUL</reasoning>" if i % 2 == 0 else "ducks"} for i in range(G)]
    rewards = post("/v1/rewards", {"step": step, "items": items[: G // 2]})["rewards"]
    rewards += post("/v1/rewards", {"step": step, "items": items[G // 2 :]})["rewards"]
    print("step", step + 1, "rewards", rewards, flush=True)
    time.sleep(float(os.environ.get("FAKE_TRAINER_SLEEP", "0")))
    post("/v1/events", {"type": "step_metrics", "step": step + 1, "metrics": {"loss": 0.5 / (step + 1)}})
    if os.environ.get("FAKE_TRAINER_FAIL_AT") == str(step + 1):
        print("boom: simulated crash", file=sys.stderr, flush=True)
        sys.exit(3)
    if (step + 1) % config["save_steps"] == 0 or stop:
        folder = run / "checkpoints" / f"checkpoint-{step + 1}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "trainer_state.json").write_text("{}")
        post("/v1/events", {"type": "checkpoint", "step": step + 1, "path": f"checkpoints/checkpoint-{step + 1}"})
    if stop:
        print("stopped", flush=True)
        sys.exit(0)
`;

let executor: FakeServer;
let tmp: string;
let trainerScript: string;
let configFile: string;
const python = pythonPathFor();

before(async () => {
  executor = await startFakeOpenAI({ honourN: true, answer: (u) => (u.includes('HELPFUL') ? 'The answer is 72.' : 'The answer is 7.') });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-train-launcher-'));
  const data = path.join(tmp, 'data', 'gsm8k');
  fs.mkdirSync(data, { recursive: true });
  const rows = [
    { question: 'Natalia sold 48 clips in April and half as many in May. How many in all?', answer: '48/2 = 24\n48+24 = 72\n#### 72' },
    { question: 'Weng earns $12 an hour. How much for 50 minutes?', answer: '12/60*50 = 10\n#### 10' },
    { question: 'Betty needs $100 and has half. How much more?', answer: '#### 5' },
  ];
  fs.writeFileSync(path.join(data, 'train.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  trainerScript = path.join(tmp, 'fake_trainer.py');
  fs.writeFileSync(trainerScript, FAKE_TRAINER);
  configFile = path.join(tmp, 'config.json');
  fs.writeFileSync(
    configFile,
    JSON.stringify({
      tasks: [{ task: 'gsm8k', split: 'train', limit: 3 }],
      num_generations: 4,
      max_steps: 3,
      k: 2,
      baseline_samples: 4,
      save_steps: 2,
      device: 'cpu',
      reward: { mode: 'exec_only' },
      executor: { base_url: executor.url, model: 'fake', max_retries: 0 },
      data_dir: path.join(tmp, 'data'),
      cache_dir: path.join(tmp, 'cache'),
    }),
  );
});
after(async () => {
  await executor.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function request(runDir: string, extra: Partial<TrainLaunchRequest> = {}): TrainLaunchRequest & { seen: RunEvent[]; output: string[] } {
  const seen: RunEvent[] = [];
  const output: string[] = [];
  return {
    runDir,
    configFile,
    trainerCommand: [python, trainerScript],
    onEvent: (e) => seen.push(e),
    onTrainerOutput: (t) => output.push(t),
    seen,
    output,
    ...extra,
  };
}

const ofType = <T extends RunEvent['type']>(events: RunEvent[], type: T) =>
  events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);

test('a run: config.json, run_started, prompts, rewards for every step joined into groups, step_metrics, checkpoints, run_ended completed', async () => {
  const runDir = path.join(tmp, 'run');
  const req = request(runDir);
  const run = await launchTraining(req);
  const result = await run.done;
  assert.equal(result.status, 'completed', result.message ?? '');
  assert.equal(result.exitCode, 0);

  const config = TrainConfigSchema.parse(JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')));
  assert.equal(config.max_steps, 3);
  const prompts = fs
    .readFileSync(path.join(runDir, 'train_prompts.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    prompts.map((p) => p.problem_id),
    ['gsm8k/train/0', 'gsm8k/train/1', 'gsm8k/train/2'],
  );
  assert.ok(Array.isArray(prompts[0].prompt), 'chat messages by default');
  assert.match(prompts[0].prompt.at(-1).content, /<reasoning>[\s\S]*Natalia sold 48 clips/);

  const { events, issues } = readEvents(runDir);
  assert.deepEqual(issues, []);
  assert.equal(events[0]!.type, 'run_started');
  assert.equal((events[0] as Extract<RunEvent, { type: 'run_started' }>).run_kind, 'train');
  assert.equal(events.at(-1)!.type, 'run_ended');
  assert.equal((events.at(-1) as Extract<RunEvent, { type: 'run_ended' }>).status, 'completed');
  const groups = ofType(events, 'rollout_group');
  assert.deepEqual(
    groups.map((g) => [g.step, g.problem_id, g.samples.length]),
    [
      [1, 'gsm8k/train/0', 4],
      [2, 'gsm8k/train/1', 4],
      [3, 'gsm8k/train/2', 4],
    ],
  );
  // Problem 0's helpful trace makes the executor answer 72: reward 1, the others 0 (exec_only = e2e).
  assert.deepEqual(
    groups[0]!.samples.map((s) => s.reward?.value),
    [1, 0, 1, 0],
  );
  const metrics = ofType(events, 'step_metrics');
  assert.deepEqual(
    metrics.map((m) => m.step),
    [1, 2, 3],
  );
  assert.equal(metrics[0]!.metrics.loss, 0.5);
  assert.equal(metrics[0]!.metrics.reward_mean, 0.5);
  assert.deepEqual(
    ofType(events, 'checkpoint').map((c) => c.path),
    ['checkpoints/checkpoint-2'],
  );
  assert.equal(req.seen.length, events.length - 2, 'every event the service wrote was reported (not run_started/run_ended)');

  const log = fs.readFileSync(path.join(runDir, 'trainer.log'), 'utf8');
  assert.match(log, /step 1 rewards \[1, 0, 1, 0\]/);
  assert.ok(req.output.join('').includes('step 3 rewards'));
  const args = JSON.parse(/args (\[.*?\]) pythonpath/.exec(log)![1]!);
  assert.deepEqual(args, ['--config', path.join(runDir, 'config.json'), '--run-dir', runDir]);
  assert.match(log, /pythonpath \S*backend/);

  const summary = readSummary(runDir)!;
  assert.equal(summary.status, 'completed');
  assert.equal(summary.micro.traces, 12);
  assert.equal(summary.mean_reward, 2 / 12);
  assert.equal(summary.run_id, (events[0] as Extract<RunEvent, { type: 'run_started' }>).run_id);

  // Resume with a longer run: continues from checkpoint-2, same run id, the step count goes on.
  const resumed = await launchTraining({ ...request(runDir), configFile: null, maxSteps: 5 });
  const again = await resumed.done;
  assert.equal(again.status, 'completed', again.message ?? '');
  const after = readEvents(runDir).events;
  const starts = ofType(after, 'run_started');
  assert.equal(starts.length, 2);
  assert.equal(starts[1]!.resumed, true);
  assert.equal(starts[1]!.run_id, starts[0]!.run_id);
  assert.deepEqual(
    ofType(after, 'step_metrics').map((m) => m.step),
    [1, 2, 3, 3, 4, 5],
  );
  assert.equal(JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')).max_steps, 5);
  assert.match(fs.readFileSync(path.join(runDir, 'trainer.log'), 'utf8'), /"--resume", "--max-steps", "5"/);
  // Step 3 ran twice (before the checkpoint-2 resume and after): its later group supersedes the earlier one.
  assert.deepEqual(
    ofType(after, 'rollout_group').map((g) => g.step),
    [1, 2, 3, 3, 4, 5],
  );
  const total = readSummary(runDir)!;
  assert.equal(total.micro.traces, 20);
  assert.equal(total.status, 'completed');
  const carried = after.reduce((n, e) => n + ((e as { executor_generations?: number }).executor_generations ?? 0), 0);
  assert.equal(total.executor_generations, carried, 'generations summed over both invocations');
  assert.ok(carried > summary.executor_generations);
});

test('stop(): the trainer finishes its step, checkpoints and exits; the run is cancelled (exit 130)', async () => {
  const runDir = path.join(tmp, 'stopped');
  const req = request(runDir, { env: { FAKE_TRAINER_SLEEP: '1' } });
  const run = await launchTraining(req);
  // Ask once the first step's rewards are in (the trainer is then in its step).
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (req.seen.some((e) => e.type === 'rollout_group')) {
        clearInterval(timer);
        resolve();
      }
    }, 20);
  });
  run.stop();
  const result = await run.done;
  assert.equal(result.status, 'cancelled');
  assert.equal(result.exitCode, 130);
  const { events } = readEvents(runDir);
  assert.deepEqual(
    ofType(events, 'checkpoint').map((c) => c.step),
    [1],
  );
  const ended = ofType(events, 'run_ended')[0]!;
  assert.equal(ended.status, 'cancelled');
  assert.match(ended.message!, /stopped/);
});

test('a trainer that crashes fails the run with the last lines of its log', async () => {
  const runDir = path.join(tmp, 'crashed');
  const run = await launchTraining(request(runDir, { env: { FAKE_TRAINER_FAIL_AT: '1' } }));
  const result = await run.done;
  assert.equal(result.status, 'failed');
  assert.equal(result.exitCode, 1);
  assert.match(result.message!, /exited with code 3[\s\S]*boom: simulated crash/);
  const ended = ofType(readEvents(runDir).events, 'run_ended')[0]!;
  assert.equal(ended.status, 'failed');
  assert.equal(readSummary(runDir)!.status, 'failed');
});

test('refused before anything starts: a GPU recipe without a GPU, a directory that holds a run, a bad config', async () => {
  const noGpuPython = path.join(tmp, 'python-without-cuda');
  fs.writeFileSync(noGpuPython, '#!/bin/sh\necho False\n', { mode: 0o755 });
  const gpuConfig = path.join(tmp, 'gpu.json');
  fs.writeFileSync(gpuConfig, JSON.stringify({ ...JSON.parse(fs.readFileSync(configFile, 'utf8')), device: 'cuda' }));
  const gpuDir = path.join(tmp, 'gpu');
  await assert.rejects(
    launchTraining({ ...request(gpuDir), configFile: gpuConfig, pythonPath: noGpuPython }),
    /needs a GPU.*torch\.cuda\.is_available\(\) is False/s,
  );
  assert.equal(fs.existsSync(gpuDir), false, 'nothing was written');

  await assert.rejects(launchTraining(request(path.join(tmp, 'run'))), /already holds a run.*--resume/);

  const bad = path.join(tmp, 'bad.json');
  fs.writeFileSync(bad, JSON.stringify({ tasks: [{ task: 'gsm8k' }], max_steps: 2, num_generation: 4 }));
  await assert.rejects(launchTraining({ ...request(path.join(tmp, 'bad')), configFile: bad }), /num_generation/);
  await assert.rejects(launchTraining({ ...request(path.join(tmp, 'nothing')), configFile: null }), /no training run to resume/);
});
