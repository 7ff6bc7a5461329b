/**
 * `tracelift bench train`'s reading of a training run directory: per-step
 * timings, executor generations against the official G·(2K+1) per prompt,
 * and step 1 against steps that only revisit problems.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { trainRunFigures } from '../../src/engine/bench/trainBench';
import { RunWriter } from '../../src/engine/run/runDir';
import { parseTrainConfig, resolveTrainConfig } from '../../src/engine/train/trainConfig';
import { rolloutGroup } from '../helpers/runFixtures';

test('step figures of a run: timings, generations vs official, first visit vs revisits', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-bench-train-'));
  try {
    const config = resolveTrainConfig(
      parseTrainConfig({
        tasks: [{ task: 'gsm8k' }],
        max_steps: 4,
        num_generations: 4,
        k: 2,
        baseline_samples: 4,
        data_dir: dir,
        cache_dir: dir,
      }),
    );
    const { writer } = RunWriter.open(dir);
    writer.writeConfig(config);
    const time = new Date().toISOString();
    // Problems a, b, a, b: steps 3 and 4 revisit. The last step_metrics of a step counts.
    const plan: Array<[number, string, number]> = [
      [1, 'a', 12],
      [2, 'b', 12],
      [3, 'a', 8],
      [4, 'b', 8],
    ];
    for (const [step, problem, generations] of plan) {
      writer.append({ ...rolloutGroup(problem), time, step });
      if (step === 2) writer.append({ time, type: 'step_metrics', step, metrics: { executor_generations: 99 } });
      writer.append({
        time,
        type: 'step_metrics',
        step,
        metrics: { executor_generations: generations, time_generation_s: step, time_reward_s: 2, time_update_s: 1, time_step_s: step + 3 },
      });
    }
    const f = trainRunFigures(dir);
    assert.equal(f.steps, 4);
    assert.equal(f.official_generations_per_step, 1 * 4 * (2 * 2 + 1));
    assert.equal(f.executor_generations_per_step, 10);
    assert.equal(f.generations_ratio, 2);
    assert.equal(f.generations_step1, 12);
    assert.equal(f.generations_second_visit, 8);
    assert.deepEqual(
      f.per_step.map((s) => [s.step, s.problems.join(), s.revisit]),
      [
        [1, 'a', false],
        [2, 'b', false],
        [3, 'a', true],
        [4, 'b', true],
      ],
    );
    assert.equal(f.time_generation_s, 2.5);
    assert.equal(f.time_reward_s, 2);
    assert.equal(f.time_update_s, 1);
    assert.equal(f.time_step_s, 5.5);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a run whose steps never revisit a problem has no second-visit figure', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-bench-train-'));
  try {
    const config = resolveTrainConfig(parseTrainConfig({ tasks: [{ task: 'gsm8k' }], max_steps: 2, data_dir: dir, cache_dir: dir }));
    const { writer } = RunWriter.open(dir);
    writer.writeConfig(config);
    const time = new Date().toISOString();
    writer.append({ ...rolloutGroup('a'), time, step: 1 });
    writer.append({ time, type: 'step_metrics', step: 1, metrics: { executor_generations: 20 } });
    writer.append({ ...rolloutGroup('b'), time, step: 2 });
    writer.append({ time, type: 'step_metrics', step: 2, metrics: {} });
    const f = trainRunFigures(dir);
    assert.equal(f.generations_second_visit, null);
    assert.equal(f.executor_generations_per_step, 20, 'a step without the figure is left out of the mean');
    assert.equal(f.time_step_s, null);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
