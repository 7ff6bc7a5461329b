/**
 * The Test Explorer's arithmetic, no vscode: which evals a test run needs
 * (contiguous problem ranges per benchmark, one run directory each), and a
 * problem's outcome from its scored group — with-trace and no-trace success
 * and the uplift, passed when the executor solves it with the trace at least
 * half of the time.
 */
import type { RolloutGroup } from '../../engine/contract';
import { mean } from '../../engine/analysis/stats';

/** Problems listed under a benchmark in the Testing view (the first ones of its default split). */
export const MAX_PROBLEM_ITEMS = 200;
/** Running a whole benchmark from the Testing view runs its first problems only (a quick check, not the suite). */
export const BENCHMARK_RUN_PROBLEMS = 5;
/** With-trace success from which a problem passes. */
export const PASS_RATE = 0.5;

export interface ProblemRange {
  offset: number;
  limit: number;
}

/** Sorted, distinct indices as contiguous ranges: each becomes one eval (--offset/--limit). */
export function problemRanges(indices: number[]): ProblemRange[] {
  const sorted = [...new Set(indices)].filter((i) => Number.isInteger(i) && i >= 0).sort((a, b) => a - b);
  const ranges: ProblemRange[] = [];
  for (const i of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && last.offset + last.limit === i) last.limit++;
    else ranges.push({ offset: i, limit: 1 });
  }
  return ranges;
}

export interface ProblemOutcome {
  problemId: string;
  passed: boolean;
  /** Mean with-trace success over the problem's traces. */
  withTrace: number | null;
  /** The no-trace baseline's success. */
  withoutTrace: number | null;
  uplift: number | null;
  /** The sample to open for a failure: the one with the lowest with-trace success. */
  sampleId: string | null;
}

export function problemOutcome(group: RolloutGroup): ProblemOutcome {
  const rates = group.samples.flatMap((s) => (s.with_trace.tally.rate === null ? [] : [s.with_trace.tally.rate]));
  const uplifts = group.samples.flatMap((s) => (s.uplift === null ? [] : [s.uplift]));
  const withTrace = mean(rates);
  const worst = [...group.samples].sort((a, b) => (a.with_trace.tally.rate ?? -1) - (b.with_trace.tally.rate ?? -1))[0];
  return {
    problemId: group.problem_id,
    passed: withTrace !== null && withTrace >= PASS_RATE,
    withTrace,
    withoutTrace: group.baseline.tally.rate,
    uplift: mean(uplifts),
    sampleId: worst?.sample_id ?? null,
  };
}

const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(0)}%`);
const signed = (x: number | null) => (x === null ? '—' : `${x >= 0 ? '+' : ''}${x.toFixed(3)}`);

/** One line for the test result: success with and without the trace, and the uplift. */
export function outcomeText(o: ProblemOutcome): string {
  return `with trace ${pct(o.withTrace)}, without trace ${pct(o.withoutTrace)}, uplift ${signed(o.uplift)}`;
}
