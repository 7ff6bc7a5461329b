import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJudgeScore } from '../../src/engine/reward/judge';
import { contractJsonSchemas } from '../../src/engine/contract/jsonSchemas';

test('judge scores are read from common reply shapes and normalised to [0,1]', () => {
  assert.equal(parseJudgeScore('Score: 7'), 0.7);
  assert.equal(parseJudgeScore('{"rubric_score": 9.5, "rubric_label": "strong"}'), 0.95);
  assert.equal(parseJudgeScore('I would give it 8/10.'), 0.8);
  assert.equal(parseJudgeScore('Score: 14'), 1);
  assert.equal(parseJudgeScore('no number here'), null);
});

test('the contract exports JSON Schemas with the fields other processes rely on', () => {
  const schemas = contractJsonSchemas() as Record<string, { anyOf?: unknown[]; oneOf?: unknown[]; properties?: Record<string, unknown> }>;
  for (const name of ['problem', 'groups_record', 'run_event', 'sample_row', 'run_summary', 'eval_config']) assert.ok(schemas[name], name);
  const events = JSON.stringify(schemas.run_event);
  for (const t of ['run_started', 'rollout_group', 'step_metrics', 'checkpoint', 'error', 'run_ended'])
    assert.ok(events.includes(`"${t}"`), t);
  assert.ok(schemas.groups_record!.properties!.negative_bank);
  assert.ok(schemas.run_summary!.properties!.mean_uplift);
});
