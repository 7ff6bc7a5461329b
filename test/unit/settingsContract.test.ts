/**
 * The extension's settings (package.json contributes.configuration) offer
 * the contract's choices with the contract's descriptions and defaults: this
 * fails when one side changes without the other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  API_KINDS,
  AUTO_REWARD_MODE,
  BASELINE_ESTIMATORS,
  CODE_OUTCOME_RULES,
  COMPLETION_PROMPTS,
  E2E_CHOICES,
  EMPTY_TRACE_PROMPTS,
  EVAL_OPTION_DEFAULTS,
  EXEC_STYLES,
  FROM_PRESET,
  fromPresetDescription,
  PROMPT_SET_CHOICES,
  PROTOCOL_PRESET_CHOICES,
  REWARD_MODE_DEFAULT_RULE,
  REWARD_MODES,
  type Protocol,
} from '../../src/engine/contract';

interface Setting {
  default?: unknown;
  enum?: unknown[];
  enumDescriptions?: string[];
}
const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8'));
const settings = pkg.contributes.configuration.properties as Record<string, Setting>;
const setting = (key: string): Setting => {
  const s = settings[`tracelift.${key}`];
  assert.ok(s, `package.json declares tracelift.${key}`);
  return s;
};
const enumOf = (d: Readonly<Record<string, string>>) => ({ enum: Object.keys(d), enumDescriptions: Object.values(d) });

test('reward mode, exec style and e2e settings list the contract’s values and descriptions', () => {
  const reward = setting('rewardMode');
  assert.deepEqual(
    { enum: reward.enum, enumDescriptions: reward.enumDescriptions },
    {
      enum: [AUTO_REWARD_MODE, ...Object.keys(REWARD_MODES)],
      enumDescriptions: [REWARD_MODE_DEFAULT_RULE, ...Object.values(REWARD_MODES)],
    },
  );
  assert.equal(reward.default, AUTO_REWARD_MODE);
  const exec = setting('execStyle');
  assert.deepEqual({ enum: exec.enum, enumDescriptions: exec.enumDescriptions }, enumOf(EXEC_STYLES));
  assert.equal(exec.default, EVAL_OPTION_DEFAULTS.execStyle);
  const planner = setting('planner.api');
  assert.deepEqual({ enum: planner.enum, enumDescriptions: planner.enumDescriptions }, enumOf(API_KINDS));
});

test('protocol settings: the presets, and every knob offers "as the preset says" (its default) then the contract’s values', () => {
  const preset = setting('protocol.preset');
  assert.deepEqual({ enum: preset.enum, enumDescriptions: preset.enumDescriptions }, enumOf(PROTOCOL_PRESET_CHOICES));
  assert.equal(preset.default, EVAL_OPTION_DEFAULTS.protocol);
  const knobs: [string, Readonly<Record<string, string>>, (p: Protocol) => unknown][] = [
    ['executor.api', API_KINDS, (p) => p.executor_api],
    ['e2e', E2E_CHOICES, (p) => (p.e2e_source === 'extra_call' ? 'extra_call' : EVAL_OPTION_DEFAULTS.e2e)],
    ['protocol.baseline', BASELINE_ESTIMATORS, (p) => p.baseline],
    ['protocol.codeOutcome', CODE_OUTCOME_RULES, (p) => p.code_outcome],
    ['protocol.promptSet', PROMPT_SET_CHOICES, (p) => p.prompt_set],
    ['protocol.completionPrompt', COMPLETION_PROMPTS, (p) => p.completion_prompt],
    ['protocol.emptyTrace', EMPTY_TRACE_PROMPTS, (p) => `math ${p.empty_trace.math}, code ${p.empty_trace.code}`],
  ];
  for (const [key, choices, pick] of knobs) {
    const s = setting(key);
    assert.deepEqual(
      { enum: s.enum, enumDescriptions: s.enumDescriptions },
      { enum: [FROM_PRESET, ...Object.keys(choices)], enumDescriptions: [fromPresetDescription(pick), ...Object.values(choices)] },
      key,
    );
    assert.equal(s.default, FROM_PRESET, key);
  }
  // Numbers left to the preset are null by default.
  for (const key of ['executor.maxTokens', 'executor.topP', 'protocol.maxProblemChars', 'protocol.maxTraceChars'])
    assert.equal(setting(key).default, null, key);
});

test('executor endpoint settings default to the contract’s', () => {
  assert.equal(setting('executor.timeout').default, EVAL_OPTION_DEFAULTS.executorTimeoutS);
  assert.equal(setting('executor.retries').default, EVAL_OPTION_DEFAULTS.executorRetries);
  assert.equal(setting('executor.downAfterFailures').default, EVAL_OPTION_DEFAULTS.executorDownAfter);
});

test('numeric eval settings default to the contract’s defaults', () => {
  assert.equal(setting('k').default, EVAL_OPTION_DEFAULTS.k);
  assert.equal(setting('baselineSamples').default, EVAL_OPTION_DEFAULTS.baselineSamples);
  assert.equal(setting('concurrency').default, EVAL_OPTION_DEFAULTS.concurrency);
  assert.equal(setting('planner.tracesPerProblem').default, EVAL_OPTION_DEFAULTS.tracesPerProblem);
  for (const key of ['rmUrl', 'judge.url', 'judge.model']) assert.equal(setting(key).default, '');
});
