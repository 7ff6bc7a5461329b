/** The Test Explorer's arithmetic: problem ranges per eval and a problem's outcome from its scored group. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticGroup } from '../../src/extension/services/runs/syntheticRun';
import { outcomeText, PASS_RATE, problemOutcome, problemRanges } from '../../src/extension/services/testExplorer';

test('chosen problems become contiguous ranges, one eval each', () => {
  assert.deepEqual(problemRanges([]), []);
  assert.deepEqual(problemRanges([4]), [{ offset: 4, limit: 1 }]);
  assert.deepEqual(problemRanges([7, 0, 1, 2, 5, 6, 2]), [
    { offset: 0, limit: 3 },
    { offset: 5, limit: 3 },
  ]);
});

test('a problem passes when its mean with-trace success reaches the pass rate; a failure names its worst sample', () => {
  for (let i = 0; i < 20; i++) {
    const g = syntheticGroup(i);
    const o = problemOutcome(g);
    const rates = g.samples.flatMap((s) => (s.with_trace.tally.rate === null ? [] : [s.with_trace.tally.rate]));
    const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
    assert.ok(Math.abs(o.withTrace! - mean) < 1e-12);
    assert.equal(o.passed, mean >= PASS_RATE);
    assert.equal(o.withoutTrace, g.baseline.tally.rate);
    const worst = Math.min(...g.samples.map((s) => s.with_trace.tally.rate ?? -1));
    assert.equal(g.samples.find((s) => s.sample_id === o.sampleId)!.with_trace.tally.rate ?? -1, worst);
  }
  const g = syntheticGroup(3);
  for (const s of g.samples) {
    s.with_trace.tally.rate = 0.25;
    s.uplift = -0.125;
  }
  g.baseline.tally.rate = 0.375;
  const o = problemOutcome(g);
  assert.equal(o.passed, false);
  assert.equal(outcomeText(o), 'with trace 25%, without trace 38%, uplift -0.125');
});
