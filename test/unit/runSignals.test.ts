/**
 * The run view's statistics: means with standard errors and Student-t 95 %
 * intervals, the group signal against its reference (Δ, "negative beats
 * reference"), the per-kind and per-step aggregates of the run index (with
 * step_metrics, checkpoints and a superseded group taken back out), the
 * group table's lists, and the runState message that carries them. Numbers
 * are worked out by hand from small fixtures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FlatGroupList, groupItemKey } from '../../src/extension/services/runs/groupQueries';
import { groupSignal } from '../../src/extension/services/runs/groupSignal';
import { RunIndex } from '../../src/extension/services/runs/runIndex';
import { RunSignals } from '../../src/extension/services/runs/runSignals';
import { addValue, emptyMean, meanInterval, t975 } from '../../src/extension/services/runs/stats';
import { eventLine, exactGroup, syntheticStarted, syntheticTrainingStep } from '../../src/extension/services/runs/syntheticRun';
import { runStateMessage, trainingMessage } from '../../src/extension/views/webviews/runMessages';
import { RunStateSchema, RunQuerySchema, TrainingStateSchema } from '../../src/webviewProtocol';
import type { RolloutGroup, RunEventInput } from '../../src/engine/contract';

const close = (a: number | null, b: number, eps = 1e-9) => assert.ok(a !== null && Math.abs(a - b) < eps, `${a} ≈ ${b}`);

function indexOf(events: Array<RunEventInput | RolloutGroup>): RunIndex {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-signals-'));
  fs.writeFileSync(path.join(dir, 'events.jsonl'), events.map(eventLine).join(''));
  const idx = new RunIndex(dir);
  const bytes = fs.readFileSync(path.join(dir, 'events.jsonl'));
  idx.ingest(bytes, 0);
  return idx;
}

/** Two groups-file groups. A: baseline 2/4, reference 2/4 (uplift 0), arithmetic_error 4/4 (+0.5, beats it), missing_condition 0/4 (−0.5).
 *  B: baseline 1/4, reference 3/4 (+0.5), arithmetic_error 2/4 (+0.25, Δ −0.25), missing_condition 1/4 (0, Δ −0.5). */
const groupA = (i = 0) =>
  exactGroup(i, {
    problemId: 'p-A',
    baseline: [2, 4],
    traces: [
      { source: 'positive', label: 'reference', k: 2, K: 4 },
      { source: 'negative', label: 'arithmetic_error', k: 4, K: 4 },
      { source: 'negative', label: 'missing_condition', k: 0, K: 4 },
    ],
  });
const groupB = (i = 1) =>
  exactGroup(i, {
    problemId: 'p-B',
    baseline: [1, 4],
    traces: [
      { source: 'positive', label: 'reference', k: 3, K: 4 },
      { source: 'negative', label: 'arithmetic_error', k: 2, K: 4 },
      { source: 'negative', label: 'missing_condition', k: 1, K: 4 },
    ],
  });

test('meanInterval: mean, sample sd, standard error and the Student-t 95 % interval', () => {
  const a = emptyMean();
  for (const x of [0, 0.5, 1]) addValue(a, x);
  const m = meanInterval(a);
  close(m.mean, 0.5);
  close(m.sd, 0.5);
  close(m.se, 0.5 / Math.sqrt(3));
  // t(0.975, 2) = 4.30265…
  close(m.lo, 0.5 - 4.302653 * (0.5 / Math.sqrt(3)), 1e-5);
  close(m.hi, 0.5 + 4.302653 * (0.5 / Math.sqrt(3)), 1e-5);
  // Taking a value back restores the figures of the other two.
  addValue(a, 1, -1);
  const two = meanInterval(a);
  close(two.mean, 0.25);
  close(two.sd, Math.SQRT1_2 / 2);
  // One value: a mean, no spread, no interval; null and NaN are not values.
  const one = emptyMean();
  addValue(one, 0.3);
  addValue(one, null);
  addValue(one, NaN);
  assert.deepEqual(meanInterval(one), { n: 1, mean: 0.3, sd: null, se: null, lo: null, hi: null });
  assert.deepEqual(meanInterval(emptyMean()), { n: 0, mean: null, sd: null, se: null, lo: null, hi: null });
  close(t975(1), 12.7062, 1e-4);
  close(t975(30), 2.0423, 1e-4);
  close(t975(1000), 1.9623, 1e-4);
});

test('groupSignal: reference uplift, Δ per trace, negatives that beat the reference', () => {
  const s = groupSignal(groupA());
  close(s.refUplift, 0);
  assert.deepEqual(s.deltas, [0, 0.5, -0.5]);
  assert.deepEqual(s.beats, [false, true, false]);
  assert.deepEqual(s.kinds, ['reference', 'arithmetic_error', 'missing_condition']);
  assert.equal(s.beatCount, 1);
  assert.equal(s.maxNegativeDelta, 0.5);
  assert.equal(s.best, 1, 'the best trace is the negative');
  // Two references: their mean is the reference; a negative equal to it does not beat it.
  const two = groupSignal(
    exactGroup(5, {
      baseline: [0, 4],
      traces: [
        { source: 'positive', k: 1, K: 4 },
        { source: 'positive', k: 3, K: 4 },
        { source: 'negative', label: 'x', k: 2, K: 4 },
      ],
    }),
  );
  close(two.refUplift, 0.5);
  assert.deepEqual(two.beats, [false, false, false]);
  // No reference (planner rollouts): no Δ at all.
  const none = groupSignal(exactGroup(6, { baseline: [1, 4], traces: [{ source: 'planner', k: 4, K: 4 }] }));
  assert.equal(none.refUplift, null);
  assert.deepEqual(none.deltas, [null]);
});

test('per-kind aggregates: n, mean uplift / Δ / reward with their intervals, beats; a superseded group is taken back out', () => {
  const idx = indexOf([syntheticStarted('kinds'), groupA(0), groupB(1)]);
  const kinds = Object.fromEntries([...idx.signals.kinds.values()].map((k) => [k.kind, k]));
  assert.deepEqual(Object.keys(kinds).sort(), ['arithmetic_error', 'missing_condition', 'reference']);
  const ref = kinds.reference!;
  assert.equal(ref.n, 2);
  const refUp = meanInterval(ref.uplift);
  close(refUp.mean, 0.25);
  close(refUp.se, 0.25); // values 0 and 0.5: sd √0.125, se sd/√2 = 0.25
  close(refUp.hi, 0.25 + 12.7062 * 0.25, 1e-4);
  const arith = kinds.arithmetic_error!;
  close(meanInterval(arith.uplift).mean, 0.375);
  close(meanInterval(arith.delta).mean, 0.125); // +0.5 and −0.25
  assert.equal(arith.beats, 1);
  const missing = kinds.missing_condition!;
  close(meanInterval(missing.delta).mean, -0.5);
  close(meanInterval(missing.delta).sd, 0);
  assert.equal(missing.beats, 0);
  assert.equal(idx.signals.beats, 1);
  assert.equal(idx.signals.withReference, 6);
  // Rewards default to the with-trace rate: reference 0.5 and 0.75.
  close(meanInterval(ref.reward).mean, 0.625);
  // The run's means: uplift over the 6 traces, baseline over the 2 groups.
  close(meanInterval(idx.signals.uplift).mean, (0 + 0.5 - 0.5 + 0.5 + 0.25 + 0) / 6);
  close(meanInterval(idx.signals.baseline).mean, (0.5 + 0.25) / 2);

  // The rows carry Δ and the flag; the group table lists the group whose negative beats its reference.
  const rows = [0, 1, 2].map((i) => idx.row(i));
  assert.deepEqual(
    rows.map((r) => r.delta),
    [0, 0.5, -0.5],
  );
  assert.ok(rows[1]!.flags.includes('beats-reference') && !rows[2]!.flags.includes('beats-reference'));
  const beatsOnly = idx.groupView({
    filter: { task: null, step: null, beatsOnly: true, errorsOnly: false },
    sort: { key: 'arrival', dir: 'desc' },
  });
  assert.equal(beatsOnly.n, 1);
  assert.equal(beatsOnly.idAt(0), 0);
  const info = idx.rows.groupInfo(0);
  assert.equal(info.beats, 1);
  assert.equal(info.bestIsNegative, true);
  assert.equal(info.bestLabel, 'arithmetic_error');
  assert.equal(info.refUplift, 0);
  assert.equal(info.maxNegativeDelta, 0.5);
  assert.equal(info.k, 6);
  assert.equal(info.K, 12);
  // The sample list filtered to negatives that beat their reference.
  const q = RunQuerySchema.parse({ filter: { beatsOnly: true } });
  assert.deepEqual(
    idx.rowsAt(idx.view(q).view, 0, 10).map((r) => r.sampleId),
    ['p-A#neg1'],
  );

  // A later event of group A's (step, problem_id) supersedes it: its traces leave the per-kind figures.
  const again = exactGroup(2, {
    problemId: 'p-A',
    baseline: [2, 4],
    traces: [
      { source: 'positive', label: 'reference', k: 4, K: 4 },
      { source: 'negative', label: 'arithmetic_error', k: 2, K: 4 },
    ],
  });
  idx.ingest(Buffer.from(eventLine(again)), idx.offset);
  const after = Object.fromEntries([...idx.signals.kinds.values()].map((k) => [k.kind, k]));
  assert.equal(after.reference!.n, 2);
  close(meanInterval(after.reference!.uplift).mean, (0.5 + 0.5) / 2);
  assert.equal(after.arithmetic_error!.n, 2);
  close(meanInterval(after.arithmetic_error!.delta).mean, (-0.5 + -0.25) / 2);
  assert.equal(after.arithmetic_error!.beats, 0);
  assert.equal(after.missing_condition!.n, 1);
  assert.equal(idx.signals.beats, 0);
  assert.equal(idx.liveGroupCount, 2);
});

test('the group table: expanded groups show their traces under them; keys find items again', () => {
  const idx = indexOf([syntheticStarted('table'), groupA(0), groupB(1)]);
  const view = idx.groupView({
    filter: { task: null, step: null, beatsOnly: false, errorsOnly: false },
    sort: { key: 'arrival', dir: 'desc' },
  });
  assert.equal(view.n, 2);
  const flat = new FlatGroupList(view, [0], idx.rows);
  assert.equal(flat.total, 5);
  const items = Array.from({ length: flat.total }, (_, i) => flat.itemAt(i));
  // Newest first: B, then A with its three traces.
  assert.deepEqual(items, [
    { kind: 'group', group: 1 },
    { kind: 'group', group: 0 },
    { kind: 'sample', group: 0, rowId: 0 },
    { kind: 'sample', group: 0, rowId: 1 },
    { kind: 'sample', group: 0, rowId: 2 },
  ]);
  items.forEach((item, i) => assert.equal(flat.indexOfKey(groupItemKey(item)), i));
  assert.equal(flat.indexOfKey(groupItemKey({ kind: 'sample', group: 1, rowId: 3 })), -1, 'a trace of a closed group is not shown');
  // Sorted by the best negative's Δ: A (+0.5) before B (−0.25).
  const byDelta = idx.groupView({
    filter: { task: null, step: null, beatsOnly: false, errorsOnly: false },
    sort: { key: 'delta', dir: 'desc' },
  });
  assert.deepEqual([byDelta.idAt(0), byDelta.idAt(1)], [0, 1]);
});

test('per-step aggregates of a training run: groups, reward per step with its interval, step_metrics, checkpoints', () => {
  const steps = [1, 2, 3].map((s) => syntheticTrainingStep(s, { promptsPerStep: 2, generations: 4, saveSteps: 2 }));
  const idx = indexOf([syntheticStarted('train', 'train'), ...steps.flat()]);
  const buckets = idx.signals.stepBuckets();
  assert.deepEqual(
    buckets.map((b) => [b.from, b.to, b.groups, b.traces]),
    [
      [1, 1, 2, 8],
      [2, 2, 2, 8],
      [3, 3, 2, 8],
    ],
  );
  steps.forEach((events, i) => {
    const groups = events.filter((e): e is RolloutGroup => e.type === 'rollout_group');
    const rewards = groups.flatMap((g) => g.samples.map((s) => s.reward?.value)).filter((v): v is number => v !== undefined);
    const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
    const sd = Math.sqrt(rewards.reduce((a, b) => a + (b - mean) ** 2, 0) / (rewards.length - 1));
    close(buckets[i]!.reward.mean, mean);
    close(buckets[i]!.reward.sd, sd);
    close(buckets[i]!.reward.hi, mean + t975(rewards.length - 1) * (sd / Math.sqrt(rewards.length)));
    const metrics = events.find((e) => e.type === 'step_metrics') as { metrics: Record<string, number> };
    close(buckets[i]!.metrics.loss!, metrics.metrics.loss!);
    close(buckets[i]!.metrics.time_update_s!, metrics.metrics.time_update_s!);
  });
  assert.deepEqual(idx.signals.checkpoints, [{ step: 2, path: 'checkpoints/checkpoint-2' }]);
  const msg = RunStateSchema.parse(runStateMessage(idx));
  assert.equal(msg.isTraining, true);
  const training = TrainingStateSchema.parse(trainingMessage(idx.signals));
  assert.equal(training.steps.length, 3);
  assert.equal(training.checkpointCount, 1);
  assert.deepEqual(
    msg.kinds.map((k) => [k.kind, k.n]),
    [['planner', 24]],
  );
  assert.equal(msg.liveGroups, 6);
  // An eval is no training run.
  const evalIdx = indexOf([syntheticStarted('eval'), groupA(0)]);
  assert.equal(runStateMessage(evalIdx).isTraining, false);
});

test('stepBuckets pools a long run into at most 200 buckets of a power-of-two width', () => {
  const s = new RunSignals();
  for (let step = 1; step <= 450; step++) s.setMetrics(step, { loss: step });
  const b = s.stepBuckets(200);
  assert.ok(b.length <= 200 && b.length > 100, `${b.length} buckets`);
  // Width 4: bucket [4, 7] holds steps 4–7 (loss mean 5.5); the first holds 1–3.
  assert.deepEqual([b[0]!.from, b[0]!.to], [1, 3]);
  close(b[0]!.metrics.loss!, 2);
  assert.deepEqual([b[1]!.from, b[1]!.to], [4, 7]);
  close(b[1]!.metrics.loss!, 5.5);
  assert.equal(b[b.length - 1]!.to, 450);
});
