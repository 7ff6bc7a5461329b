/**
 * The trace diff shows each side's measured uplift (k/K, b/M, uplift with its
 * Newcombe 95 % interval, reward), which side is the reference, and flags a
 * negative that beats its reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseGroupLine } from '../../src/engine/groups';
import type { MeasuredSample } from '../../src/extension/services/measuredUplift';
import { groupRecordPairs, pairOfTexts } from '../../src/extension/views/webviews/diffSegments';
import { measuredFromMeta, measuredTraceOf, upliftInterval, wilson } from '../../src/extension/views/webviews/measuredTrace';
import { TraceDiffController } from '../../src/extension/views/webviews/traceDiffController';
import { DiffViewSchema } from '../../src/webviewProtocol';

const FIXTURE = path.resolve(__dirname, '..', 'fixtures', 'groups.gsm8k.jsonl');
const firstLine = fs.readFileSync(FIXTURE, 'utf8').split('\n')[0]!;
const record = parseGroupLine(firstLine, FIXTURE, 1);
const P = record.problem_id;

function near(actual: number | null | undefined, expected: number, eps = 5e-5): void {
  assert.ok(typeof actual === 'number' && Math.abs(actual - expected) < eps, `${actual} ≠ ${expected}`);
}

function sample(id: string, k: number, b: number, extra: Partial<MeasuredSample> = {}): MeasuredSample {
  return {
    run: 'uplift-run',
    runDir: '/runs/uplift-run',
    sampleId: `${P}#${id}`,
    source: id.startsWith('neg') ? 'negative' : 'positive',
    label: null,
    k,
    K: 3,
    failed: 0,
    withRate: k / 3,
    baselineSuccesses: b,
    baselineValid: 8,
    baselineRate: b / 8,
    uplift: k / 3 - b / 8,
    reward: k / 3,
    ...extra,
  };
}

test('Wilson and Newcombe intervals match the published examples', () => {
  // Newcombe (1998), Statistics in Medicine 17:873, table II example (a): 56/70 − 48/80, method 10.
  const iv = upliftInterval(56, 70, 48, 80)!;
  near(iv.lo, 0.0524, 1e-4);
  near(iv.hi, 0.3339, 1e-4);
  // Wilson 95 % for 0/3 is [0, 0.5615]: a rate of 0 from three tries is not certain.
  near(wilson(0, 3)!.hi, 0.56149, 1e-4);
  assert.equal(wilson(0, 3)!.lo, 0);
  // Zero successes with and without the trace: the uplift is 0, but the interval is wide (Wald would say 0 ± 0).
  const zero = upliftInterval(0, 3, 0, 8)!;
  assert.ok(zero.lo < -0.3 && zero.hi > 0.5, JSON.stringify(zero));
  assert.equal(upliftInterval(1, 0, 0, 8), null);
});

test('a measured groups record: the reference on the left, each side measured, a negative above its reference flagged', () => {
  // Reference 1/3 vs baseline 2/8; neg0 (calculation_error) 3/3: it beats the reference; neg1 0/3 does not.
  const measured = new Map(
    [sample('pos0', 1, 2), sample('neg0', 3, 2), sample('neg1', 0, 2)].map((s) => [s.sampleId, measuredTraceOf(s)] as const),
  );
  const { view } = groupRecordPairs(record, 'f:1', measured);
  DiffViewSchema.parse(view);
  const [p0, p1, p2] = view.pairs;
  assert.equal(p0!.reference, 'left');
  assert.equal(p0!.kind, 'calculation_error');
  near(p0!.left.measured!.uplift, 1 / 3 - 2 / 8);
  assert.deepEqual(
    [p0!.left.measured!.k, p0!.left.measured!.K, p0!.left.measured!.baselineSuccesses, p0!.left.measured!.baselineValid],
    [1, 3, 2, 8],
  );
  near(p0!.right.measured!.uplift, 1 - 2 / 8);
  near(p0!.right.measured!.reward, 1);
  const iv = upliftInterval(3, 3, 2, 8)!;
  near(p0!.right.measured!.upliftLo, iv.lo);
  near(p0!.right.measured!.upliftHi, iv.hi);
  assert.equal(p0!.negativeBeatsReference, true);
  assert.equal(p1!.negativeBeatsReference, false, 'neg1 scored below the reference');
  assert.equal(p2!.right.measured ?? null, null, 'neg2 was not measured');
  assert.equal(p2!.negativeBeatsReference, false);

  // Unmeasured record: no figures, nothing flagged.
  const bare = groupRecordPairs(record, 'f:1').view;
  assert.ok(bare.pairs.every((p) => (p.left.measured ?? null) === null && p.negativeBeatsReference === false));
});

test('an extra positive above the reference is not a negative beating it', () => {
  const rec = parseGroupLine(
    JSON.stringify({
      ...JSON.parse(firstLine),
      positive_pool: [...(JSON.parse(firstLine) as { positive_pool: unknown[] }).positive_pool, { reasoning: 'another' }],
    }),
    FIXTURE,
    1,
  );
  const measured = new Map([sample('pos0', 0, 2), sample('pos1', 3, 2)].map((s) => [s.sampleId, measuredTraceOf(s)] as const));
  const pair = groupRecordPairs(rec, 'f:1', measured).view.pairs.find((p) => p.kind === 'positive')!;
  assert.equal(pair.negativeBeatsReference, false);
});

test('two run samples: the facts they carry are their measurement, and the reference side is recognised', () => {
  const left = {
    title: `${P} · ${P}#neg0`,
    text: 'a b c',
    meta: { sample_id: `${P}#neg0`, label: 'calculation_error', uplift: 0.5, reward: 0.9, k: 3, K: 3 },
  };
  const right = {
    title: `${P} · ${P}#pos0`,
    text: 'a b d',
    meta: { sample_id: `${P}#pos0`, label: 'reference', uplift: 0, reward: 0.4, k: 1, K: 3, baseline_successes: 3, baseline_valid: 8 },
  };
  const pair = pairOfTexts(left, right);
  assert.equal(pair.reference, 'right');
  assert.equal(pair.negativeBeatsReference, true);
  assert.equal(pair.left.measured!.withRate, 1);
  assert.equal(pair.left.measured!.baselineRate, null, 'no baseline in its facts: unknown, not 0');
  assert.equal(pair.left.measured!.upliftLo, null);
  near(pair.right.measured!.baselineRate, 3 / 8);
  near(pair.right.measured!.upliftLo, upliftInterval(1, 3, 3, 8)!.lo);
  assert.equal(measuredFromMeta({ task: 'gsm8k' }, 'r'), null, 'no uplift or reward: nothing measured');
  assert.equal(pairOfTexts({ title: 'a', text: 'x' }, { title: 'b', text: 'y' }).reference, null);
});

test('the controller sends a groups record with the measurements its lookup finds for the file', async () => {
  const sent: Array<{ method?: string; params?: unknown }> = [];
  const asked: string[] = [];
  const c = new TraceDiffController(
    { mode: 'groups', groupsFile: FIXTURE, recordIndex: 0 },
    (m) => sent.push(m as { method?: string }),
    { openInDiffEditor: async () => undefined },
    {
      measured: async (file, problemId) => {
        asked.push(`${file}|${problemId}`);
        return new Map([sample('pos0', 0, 0), sample('neg1', 2, 0)].map((s) => [s.sampleId, s]));
      },
    },
  );
  await c.handle({ kind: 'notify', method: 'ready', params: { protocol: 1 } });
  for (let i = 0; i < 200 && !sent.some((m) => m.method === 'diff'); i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(asked, [`${FIXTURE}|${P}`]);
  const d = DiffViewSchema.parse(sent.find((m) => m.method === 'diff')!.params);
  assert.match(d.subtitle, /uplift measured by uplift-run$/);
  const incomplete = d.pairs.find((p) => p.kind === 'incomplete_reasoning')!;
  near(incomplete.right.measured!.uplift, 2 / 3);
  assert.equal(incomplete.negativeBeatsReference, true);
  assert.equal(d.pairs.find((p) => p.kind === 'calculation_error')!.right.measured ?? null, null);
});
