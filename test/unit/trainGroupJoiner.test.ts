/** Joining training samples into rollout groups by (step, problem): parts, splits, flushes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RolloutGroupSchema, type RolloutGroup } from '../../src/engine/contract';
import { GroupJoiner } from '../../src/engine/train/groupJoiner';
import { extractTrace } from '../../src/engine/train/traceExtraction';
import { rolloutGroup } from '../helpers/runFixtures';

/** A part of `n` samples of one problem at one step, with its own baseline record. */
function part(problemId: string, step: number, n: number, baselineSuccesses = 1): RolloutGroup {
  const base = rolloutGroup(problemId, 7);
  const attempts = Array.from({ length: 3 }, (_, i) => ({
    output: String(i),
    verdict: { correct: i < baselineSuccesses, extracted: String(i), status: null, tests_passed: null, tests_total: null, detail: null },
    error: null,
    finish_reason: 'stop',
    latency_ms: 1,
  }));
  return {
    ...base,
    step,
    baseline: {
      ...base.baseline,
      attempts,
      tally: { successes: baselineSuccesses, valid: 3, requested: 3, failed: 0, rate: baselineSuccesses / 3 },
    },
    samples: Array.from({ length: n }, (_, i) => ({ ...base.samples[0]!, sample_id: `${problemId}@${step}#${Math.random()}-${i}` })),
  };
}

function joiner(groupSize: number, poolBaselines = false) {
  const emitted: RolloutGroup[] = [];
  return { j: new GroupJoiner({ groupSize, poolBaselines, emit: (g) => emitted.push(g) }), emitted };
}

test('a group arriving whole is emitted at once, valid against the contract', () => {
  const { j, emitted } = joiner(4);
  j.add(part('p1', 1, 4));
  assert.equal(emitted.length, 1);
  assert.equal(emitted[0]!.samples.length, 4);
  assert.equal(emitted[0]!.step, 1);
  assert.equal(emitted[0]!.group_index, 7);
  RolloutGroupSchema.parse(emitted[0]);
  assert.equal(j.pending, 0);
});

test('parts of one (step, problem) from several requests are joined; other problems and steps stay apart', () => {
  const { j, emitted } = joiner(4);
  j.add(part('p1', 1, 2));
  j.add(part('p2', 1, 2));
  assert.equal(emitted.length, 0);
  j.add(part('p1', 1, 2));
  assert.equal(emitted.length, 1);
  assert.equal(emitted[0]!.problem_id, 'p1');
  assert.equal(emitted[0]!.samples.length, 4);
  assert.equal(j.pending, 1);
});

test('the shared baseline of a problem is kept once; per-trace baselines are pooled', () => {
  const shared = joiner(4);
  const a = part('p1', 1, 2, 1);
  shared.j.add(a);
  shared.j.add({ ...part('p1', 1, 2, 1), baseline: a.baseline });
  assert.equal(shared.emitted[0]!.baseline.attempts.length, 3);

  const pooled = joiner(4, true);
  pooled.j.add(part('p1', 1, 2, 1));
  pooled.j.add(part('p1', 1, 2, 3));
  const b = pooled.emitted[0]!.baseline;
  assert.equal(b.attempts.length, 6);
  assert.deepEqual([b.tally.successes, b.tally.valid, b.tally.requested], [4, 6, 6]);
  assert.equal(b.from_cache, false);
});

test('a part that overfills a group completes it and opens the next with the rest', () => {
  const { j, emitted } = joiner(4);
  j.add(part('p1', 1, 3));
  j.add(part('p1', 1, 3));
  assert.equal(emitted.length, 1);
  assert.equal(emitted[0]!.samples.length, 4);
  assert.equal(j.pending, 1);
  j.flushAll();
  assert.equal(emitted.length, 2);
  assert.equal(emitted[1]!.samples.length, 2);
  // One part split over two groups: its baseline object is counted once in each.
  assert.equal(emitted[0]!.baseline.attempts.length, 3);
});

test('partial groups are flushed when the step advances past them, not before', () => {
  const { j, emitted } = joiner(4);
  j.add(part('p1', 1, 3));
  j.add(part('p2', 1, 1));
  j.add(part('p3', 1, 2));
  assert.equal(emitted.length, 0);
  j.add(part('p1', 2, 1));
  assert.deepEqual(
    emitted.map((g) => [g.step, g.problem_id, g.samples.length]),
    [
      [1, 'p1', 3],
      [1, 'p2', 1],
      [1, 'p3', 2],
    ],
  );
  assert.equal(j.pending, 1);
  j.flushAll();
  assert.deepEqual(emitted.at(-1)!.step, 2);
  assert.equal(j.pending, 0);
});

test('a part without a step is refused', () => {
  const { j } = joiner(2);
  assert.throws(() => j.add({ ...part('p1', 1, 1), step: null }), /step/);
});

test('trace extraction: first <reasoning> block in any case, trimmed; else the whole completion; code takes it whole', () => {
  assert.equal(extractTrace('x <Reasoning>\n  add 2 and 3\n</REASONING> then <reasoning>two</reasoning>', 'math'), 'add 2 and 3');
  assert.equal(extractTrace('  no tags here \n', 'math'), 'no tags here');
  assert.equal(extractTrace('<reasoning>unterminated', 'math'), '<reasoning>unterminated');
  assert.equal(extractTrace('<reasoning></reasoning>', 'math'), '');
  assert.equal(extractTrace('\n<reasoning>plan</reasoning>\n', 'code'), '<reasoning>plan</reasoning>');
});
