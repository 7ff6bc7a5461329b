/** Aggregates rollout groups into summary.json figures (per task and micro-averaged). */
import type { RolloutGroup, RunSummary, SummaryRow } from '../contract';

interface Acc {
  problems: number;
  traces: number;
  withRates: number[];
  baseRates: number[];
  uplifts: number[];
  rewards: number[];
  positive: number;
  negative: number;
  failed: number;
}

const emptyAcc = (): Acc => ({ problems: 0, traces: 0, withRates: [], baseRates: [], uplifts: [], rewards: [], positive: 0, negative: 0, failed: 0 });
const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

export class SummaryBuilder {
  private readonly byTask = new Map<string, Acc>();
  private readonly micro = emptyAcc();
  generations = 0;
  cacheHits = 0;

  add(group: RolloutGroup): void {
    let acc = this.byTask.get(group.task);
    if (!acc) this.byTask.set(group.task, (acc = emptyAcc()));
    for (const a of [acc, this.micro]) {
      a.problems++;
      if (group.baseline.tally.rate !== null) a.baseRates.push(group.baseline.tally.rate);
      a.failed += group.baseline.from_cache ? 0 : group.baseline.tally.failed;
      for (const s of group.samples) {
        a.traces++;
        if (s.with_trace.tally.rate !== null) a.withRates.push(s.with_trace.tally.rate);
        if (s.uplift !== null) {
          a.uplifts.push(s.uplift);
          if (s.uplift > 0) a.positive++;
          if (s.uplift < 0) a.negative++;
        }
        if (s.reward) a.rewards.push(s.reward.value);
        a.failed += s.with_trace.tally.failed;
      }
    }
    if (group.baseline.from_cache) this.cacheHits++;
  }

  private row(a: Acc): Omit<SummaryRow, 'task'> {
    return {
      problems: a.problems,
      traces: a.traces,
      with_trace_success: mean(a.withRates),
      no_trace_success: mean(a.baseRates),
      mean_uplift: mean(a.uplifts),
      mean_reward: mean(a.rewards),
      positive_uplift_traces: a.positive,
      negative_uplift_traces: a.negative,
      failed_calls: a.failed,
    };
  }

  build(runId: string, status: RunSummary['status']): RunSummary {
    const micro = this.row(this.micro);
    return {
      run_id: runId,
      status,
      updated: new Date().toISOString(),
      with_trace_success: micro.with_trace_success,
      no_trace_success: micro.no_trace_success,
      mean_uplift: micro.mean_uplift,
      mean_reward: micro.mean_reward,
      micro,
      tasks: [...this.byTask.entries()].map(([task, a]) => ({ task, ...this.row(a) })),
      executor_generations: this.generations,
      baseline_cache_hits: this.cacheHits,
    };
  }
}
