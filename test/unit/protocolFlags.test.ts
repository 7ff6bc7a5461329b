/**
 * The protocol and endpoint flags of eval / baselines / bench: parsed into
 * the contract's values (hyphenated on the command line), unset knobs left
 * to the preset, bad values refused with the flag and what is allowed; and
 * what the config builder makes of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import {
  BASELINE_ESTIMATORS,
  CODE_OUTCOME_RULES,
  EndpointSchema,
  EVAL_OPTION_DEFAULTS,
  EvalConfigSchema,
  OFFICIAL_PROTOCOL,
  PROTOCOL_PRESET_CHOICES,
  resolveProtocol,
  TRACELIFT_PROTOCOL,
} from '../../src/engine/contract';
import { buildEvalConfig } from '../../src/engine/eval/buildConfig';
import { resolveExecutor } from '../../src/engine/executor/resolve';
import { PROMPT_SETS } from '../../src/engine/prompts/templates';
import { registerBaselinesCommand } from '../../src/cli/baselinesCommand';
import { registerBenchCommand } from '../../src/cli/benchCommand';
import { registerEvalCommand } from '../../src/cli/evalCommand';
import { executorRequestFromFlags, protocolInputFromFlags, type ExecutorFlags, type ProtocolFlags } from '../../src/cli/options';

function command(register: (p: Command) => void, ...names: string[]): Command {
  const program = new Command().exitOverride();
  register(program);
  let cmd: Command = program;
  for (const name of names) cmd = cmd.commands.find((c) => c.name() === name)!;
  return cmd.exitOverride().configureOutput({ writeErr: () => {} });
}

/** The flags as the action would get them (options parsed, the action not run). */
function flags(register: (p: Command) => void, names: string[], argv: string[]): Record<string, unknown> {
  const cmd = command(register, ...names);
  cmd.parseOptions(argv);
  return cmd.opts();
}
const evalFlags = (argv: string[]) => flags(registerEvalCommand, ['eval'], ['--task', 'gsm8k', ...argv]);

test('knob flags take hyphenated values and give the contract’s; unset knobs are left to the preset', () => {
  const f = evalFlags([
    '--protocol',
    'official',
    '--baseline',
    'cached',
    '--code-outcome',
    'summary',
    '--e2e',
    'extra-call',
    '--max-problem-chars',
    '0',
    '--max-trace-chars',
    '100',
    '--empty-trace',
    'with-trace-prompt',
    '--prompts',
    'tracelift',
    '--completion-prompt',
    'official',
  ]);
  assert.equal(f.e2e, 'extra_call');
  assert.equal(f.emptyTrace, 'with_trace_prompt');
  const protocol = resolveProtocol(protocolInputFromFlags(f as ProtocolFlags));
  assert.deepEqual(protocol, {
    ...OFFICIAL_PROTOCOL,
    baseline: 'cached',
    code_outcome: 'summary',
    prompt_set: 'tracelift',
    truncation: { math: { problem: null, trace: 100 }, code: { problem: null, trace: 100 } },
    empty_trace: { math: 'with_trace_prompt', code: 'with_trace_prompt' },
  });
  // The underscore form is accepted too.
  assert.equal(evalFlags(['--baseline', 'per_trace']).baseline, 'per_trace');

  const bare = evalFlags([]);
  assert.equal(bare.protocol, EVAL_OPTION_DEFAULTS.protocol);
  for (const knob of [
    'baseline',
    'codeOutcome',
    'e2e',
    'prompts',
    'completionPrompt',
    'emptyTrace',
    'maxProblemChars',
    'executorApi',
    'maxTokens',
    'topP',
  ])
    assert.equal(bare[knob], undefined, `${knob} has no default of its own`);
  assert.deepEqual(resolveProtocol(protocolInputFromFlags(bare as ProtocolFlags)), TRACELIFT_PROTOCOL);
  assert.deepEqual(resolveProtocol(protocolInputFromFlags(evalFlags(['--protocol', 'official']) as ProtocolFlags)), OFFICIAL_PROTOCOL);
});

test('endpoint flags: timeout in seconds, retries, down-after (0 = never) reach the executor request', async () => {
  const f = evalFlags([
    '--executor-url',
    'http://127.0.0.1:9/v1',
    '--executor-model',
    'm',
    '--executor-timeout',
    '2.5',
    '--executor-retries',
    '0',
    '--executor-down-after',
    '0',
    '--top-p',
    '0.9',
  ]);
  const req = executorRequestFromFlags(f as unknown as ExecutorFlags);
  assert.equal(req.timeoutMs, 2500);
  assert.equal(req.maxRetries, 0);
  assert.equal(req.downAfterFailures, 0);
  const executor = await resolveExecutor(req);
  assert.equal(executor.endpoint.timeout_ms, 2500);
  assert.equal(executor.endpoint.max_retries, 0);
  assert.equal(executor.endpoint.down_after_failures, 0);
  // Unset: the contract's defaults.
  const plain = await resolveExecutor(
    executorRequestFromFlags(evalFlags(['--executor-url', 'http://127.0.0.1:9/v1', '--executor-model', 'm']) as unknown as ExecutorFlags),
  );
  assert.equal(plain.endpoint.timeout_ms, EVAL_OPTION_DEFAULTS.executorTimeoutS * 1000);
  assert.equal(plain.endpoint.max_retries, EVAL_OPTION_DEFAULTS.executorRetries);
  assert.equal(plain.endpoint.down_after_failures, EVAL_OPTION_DEFAULTS.executorDownAfter);
});

test('bad values name the flag and what is allowed', () => {
  const refused = (argv: string[], message: RegExp) => assert.throws(() => evalFlags(argv), message);
  refused(['--baseline', 'fresh'], /option '--baseline <how>' argument 'fresh' is invalid\. expected one of: cached, per-trace/);
  refused(['--code-outcome', 'x'], /'--code-outcome <rule>' argument 'x' is invalid\. expected one of: summary, first-failure/);
  refused(['--e2e', 'last'], /'--e2e <how>' argument 'last' is invalid\. expected one of: first, mean, extra-call/);
  refused(['--empty-trace', 'none'], /expected one of: with-trace-prompt, no-trace-prompt/);
  refused(['--protocol', 'paper'], /'--protocol <preset>' argument 'paper' is invalid\. Allowed choices are tracelift, official/);
  refused(['--executor-retries', '-1'], /'--executor-retries <n>' argument '-1' is invalid\. expected a whole number ≥ 0/);
  refused(['--executor-down-after', '2.5'], /'--executor-down-after <n>' argument '2.5' is invalid/);
  refused(['--executor-timeout', '0'], /'--executor-timeout <seconds>' argument '0' is invalid\. expected a number > 0/);
  refused(['--top-p', '1.5'], /'--top-p <p>' argument '1.5' is invalid\. expected a number in \(0, 1\]/);
  refused(['--max-trace-chars', 'lots'], /'--max-trace-chars <n>' argument 'lots' is invalid/);
});

test('help lists every knob value with the contract’s description', () => {
  const evalCmd = command(registerEvalCommand, 'eval');
  const help = (flag: string) => evalCmd.options.find((o) => o.long === flag)!.description;
  for (const [value, description] of Object.entries(BASELINE_ESTIMATORS))
    assert.ok(help('--baseline').includes(`${value.replace(/_/g, '-')}: ${description}`));
  for (const [value, description] of Object.entries(CODE_OUTCOME_RULES))
    assert.ok(help('--code-outcome').includes(`${value.replace(/_/g, '-')}: ${description}`));
  for (const [value, description] of Object.entries(PROTOCOL_PRESET_CHOICES))
    assert.ok(help('--protocol').includes(`${value}: ${description}`));
  assert.match(help('--max-tokens'), /math tracelift: 96, official: 256/);
});

test('baselines offers only the knobs that shape a no-trace prompt; bench all of them', () => {
  const baselines = command(registerBaselinesCommand, 'baselines');
  const has = (cmd: Command, flag: string) => cmd.options.some((o) => o.long === flag);
  for (const flag of [
    '--protocol',
    '--prompts',
    '--completion-prompt',
    '--max-problem-chars',
    '--executor-timeout',
    '--executor-retries',
    '--executor-down-after',
    '--top-p',
  ])
    assert.ok(has(baselines, flag), `baselines ${flag}`);
  for (const flag of ['--baseline', '--e2e', '--max-trace-chars', '--code-outcome'])
    assert.ok(!has(baselines, flag), `baselines has no ${flag}`);
  const bench = command(registerBenchCommand, 'bench', 'reward');
  for (const flag of ['--protocol', '--baseline', '--code-outcome', '--max-trace-chars', '--executor-timeout'])
    assert.ok(has(bench, flag), `bench ${flag}`);
});

test('the config: executor sampling and prompt version from the protocol, --e2e over the preset’s e2e source', () => {
  const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tl-flags-'));
  const executor = { endpoint: EndpointSchema.parse({ base_url: 'http://127.0.0.1:9/v1', model: 'm' }), origin: 'configured' as const };
  const base = { task: 'gsm8k', traceSource: { kind: 'reference' as const }, executor, dataDir: tmp(), cacheDir: tmp() };

  const official = buildEvalConfig({ ...base, protocol: { preset: 'official' } });
  assert.equal(official.executor_sampling.max_tokens, OFFICIAL_PROTOCOL.max_tokens.math);
  assert.equal(official.executor_sampling.top_p, OFFICIAL_PROTOCOL.top_p);
  assert.equal(official.prompt_version, PROMPT_SETS.official.version);
  assert.equal(official.protocol.e2e_source, 'extra_call');

  const firstOfK = buildEvalConfig({ ...base, protocol: { preset: 'official' }, e2e: 'mean', maxTokens: 40, topP: 0.5 });
  assert.equal(firstOfK.protocol.e2e_source, 'with_trace');
  assert.equal(firstOfK.reward.e2e, 'mean');
  assert.equal(firstOfK.executor_sampling.max_tokens, 40);
  assert.equal(firstOfK.executor_sampling.top_p, 0.5);

  const extra = buildEvalConfig({ ...base, e2e: 'extra_call' });
  assert.equal(extra.protocol.preset, 'tracelift');
  assert.equal(extra.protocol.e2e_source, 'extra_call');
  assert.equal(extra.reward.e2e, EVAL_OPTION_DEFAULTS.e2e);

  const ours = buildEvalConfig(base);
  assert.deepEqual(ours.protocol, TRACELIFT_PROTOCOL);
  assert.equal(ours.prompt_version, PROMPT_SETS.tracelift.version);
  assert.equal(ours.executor_sampling.top_p, TRACELIFT_PROTOCOL.top_p);

  const judged = buildEvalConfig({ ...base, judgeUrl: 'http://127.0.0.1:9/v1', judgeKeyEnv: 'JUDGE_KEY' });
  assert.equal(judged.reward.judge?.api_key_env, 'JUDGE_KEY');

  // A config.json written before the protocol existed is read as ours.
  const { protocol: _dropped, ...old } = JSON.parse(JSON.stringify(ours)) as Record<string, unknown>;
  assert.deepEqual(EvalConfigSchema.parse(old).protocol, TRACELIFT_PROTOCOL);
});
