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
  E2E_MODES,
  EVAL_OPTION_DEFAULTS,
  EXEC_STYLES,
  REWARD_MODE_DEFAULT_RULE,
  REWARD_MODES,
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
  for (const [key, values, fallback] of [
    ['execStyle', EXEC_STYLES, EVAL_OPTION_DEFAULTS.execStyle],
    ['e2e', E2E_MODES, EVAL_OPTION_DEFAULTS.e2e],
  ] as const) {
    const s = setting(key);
    assert.deepEqual({ enum: s.enum, enumDescriptions: s.enumDescriptions }, enumOf(values), key);
    assert.equal(s.default, fallback, key);
  }
  for (const key of ['executor.api', 'planner.api']) {
    const s = setting(key);
    assert.deepEqual({ enum: s.enum, enumDescriptions: s.enumDescriptions }, enumOf(API_KINDS), key);
  }
});

test('numeric eval settings default to the contract’s defaults', () => {
  assert.equal(setting('k').default, EVAL_OPTION_DEFAULTS.k);
  assert.equal(setting('baselineSamples').default, EVAL_OPTION_DEFAULTS.baselineSamples);
  assert.equal(setting('concurrency').default, EVAL_OPTION_DEFAULTS.concurrency);
  assert.equal(setting('planner.tracesPerProblem').default, EVAL_OPTION_DEFAULTS.tracesPerProblem);
  for (const key of ['rmUrl', 'judge.url', 'judge.model']) assert.equal(setting(key).default, '');
});
