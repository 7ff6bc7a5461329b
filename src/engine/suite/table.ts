/**
 * The paper's benchmark table from per-problem success rates: per benchmark
 * the executor alone (its no-trace baseline), with each planner's traces,
 * and the delta; then code, math and overall micro-averages (every problem
 * of those benchmarks pooled). Pure arithmetic; rendered as Markdown, CSV
 * and JSON (SuiteTableSchema).
 *
 * Intervals (95 %): a success rate — the mean over problems of each
 * problem's rate — gets the Wilson score interval with n = problems
 * (conservative: p(1−p)/n bounds the variance of a mean of rates in [0,1]);
 * a delta is paired over the problems that have both figures: the mean of
 * the per-problem differences with its Student-t interval.
 */
import { z } from 'zod';
import { meanInterval, wilson, type Interval } from '../analysis/stats';

/** One problem's figures: its no-trace rate and each planner's with-trace rate (mean over its traces). */
export interface SuiteProblem {
  problem_id: string;
  without: number | null;
  with: Record<string, number | null>;
}

export interface BenchmarkProblems {
  benchmark: string;
  kind: 'math' | 'code';
  problems: SuiteProblem[];
}

const IntervalSchema = z.object({ lo: z.number(), hi: z.number() });
const RateSchema = z.object({ n: z.number().int().min(0), rate: z.number().nullable(), ci: IntervalSchema.nullable() });
const DeltaSchema = z.object({ n: z.number().int().min(0), mean: z.number().nullable(), ci: IntervalSchema.nullable() });

export const SuiteTableRowSchema = z.object({
  /** A benchmark name, or micro:code / micro:math / micro:all. */
  label: z.string(),
  scope: z.enum(['benchmark', 'micro']),
  kind: z.enum(['math', 'code', 'all']),
  without: RateSchema,
  planners: z.record(z.string(), z.object({ with: RateSchema, delta: DeltaSchema })),
});
export type SuiteTableRow = z.infer<typeof SuiteTableRowSchema>;

export const SuiteTableSchema = z.object({
  /** Planner names in column order, with what each one is. */
  planners: z.array(z.object({ name: z.string(), description: z.string() })),
  rows: z.array(SuiteTableRowSchema),
});
export type SuiteTable = z.infer<typeof SuiteTableSchema>;

type Rate = z.infer<typeof RateSchema>;

function rateOf(values: number[]): Rate {
  const n = values.length;
  if (!n) return { n, rate: null, ci: null };
  const rate = values.reduce((a, b) => a + b, 0) / n;
  return { n, rate, ci: wilson(rate, n) };
}

function row(label: string, scope: SuiteTableRow['scope'], kind: SuiteTableRow['kind'], problems: SuiteProblem[], planners: string[]) {
  const without = problems.flatMap((p) => (p.without === null ? [] : [p.without]));
  const perPlanner: SuiteTableRow['planners'] = {};
  for (const name of planners) {
    const withRates = problems.flatMap((p) => (p.with[name] == null ? [] : [p.with[name]!]));
    const diffs = problems.flatMap((p) => (p.with[name] == null || p.without === null ? [] : [p.with[name]! - p.without]));
    const d = meanInterval(diffs);
    perPlanner[name] = { with: rateOf(withRates), delta: { n: d.n, mean: d.mean, ci: d.ci } };
  }
  return { label, scope, kind, without: rateOf(without), planners: perPlanner };
}

/** Rows per benchmark, then micro-averages over code, math (those present) and all. */
export function suiteTable(benchmarks: BenchmarkProblems[], planners: SuiteTable['planners']): SuiteTable {
  const names = planners.map((p) => p.name);
  const rows: SuiteTableRow[] = benchmarks.map((b) => row(b.benchmark, 'benchmark', b.kind, b.problems, names));
  for (const kind of ['code', 'math'] as const) {
    const of = benchmarks.filter((b) => b.kind === kind);
    if (of.length)
      rows.push(
        row(
          `micro:${kind}`,
          'micro',
          kind,
          of.flatMap((b) => b.problems),
          names,
        ),
      );
  }
  if (new Set(benchmarks.map((b) => b.kind)).size > 1)
    rows.push(
      row(
        'micro:all',
        'micro',
        'all',
        benchmarks.flatMap((b) => b.problems),
        names,
      ),
    );
  return { planners, rows };
}

const pct = (x: number | null) => (x === null ? 'n/a' : (100 * x).toFixed(1));
const signedPct = (x: number | null) => (x === null ? 'n/a' : `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}`);
const ciText = (ci: Interval | null, f: (x: number) => string) => (ci ? ` [${f(ci.lo)}, ${f(ci.hi)}]` : '');

/** The table as Markdown: success in %, 95 % intervals in brackets, n problems per figure. */
export function tableMarkdown(table: SuiteTable): string {
  const head = ['benchmark', 'n', 'executor alone'];
  for (const p of table.planners) head.push(`with ${p.name}`, `Δ ${p.name}`);
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`];
  for (const r of table.rows) {
    const label = r.scope === 'micro' ? `**${r.label.replace('micro:', '')} (micro)**` : r.label;
    const cells = [label, String(r.without.n), `${pct(r.without.rate)}${ciText(r.without.ci, (x) => pct(x))}`];
    for (const p of table.planners) {
      const c = r.planners[p.name]!;
      const n = c.with.n !== r.without.n ? ` (n=${c.with.n})` : '';
      cells.push(`${pct(c.with.rate)}${ciText(c.with.ci, (x) => pct(x))}${n}`);
      cells.push(`${signedPct(c.delta.mean)}${ciText(c.delta.ci, (x) => signedPct(x))}`);
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push('');
  lines.push('Success in % (mean over problems of each problem’s success rate); 95 % intervals in brackets:');
  lines.push('Wilson for rates (n = problems), Student-t over per-problem differences for Δ (paired).');
  for (const p of table.planners) lines.push(`- ${p.name}: ${p.description}`);
  return lines.join('\n') + '\n';
}

/** The table as CSV: one line per row, fractions (not %). */
export function tableCsv(table: SuiteTable): string {
  const head = ['label', 'scope', 'kind', 'n_without', 'without', 'without_lo', 'without_hi'];
  for (const p of table.planners)
    head.push(...['n_with', 'with', 'with_lo', 'with_hi', 'n_delta', 'delta', 'delta_lo', 'delta_hi'].map((c) => `${c}:${p.name}`));
  const num = (x: number | null | undefined) => (x === null || x === undefined ? '' : String(x));
  const lines = [head.join(',')];
  for (const r of table.rows) {
    const cells = [r.label, r.scope, r.kind, num(r.without.n), num(r.without.rate), num(r.without.ci?.lo), num(r.without.ci?.hi)];
    for (const p of table.planners) {
      const c = r.planners[p.name]!;
      cells.push(num(c.with.n), num(c.with.rate), num(c.with.ci?.lo), num(c.with.ci?.hi));
      cells.push(num(c.delta.n), num(c.delta.mean), num(c.delta.ci?.lo), num(c.delta.ci?.hi));
    }
    lines.push(cells.map(csvCell).join(','));
  }
  return lines.join('\n') + '\n';
}

/** A CSV cell, quoted when it holds a comma, quote or line break. */
export function csvCell(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
