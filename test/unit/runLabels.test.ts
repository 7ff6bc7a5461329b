/** The explorer's problem label says when the best uplift was scored by a perturbed (negative) trace. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunIndex } from '../../src/extension/services/runs/runIndex';
import { eventLine, exactGroup } from '../../src/extension/services/runs/syntheticRun';
import { describeProblem } from '../../src/extension/views/labels';

function problemLabel(traces: Parameters<typeof exactGroup>[1]['traces']): string {
  const idx = new RunIndex('/nowhere');
  idx.ingest(Buffer.from(eventLine(exactGroup(0, { problemId: 'p', baseline: [2, 4], traces }))), 0);
  return describeProblem(idx.problems()[0]!);
}

test('best by a negative is named; one that beats the reference is counted; a tie credits the reference', () => {
  assert.equal(
    problemLabel([
      { source: 'positive', label: 'reference', k: 2, K: 4 },
      { source: 'negative', label: 'arithmetic_error', k: 4, K: 4 },
      { source: 'negative', label: 'missing_condition', k: 4, K: 4 },
    ]),
    '3 traces · base 50% · best +0.500 by negative arithmetic_error · 2 negatives > reference',
  );
  assert.equal(
    problemLabel([
      { source: 'positive', label: 'reference', k: 4, K: 4 },
      { source: 'negative', label: 'arithmetic_error', k: 4, K: 4 },
    ]),
    '2 traces · base 50% · best +0.500',
  );
  assert.equal(problemLabel([{ source: 'planner', k: 1, K: 4 }]), '1 trace · base 50% · best −0.250');
});
