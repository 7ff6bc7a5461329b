import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RolloutGroupSchema, type RolloutGroup } from '../../src/engine/contract';
import { judgeSaturation } from '../../src/engine/analysis/judgeSaturation';
import { hypergeometric, kStability, traceKStability } from '../../src/engine/analysis/kStability';
import { traceLengthBins } from '../../src/engine/analysis/traceLength';
import { trainingDynamics } from '../../src/engine/analysis/trainingDynamics';
import { REPORT_FILES, writeReport } from '../../src/engine/report/report';
import { RunWriter } from '../../src/engine/run/runDir';
import { tally } from '../helpers/runFixtures';

const close = (a: number | null | undefined, b: number, what: string) =>
  assert.ok(a !== null && a !== undefined && Math.abs(a - b) < 1e-12, `${what}: ${a} ≠ ${b}`);

const attempt = (correct: boolean) => ({
  output: correct ? 'right' : 'wrong',
  verdict: { correct, extracted: null, status: null, tests_passed: null, tests_total: null, detail: null },
  error: null,
  finish_reason: 'stop',
  latency_ms: 1,
});

/** A synthetic trace: `successes` of `k` with-trace samples, with the group's baseline rate b (of 4 samples). */
function group(o: {
  id: string;
  step?: number | null;
  baselineSuccesses: number;
  traces: Array<{ successes: number; k: number; text?: string; judge?: number | null; rm?: number | null }>;
}): RolloutGroup {
  return RolloutGroupSchema.parse({
    time: 't',
    type: 'rollout_group',
    step: o.step ?? null,
    group_index: 0,
    task: 'gsm8k',
    task_kind: 'math',
    problem_id: o.id,
    problem: `problem ${o.id}`,
    reference: '1',
    baseline: {
      tally: tally(o.baselineSuccesses, 4),
      attempts: [0, 1, 2, 3].map((i) => attempt(i < o.baselineSuccesses)),
      cache_key: 'k',
      from_cache: false,
    },
    samples: o.traces.map((t, i) => {
      const attempts = Array.from({ length: t.k }, (_, j) => attempt(j < t.successes));
      return {
        sample_id: `${o.id}#${i}`,
        source: 'planner',
        trace: t.text ?? `trace ${i}`,
        with_trace: { tally: tally(t.successes, t.k), attempts },
        uplift: t.successes / t.k - o.baselineSuccesses / 4,
        e2e: attempts[0]!.verdict.correct ? 1 : 0,
        rm_score: t.rm ?? null,
        judge_score: t.judge ?? null,
        reward: null,
      };
    }),
  });
}

test('K stability of one trace: exact hypergeometric variance and sign agreement, worked by hand', () => {
  // 2 of 4 samples succeed, baseline 0.5: the full estimate is 0.
  const r = traceKStability(2, 4, 0.5);
  assert.equal(r.length, 4);
  // K=1: estimates +0.5 or −0.5, each half the time → variance 0.25; never 0 → sign agreement 0.
  close(r[0]!.variance, 0.25, 'K=1 variance');
  close(r[0]!.signAgreement, 0, 'K=1 agreement');
  // K=2: 0, 1 or 2 successes with P 1/6, 4/6, 1/6 → estimates −0.5, 0, +0.5 → variance 1/12, agreement 4/6.
  close(r[1]!.variance, 1 / 12, 'K=2 variance');
  close(r[1]!.signAgreement, 4 / 6, 'K=2 agreement');
  close(r[3]!.variance, 0, 'K=V variance');
  close(r[3]!.signAgreement, 1, 'K=V agreement');
  // The finite-population formula p(1−p)/K · (V−K)/(V−1) for 3 of 8, any K.
  const p = 3 / 8;
  for (const row of traceKStability(3, 8, 0.25)) close(row.variance, ((p * (1 - p)) / row.k) * ((8 - row.k) / 7), `3/8 K=${row.k}`);
  close(
    [0, 1, 2, 3].reduce((s, x) => s + hypergeometric(x, 8, 3, 3), 0),
    1,
    'pmf sums to 1',
  );
});

test('K stability over a synthetic run with known rates: means over the traces that have K samples', () => {
  const groups = [
    group({ id: 'a', baselineSuccesses: 2, traces: [{ successes: 2, k: 4 }] }), // rate 0.5 vs 0.5
    group({ id: 'b', baselineSuccesses: 0, traces: [{ successes: 4, k: 4 }] }), // rate 1 vs 0: every subset agrees
    group({ id: 'c', baselineSuccesses: 4, traces: [{ successes: 1, k: 2 }] }), // 2 samples only
  ];
  const rows = kStability(groups);
  assert.deepEqual(
    rows.map((r) => [r.k, r.traces]),
    [
      [1, 3],
      [2, 3],
      [3, 2],
      [4, 2],
    ],
  );
  // K=1: variances 0.25, 0, 0.25 (c: estimates 0 or −1) → 1/6; agreement with the full sign: 0, 1, and for c
  // (full −0.5) only the −1 estimate agrees → 0.5; mean 1.5/3.
  close(rows[0]!.meanVariance, 0.5 / 3, 'K=1 mean variance');
  close(rows[0]!.meanSignAgreement, 0.5, 'K=1 agreement');
  close(rows[0]!.rmsSd, Math.sqrt(0.5 / 3), 'K=1 rms sd');
  close(rows[3]!.meanVariance, 0, 'K=4');
});

test('trace length bins, training dynamics and judge saturation', () => {
  const g = group({
    id: 'x',
    baselineSuccesses: 0,
    traces: [1, 2, 3, 4, 5, 6].map((n) => ({ successes: n % 2, k: 1, text: 'x'.repeat(n * 10), judge: n < 6 ? 0.99 : 0.5, rm: n / 10 })),
  });
  const bins = traceLengthBins([g], 3);
  assert.deepEqual(
    bins.map((b) => [b.minChars, b.maxChars, b.traces, b.meanUplift]),
    [
      [10, 20, 2, 0.5],
      [30, 40, 2, 0.5],
      [50, 60, 2, 0.5],
    ],
  );
  const steps = trainingDynamics([
    group({
      id: 'p',
      step: 1,
      baselineSuccesses: 2,
      traces: [
        { successes: 1, k: 1 },
        { successes: 0, k: 1 },
      ],
    }),
    group({ id: 'q', step: 1, baselineSuccesses: 2, traces: [{ successes: 1, k: 2 }] }),
    group({ id: 'p', step: 0, baselineSuccesses: 0, traces: [{ successes: 1, k: 1 }] }),
    g,
  ]);
  assert.deepEqual(
    steps.map((s) => [s.step, s.traces, s.meanUplift, s.positiveShare, s.negativeShare]),
    [
      [0, 1, 1, 1, 0],
      [1, 3, 0, 1 / 3, 1 / 3],
    ],
  );
  const sat = judgeSaturation([g]);
  assert.equal(sat.judge.n, 6);
  close(sat.judge.aboveThreshold, 5 / 6, 'judge share above 0.95');
  assert.equal(sat.judge.histogram[9], 5);
  close(sat.rm.mean, 2.1 / 6, 'rm mean');
  assert.equal(sat.rm.aboveThreshold, 0);
  assert.equal(sat.paired, 6);
});

test('report on a single eval run: report.md names what the run does not allow; CSVs and SVG plots written', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-report-'));
  const runDir = path.join(dir, 'run');
  const { writer } = RunWriter.open(runDir);
  writer.append({
    time: 't',
    type: 'run_started',
    run_id: 'r',
    run_kind: 'eval',
    engine_version: 'x',
    config: { reward: { mode: 'exec_only' } },
  });
  writer.append(group({ id: 'a', baselineSuccesses: 1, traces: [{ successes: 2, k: 3, text: 'short' }] }));
  writer.append(group({ id: 'b', baselineSuccesses: 3, traces: [{ successes: 1, k: 3, text: 'a much longer trace' }] }));
  const out = path.join(dir, 'report');
  const report = await writeReport([runDir], out);
  assert.equal(report.runs[0]!.traces, 2);
  const md = fs.readFileSync(path.join(out, REPORT_FILES.markdown), 'utf8');
  assert.match(md, /## Uplift estimate vs K/);
  assert.match(md, /\| run \| 3 \| 2 \| /, 'K = 3 row over both traces');
  assert.match(md, /no training run \(evals have no steps\)/);
  assert.match(md, /no judge or RM score recorded/);
  assert.match(md, /exec_only \| 2 \| 0 \|/);
  for (const f of [REPORT_FILES.kStabilitySvg, REPORT_FILES.kSignSvg, REPORT_FILES.lengthSvg]) {
    const svg = fs.readFileSync(path.join(out, f), 'utf8');
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<path /, `${f} draws marks`);
  }
  assert.equal(fs.existsSync(path.join(out, REPORT_FILES.trainingSvg)), false, 'no training plot for an eval');
  const csv = fs.readFileSync(path.join(out, REPORT_FILES.kStabilityCsv), 'utf8').trim().split('\n');
  assert.equal(csv.length, 1 + 3, 'header and K = 1, 2, 3');
});
