import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kendallTauB, meanInterval, spearman, studentTQuantile, wilson } from '../../src/engine/analysis/stats';
import { SuiteTableSchema, suiteTable, tableCsv, tableMarkdown, type BenchmarkProblems } from '../../src/engine/suite/table';

const close = (actual: number | null | undefined, expected: number, what: string, tol = 1e-6) =>
  assert.ok(actual !== null && actual !== undefined && Math.abs(actual - expected) < tol, `${what}: ${actual} ≠ ${expected}`);

test('Student-t quantiles match the printed table; Wilson matches the score formula at hand-worked points', () => {
  close(studentTQuantile(0.975, 1), 12.7062047, 't(1)', 1e-5);
  close(studentTQuantile(0.975, 3), 3.1824463, 't(3)', 1e-6);
  close(studentTQuantile(0.975, 4), 2.7764451, 't(4)', 1e-6);
  close(studentTQuantile(0.975, 30), 2.0422725, 't(30)', 1e-6);
  // 0.4375 over 4: centre (0.4375 + z²/8)/(1 + z²/4), half-width z/(1 + z²/4)·√(p(1−p)/4 + z²/64).
  const w = wilson(0.4375, 4)!;
  close(w.lo, 0.119554631, 'wilson lo');
  close(w.hi, 0.816681724, 'wilson hi');
  const one = wilson(1, 1)!;
  close(one.lo, 0.206549314, 'wilson 1/1 lo');
  assert.equal(one.hi, 1);
  assert.equal(wilson(0.5, 0), null);
});

test('rank correlations: ties averaged (Spearman), τ-b on a hand-counted example', () => {
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // x = 1,2,3,4 ; y = 1,3,2,2 → pairs: (12)+ (13)+ (14)+ (23)− (24)− (34) tie in y → C=3, D=2, tiesY=1
  close(kendallTauB([1, 2, 3, 4], [1, 3, 2, 2]), 1 / Math.sqrt(6 * 5), 'tau-b');
  assert.equal(kendallTauB([1, 1, 1], [1, 2, 3]), null);
  const m = meanInterval([0.5, 0.5, 0, -0.25]);
  close(m.mean, 0.1875, 'mean');
  close(m.sd, 0.375, 'sd');
});

const benchmarks: BenchmarkProblems[] = [
  {
    benchmark: 'gsm8k',
    kind: 'math',
    problems: [
      { problem_id: 'p1', without: 0.5, with: { planner: 1 } },
      { problem_id: 'p2', without: 0, with: { planner: 0.5 } },
      { problem_id: 'p3', without: 0.25, with: { planner: 0.25 } },
      { problem_id: 'p4', without: 1, with: { planner: 0.75 } },
    ],
  },
  {
    benchmark: 'humaneval',
    kind: 'code',
    problems: [
      { problem_id: 'q1', without: 0, with: { planner: 1 } },
      // The planner wrote no trace for q2: it counts for the executor alone only.
      { problem_id: 'q2', without: 0.5, with: { planner: null } },
    ],
  },
];

test('suite table: per-benchmark rates, paired deltas and micro-averages equal hand-computed values', () => {
  const table = SuiteTableSchema.parse(suiteTable(benchmarks, [{ name: 'planner', description: 'embedded' }]));
  assert.deepEqual(
    table.rows.map((r) => r.label),
    ['gsm8k', 'humaneval', 'micro:code', 'micro:math', 'micro:all'],
  );
  const gsm = table.rows[0]!;
  assert.equal(gsm.without.n, 4);
  close(gsm.without.rate, 0.4375, 'gsm8k without');
  close(gsm.without.ci!.lo, 0.119554631, 'gsm8k without lo');
  close(gsm.planners.planner!.with.rate, 0.625, 'gsm8k with');
  close(gsm.planners.planner!.with.ci!.lo, 0.21942652, 'gsm8k with lo');
  // Δ = mean(0.5, 0.5, 0, −0.25) = 0.1875, sd 0.375, t(3) = 3.1824463 → ± 0.5967087
  close(gsm.planners.planner!.delta.mean, 0.1875, 'gsm8k delta');
  close(gsm.planners.planner!.delta.ci!.lo, -0.409208682, 'gsm8k delta lo');
  close(gsm.planners.planner!.delta.ci!.hi, 0.784208682, 'gsm8k delta hi');

  const he = table.rows[1]!;
  assert.equal(he.without.n, 2);
  close(he.without.rate, 0.25, 'humaneval without');
  assert.equal(he.planners.planner!.with.n, 1);
  assert.equal(he.planners.planner!.delta.n, 1);
  assert.equal(he.planners.planner!.delta.ci, null, 'one pair has no interval');

  const code = table.rows[2]!;
  assert.deepEqual(code.without, he.without, 'code micro over one code benchmark is that benchmark');
  const all = table.rows[4]!;
  assert.equal(all.without.n, 6);
  close(all.without.rate, 0.375, 'all without');
  close(all.without.ci!.lo, 0.117417445, 'all without lo');
  // Δ over the 5 paired problems: 0.5, 0.5, 0, −0.25, 1 → 0.35, t(4) = 2.7764451 → [−0.2551122, 0.9551122]
  close(all.planners.planner!.delta.mean, 0.35, 'all delta');
  close(all.planners.planner!.delta.ci!.lo, -0.255112182, 'all delta lo');
  close(all.planners.planner!.delta.ci!.hi, 0.955112182, 'all delta hi');
});

test('a second planner adds its columns; Markdown and CSV carry the same figures', () => {
  const two = benchmarks.map((b) => ({
    ...b,
    problems: b.problems.map((p) => ({ ...p, with: { ...p.with, planner2: p.without } })),
  }));
  const table = suiteTable(two, [
    { name: 'planner', description: 'a' },
    { name: 'planner2', description: 'b' },
  ]);
  const gsm = table.rows[0]!;
  assert.equal(gsm.planners.planner2!.delta.mean, 0);
  const md = tableMarkdown(table);
  assert.match(md, /\| benchmark \| n \| executor alone \| with planner \| Δ planner \| with planner2 \| Δ planner2 \|/);
  assert.match(md, /\| gsm8k \| 4 \| 43\.8 \[12\.0, 81\.7\] \| 62\.5 \[21\.9, 90\.8\] \| \+18\.8 \[−40\.9, \+78\.4\] \|/);
  const csv = tableCsv(table).trim().split('\n');
  assert.equal(csv.length, 1 + table.rows.length);
  const header = csv[0]!.split(',');
  const gsmCells = csv[1]!.split(',');
  assert.equal(Number(gsmCells[header.indexOf('delta:planner')]), 0.1875);
  assert.equal(Number(gsmCells[header.indexOf('without')]), 0.4375);
});
