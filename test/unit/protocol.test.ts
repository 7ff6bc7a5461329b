import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  OFFICIAL_PROTOCOL,
  PROTOCOL_PRESET_KNOBS,
  ProtocolSchema,
  protocolOverrides,
  resolveProtocol,
  TRACELIFT_PROTOCOL,
} from '../../src/engine/contract';
import { PROMPT_SETS } from '../../src/engine/prompts/templates';

test('presets are complete knob sets', () => {
  for (const p of Object.values(PROTOCOL_PRESET_KNOBS)) ProtocolSchema.parse(p);
  assert.deepEqual(resolveProtocol(), TRACELIFT_PROTOCOL);
  assert.deepEqual(resolveProtocol({ preset: 'official' }), OFFICIAL_PROTOCOL);
});

test('the official preset is the official code (docs/official-protocol.md §1, §4)', () => {
  const o = resolveProtocol({ preset: 'official' });
  assert.equal(o.executor_api, 'completions');
  assert.equal(o.completion_prompt, 'official');
  assert.equal(o.prompt_set, 'official');
  assert.deepEqual(o.max_tokens, { math: 256, code: 768 });
  assert.deepEqual(o.truncation, { math: { problem: 2500, trace: 2000 }, code: { problem: 3500, trace: 2500 } });
  assert.deepEqual(o.empty_trace, { math: 'no_trace_prompt', code: 'with_trace_prompt' });
  assert.equal(o.baseline, 'per_trace');
  assert.equal(o.e2e_source, 'extra_call');
  assert.equal(o.code_outcome, 'first_failure');
  assert.equal(PROMPT_SETS[o.prompt_set].version, 'tracelift-prompts/official-421bd40');
});

test('ours keeps a trace budget: a 5 MB trace never reaches the executor whole', () => {
  for (const kind of ['math', 'code'] as const) {
    const limits = TRACELIFT_PROTOCOL.truncation[kind];
    assert.ok(limits.trace !== null && limits.trace <= 8_000);
    // Above every shipped benchmark problem (the longest, CodeContests, is 5,050 characters).
    assert.ok(limits.problem !== null && limits.problem > 5_050);
  }
});

test('each knob overrides the preset on its own, nested knobs in part', () => {
  const p = resolveProtocol({ preset: 'official', executor_api: 'chat', truncation: { code: { trace: null } }, max_tokens: { math: 96 } });
  assert.equal(p.preset, 'official');
  assert.equal(p.executor_api, 'chat');
  assert.deepEqual(p.truncation.code, { problem: 3500, trace: null });
  assert.deepEqual(p.truncation.math, { problem: 2500, trace: 2000 });
  assert.deepEqual(p.max_tokens, { math: 96, code: 768 });
  assert.equal(p.baseline, 'per_trace');
  assert.deepEqual(protocolOverrides(p).sort(), ['executor_api', 'max_tokens', 'truncation']);
  assert.deepEqual(protocolOverrides(OFFICIAL_PROTOCOL), []);
  const ours = resolveProtocol({ baseline: 'per_trace', code_outcome: 'first_failure' });
  assert.equal(ours.preset, 'tracelift');
  assert.deepEqual(protocolOverrides(ours).sort(), ['baseline', 'code_outcome']);
});

test('unknown knobs and bad values are refused, naming the field', () => {
  assert.throws(() => resolveProtocol({ preset: 'paper' as never }), /preset/);
  assert.throws(() => resolveProtocol({ baselines: 'cached' } as never), /baselines/);
  assert.throws(() => resolveProtocol({ top_p: 0 }), /top_p/);
  assert.throws(() => resolveProtocol({ truncation: { math: { trace: -5 } } }), /trace/);
  assert.throws(() => ProtocolSchema.parse({ ...OFFICIAL_PROTOCOL, extra: 1 }), /extra/);
});

test('a resolved protocol survives a JSON round trip (it is written into config.json)', () => {
  const p = resolveProtocol({ preset: 'official', truncation: { math: { trace: null } } });
  assert.deepEqual(ProtocolSchema.parse(JSON.parse(JSON.stringify(p))), p);
});
