/**
 * Aggregates rollout groups into summary.json figures (per task and
 * micro-averaged). The accumulator keeps running sums, so its memory does not
 * grow with the run; the extension's run index uses the same accumulator.
 */
import type { RolloutGroup, RunSummary, SummaryRow } from '../contract';

export interface SummaryAcc {
  problems: number;
  traces: number;
  withSum: number;
  withN: number;
  baseSum: number;
  baseN: number;
  upliftSum: number;
  upliftN: number;
  rewardSum: number;
  rewardN: number;
  positive: number;
  negative: number;
  failed: number;
}

export const emptySummaryAcc = (): SummaryAcc => ({
  problems: 0,
  traces: 0,
  withSum: 0,
  withN: 0,
  baseSum: 0,
  baseN: 0,
  upliftSum: 0,
  upliftN: 0,
  rewardSum: 0,
  rewardN: 0,
  positive: 0,
  negative: 0,
  failed: 0,
});

export const meanOf = (sum: number, n: number): number | null => (n ? sum / n : null);

/**
 * Adds one group: with-trace success and uplift are means over traces, the
 * no-trace success a mean over problems; failed calls count with-trace calls
 * and baseline calls sampled in this run (not those read from the cache).
 */
export function addGroupToSummary(a: SummaryAcc, group: RolloutGroup): void {
  a.problems++;
  const base = group.baseline.tally;
  if (base.rate !== null) {
    a.baseSum += base.rate;
    a.baseN++;
  }
  if (!group.baseline.from_cache) a.failed += base.failed;
  for (const s of group.samples) {
    a.traces++;
    const t = s.with_trace.tally;
    if (t.rate !== null) {
      a.withSum += t.rate;
      a.withN++;
    }
    if (s.uplift !== null) {
      a.upliftSum += s.uplift;
      a.upliftN++;
      if (s.uplift > 0) a.positive++;
      if (s.uplift < 0) a.negative++;
    }
    if (s.reward) {
      a.rewardSum += s.reward.value;
      a.rewardN++;
    }
    a.failed += t.failed;
  }
}

export function summaryRow(a: SummaryAcc): Omit<SummaryRow, 'task'> {
  return {
    problems: a.problems,
    traces: a.traces,
    with_trace_success: meanOf(a.withSum, a.withN),
    no_trace_success: meanOf(a.baseSum, a.baseN),
    mean_uplift: meanOf(a.upliftSum, a.upliftN),
    mean_reward: meanOf(a.rewardSum, a.rewardN),
    positive_uplift_traces: a.positive,
    negative_uplift_traces: a.negative,
    failed_calls: a.failed,
  };
}

export class SummaryBuilder {
  private readonly byTask = new Map<string, SummaryAcc>();
  private readonly micro = emptySummaryAcc();
  generations = 0;
  cacheHits = 0;

  add(group: RolloutGroup): void {
    let acc = this.byTask.get(group.task);
    if (!acc) this.byTask.set(group.task, (acc = emptySummaryAcc()));
    addGroupToSummary(acc, group);
    addGroupToSummary(this.micro, group);
    if (group.baseline.from_cache) this.cacheHits++;
  }

  build(runId: string, status: RunSummary['status']): RunSummary {
    const micro = summaryRow(this.micro);
    return {
      run_id: runId,
      status,
      updated: new Date().toISOString(),
      with_trace_success: micro.with_trace_success,
      no_trace_success: micro.no_trace_success,
      mean_uplift: micro.mean_uplift,
      mean_reward: micro.mean_reward,
      micro,
      tasks: [...this.byTask.entries()].map(([task, a]) => ({ task, ...summaryRow(a) })),
      executor_generations: this.generations,
      baseline_cache_hits: this.cacheHits,
    };
  }
}
