import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command, type Option } from 'commander';
import {
  defaultRewardMode,
  E2E_CHOICES,
  E2eChoiceSchema,
  E2eModeSchema,
  EVAL_OPTION_DEFAULTS,
  EXEC_STYLES,
  ExecStyleSchema,
  REWARD_MODES,
  RewardModeSchema,
  describedChoices,
  TRACELIFT_PROTOCOL,
} from '../../src/engine/contract';
import { buildEvalConfig } from '../../src/engine/eval/buildConfig';
import { assembleRun, buildRunComponents } from '../../src/engine/eval/runComponents';
import type { OutputVerifier } from '../../src/engine/verify';
import { registerEvalCommand } from '../../src/cli/evalCommand';
import { registerBaselinesCommand } from '../../src/cli/baselinesCommand';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tl-run-'));
const executor = {
  endpoint: {
    base_url: 'http://127.0.0.1:9/v1',
    model: 'm',
    api: 'chat',
    api_key_env: null,
    timeout_ms: 1000,
    max_retries: 0,
    concurrency: 2,
    n_sampling: 'no',
  },
  origin: 'configured',
} as const;

test('the reward mode default rule lives in one function', () => {
  assert.equal(defaultRewardMode({ rmUrl: 'http://rm/score', judgeUrl: 'http://judge/v1' }), 'tracelift');
  assert.equal(defaultRewardMode({ judgeUrl: 'http://judge/v1' }), 'llm_judge');
  assert.equal(defaultRewardMode({}), 'exec_only');
  const config = buildEvalConfig({ task: 'gsm8k', traceSource: { kind: 'reference' }, executor, dataDir: tmp(), cacheDir: tmp() });
  assert.equal(config.reward.mode, 'exec_only');
  assert.equal(config.k, EVAL_OPTION_DEFAULTS.k);
  assert.equal(config.baseline_samples, EVAL_OPTION_DEFAULTS.baselineSamples);
  assert.equal(config.executor_sampling.max_tokens, TRACELIFT_PROTOCOL.max_tokens.math);
  assert.equal(config.executor_sampling.temperature, EVAL_OPTION_DEFAULTS.executorTemperature);
  assert.equal(config.reward.exec_style, EVAL_OPTION_DEFAULTS.execStyle);
  const code = buildEvalConfig({
    task: 'mbpp',
    traceSource: { kind: 'reference' },
    executor,
    dataDir: tmp(),
    cacheDir: tmp(),
    judgeUrl: 'http://judge/v1',
  });
  assert.equal(code.executor_sampling.max_tokens, TRACELIFT_PROTOCOL.max_tokens.code);
  assert.equal(code.reward.mode, 'llm_judge');
  assert.equal(code.reward.judge?.model, EVAL_OPTION_DEFAULTS.judgeModel);
});

test('every enum choice has a description, in enum order', () => {
  assert.deepEqual(
    describedChoices(REWARD_MODES).map((c) => c.value),
    RewardModeSchema.options,
  );
  assert.deepEqual(
    describedChoices(EXEC_STYLES).map((c) => c.value),
    ExecStyleSchema.options,
  );
  assert.ok(ExecStyleSchema.options.includes(EVAL_OPTION_DEFAULTS.execStyle));
  assert.ok(E2eModeSchema.options.includes(EVAL_OPTION_DEFAULTS.e2e));
});

function command(register: (p: Command) => void, name: string): Command {
  const program = new Command().exitOverride();
  register(program);
  return program.commands
    .find((c) => c.name() === name)!
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
}
const option = (cmd: Command, flag: string) => cmd.options.find((o: Option) => o.long === flag)!;

test('the CLI takes its choices and defaults from the contract', () => {
  const evalCmd = command(registerEvalCommand, 'eval');
  assert.deepEqual(option(evalCmd, '--reward-mode').argChoices, RewardModeSchema.options);
  assert.deepEqual(option(evalCmd, '--exec-style').argChoices, ExecStyleSchema.options);
  assert.equal(option(evalCmd, '--exec-style').defaultValue, EVAL_OPTION_DEFAULTS.execStyle);
  for (const value of E2eChoiceSchema.options)
    assert.ok(option(evalCmd, '--e2e').description.includes(`${value.replace(/_/g, '-')}: ${E2E_CHOICES[value]}`));
  assert.equal(option(evalCmd, '--k').defaultValue, EVAL_OPTION_DEFAULTS.k);
  assert.equal(option(evalCmd, '--m').defaultValue, EVAL_OPTION_DEFAULTS.baselineSamples);
  assert.equal(option(evalCmd, '--temperature').defaultValue, EVAL_OPTION_DEFAULTS.executorTemperature);
  for (const mode of RewardModeSchema.options)
    assert.ok(option(evalCmd, '--reward-mode').description.includes(`${mode}: ${REWARD_MODES[mode]}`));
  const baselines = command(registerBaselinesCommand, 'baselines');
  assert.equal(option(baselines, '--m').defaultValue, EVAL_OPTION_DEFAULTS.baselineSamples);
  assert.throws(
    () => evalCmd.parse(['--task', 'gsm8k', '--reward-mode', 'nope'], { from: 'user' }),
    /Allowed choices are tracelift, exec_only/,
  );
});

test('no CLI module imports main.ts (main only wires the commands)', () => {
  const dir = path.resolve(__dirname, '../../src/cli');
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'main.ts')) {
    assert.doesNotMatch(fs.readFileSync(path.join(dir, f), 'utf8'), /from '\.\/main'/, f);
  }
});

test('eval and baselines assemble the same scorer settings, so their baseline cache keys match', async () => {
  const dataDir = tmp();
  const cacheDir = tmp();
  const common = { task: 'gsm8k', m: 5, temperature: 0.3, dataDir, cacheDir } as const;
  const exec = { url: executor.endpoint.base_url, model: 'm' };
  const evalRun = await assembleRun({
    config: { ...common, k: 4, traceSource: { kind: 'reference' }, rmUrl: 'http://rm/score' },
    executor: exec,
  });
  const baselinesRun = await assembleRun({ config: { ...common, traceSource: { kind: 'reference' } }, executor: exec });
  try {
    for (const run of [evalRun, baselinesRun]) {
      assert.equal(run.cache?.file, path.join(cacheDir, 'baselines.jsonl'));
      assert.equal(run.scorer.opts.baselineSamples, 5);
    }
    assert.deepEqual(evalRun.scorer.opts.sampling, baselinesRun.scorer.opts.sampling);
    assert.equal(evalRun.scorer.opts.executorIdentity, baselinesRun.scorer.opts.executorIdentity);
    assert.equal(evalRun.scorer.opts.prompts.version, baselinesRun.scorer.opts.prompts.version);
    assert.equal(evalRun.verifier.version, baselinesRun.verifier.version);
    assert.equal(evalRun.scorer.opts.k, 4);
    assert.equal(evalRun.config.reward.mode, 'tracelift');
  } finally {
    await evalRun.close();
    await baselinesRun.close();
  }
});

test('the factory: a judge only with a judge endpoint, no cache with noCache, a shared verifier left open', async () => {
  const base = { task: 'gsm8k', traceSource: { kind: 'reference' }, executor, dataDir: tmp(), cacheDir: tmp() } as const;
  let closed = 0;
  const shared: OutputVerifier = {
    version: 'v',
    verify: async () => ({ correct: true, extracted: null, status: 'correct', tests_passed: null, tests_total: null, detail: null }),
    close: async () => void closed++,
  };
  const plain = buildRunComponents(buildEvalConfig(base), { executorIdentity: 'x', verifier: shared, noCache: true });
  assert.equal(plain.judge, null);
  assert.equal(plain.cache, null);
  assert.equal(plain.verifier, shared);
  await plain.close();
  assert.equal(closed, 0);
  const judged = buildRunComponents(buildEvalConfig({ ...base, judgeUrl: 'http://127.0.0.1:9/v1' }), { executorIdentity: 'x' });
  assert.notEqual(judged.judge, null);
  assert.notEqual(judged.cache, null);
  assert.equal(judged.scorer.opts.judge, judged.judge);
  await judged.close();
});

test('a missing traces file fails before an executor is started', async () => {
  const started = Date.now();
  await assert.rejects(
    assembleRun({
      config: { task: 'gsm8k', traceSource: { kind: 'file', path: path.join(tmp(), 'none.jsonl') }, dataDir: tmp() },
      executor: {},
    }),
    /Traces file not found/,
  );
  assert.ok(Date.now() - started < 2000, 'no embedded server was started');
});
