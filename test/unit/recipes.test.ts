/** Every recipe in recipes/ is a valid training config; the training config refuses what it cannot run, naming the field. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TrainConfigSchema, resolveProtocol } from '../../src/engine/contract';
import { PROMPT_SETS } from '../../src/engine/prompts/templates';
import { parseTrainConfig, readTrainConfigFile, resolveTrainConfig } from '../../src/engine/train/trainConfig';

const dir = path.join(__dirname, '..', '..', 'recipes');
const recipes = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));

test('the recipes are the embedded CPU default and the paper runs', () => {
  assert.deepEqual(recipes.sort(), ['cpu-smollm2.json', 'llama31-8b-math.json', 'qwen25-7b-math.json', 'qwen3-4b-code.json']);
});

for (const name of recipes) {
  test(`${name} validates against the training config schema and resolves`, () => {
    const file = path.join(dir, name);
    const config = readTrainConfigFile(file);
    assert.ok(fs.existsSync(path.resolve(dir, config.$schema!)), 'its $schema points at the exported JSON Schema');
    const resolved = resolveTrainConfig(config, {});
    const protocol = resolveProtocol(config.protocol);
    assert.equal(resolved.prompt_version, PROMPT_SETS[protocol.prompt_set].version);
    // What config.json will hold validates again (the Python side reads it against the same schema).
    TrainConfigSchema.parse(JSON.parse(JSON.stringify(resolved)));
  });
}

test('the embedded default: CPU, embedded planner and executor, LoRA, G=4, short completions, exec_only, a handful of GSM8K problems', () => {
  const c = readTrainConfigFile(path.join(dir, 'cpu-smollm2.json'));
  assert.equal(c.device, 'cpu');
  assert.equal(c.planner.model, 'embedded');
  assert.equal(c.executor, null);
  assert.ok(c.lora);
  assert.equal(c.num_generations, 4);
  assert.ok(c.max_completion_length <= 96);
  assert.equal(c.reward.mode, 'exec_only');
  assert.equal(c.tasks[0]!.task, 'gsm8k');
  assert.equal(c.tasks[0]!.split, 'train');
  assert.ok(c.tasks[0]!.limit !== null && c.tasks[0]!.limit <= 16);
});

test('the paper runs: official hyper-parameters, GPU, vLLM executor endpoint and the RM', () => {
  for (const name of ['qwen25-7b-math.json', 'llama31-8b-math.json', 'qwen3-4b-code.json']) {
    const c = readTrainConfigFile(path.join(dir, name));
    assert.equal(c.device, 'cuda', name);
    assert.equal(c.num_generations, 4, name);
    assert.equal(c.k, 3, name);
    assert.equal(c.max_steps, 600, name);
    assert.equal(c.max_completion_length, 512, name);
    assert.equal(c.temperature, 0.7, name);
    assert.equal(c.save_steps, 100, name);
    assert.equal(c.seed, 42, name);
    assert.equal(c.reward.mode, 'tracelift', name);
    assert.ok(c.reward.rm_url?.endsWith('/score'), name);
    assert.equal(c.executor?.api, 'completions', name);
    assert.equal(c.executor_sampling.temperature, 0.5, name);
    assert.equal(resolveProtocol(c.protocol).preset, 'official', name);
  }
  const math = readTrainConfigFile(path.join(dir, 'qwen25-7b-math.json'));
  assert.equal(math.learning_rate, 5e-6);
  assert.deepEqual([math.lora?.r, math.lora?.alpha, math.lora?.dropout], [16, 32, 0.05]);
  assert.equal(math.executor_sampling.max_tokens, 256);
  const code = readTrainConfigFile(path.join(dir, 'qwen3-4b-code.json'));
  assert.equal(code.learning_rate, 1e-6);
  assert.equal(code.lora, null);
  assert.equal(code.top_p, 0.95);
  assert.equal(code.executor_sampling.max_tokens, 768);
  assert.equal(code.reward.weights.code_rm, 0.2);
});

test('a bad config is refused with the field named', () => {
  const base = { tasks: [{ task: 'gsm8k' }], max_steps: 2 };
  assert.doesNotThrow(() => parseTrainConfig(base));
  assert.throws(() => parseTrainConfig({ ...base, learning_rat: 1e-5 }), /learning_rat/);
  assert.throws(() => parseTrainConfig({ ...base, num_generations: 1 }), /field "num_generations"/);
  assert.throws(() => parseTrainConfig({ ...base, lora: { r: 0 } }), /field "lora\.r"/);
  assert.throws(() => parseTrainConfig({ ...base, reward: { mode: 'tracelift' } }), /field "reward\.rm_url".*Reason RM/);
  assert.throws(() => parseTrainConfig({ tasks: [{ task: 'gsm8k' }] }), /field "max_steps"/);
  assert.throws(() => resolveTrainConfig(parseTrainConfig({ ...base, tasks: [{ task: 'nope' }] }), {}), /field "tasks\.0\.task"/);
  assert.throws(
    () => resolveTrainConfig(parseTrainConfig({ ...base, tasks: [{ task: 'gsm8k', split: 'dev' }] }), {}),
    /field "tasks\.0\.split"/,
  );
  assert.throws(() => resolveTrainConfig(parseTrainConfig({ ...base, prompt_version: 'v0' }), {}), /field "prompt_version"/);
});

test('defaults: no reward section is exec_only; --max-steps overrides the config', () => {
  const c = parseTrainConfig({ tasks: [{ task: 'gsm8k' }], max_steps: 5, data_dir: '/tmp', cache_dir: '/tmp/c' });
  assert.equal(c.reward.mode, 'exec_only');
  assert.equal(c.num_generations, 4);
  assert.equal(c.tasks[0]!.split, 'train');
  const r = resolveTrainConfig(c, { maxSteps: 9 });
  assert.equal(r.max_steps, 9);
  assert.equal(r.protocol.preset, 'tracelift');
  assert.equal(r.executor_sampling.top_p, r.protocol.top_p);
});
