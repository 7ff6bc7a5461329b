/**
 * Aggregates rollout groups into summary.json figures (per task and
 * micro-averaged), from events.jsonl, the run's one source of truth. The
 * accumulator keeps running sums; a group event superseded by a later one of
 * the same (step, problem_id) is taken back out (supersede.ts), which costs
 * one small record per group. The extension's run index uses the same sums.
 */
import type { RolloutGroup, RunEvent, RunSummary, SummaryRow } from '../contract';
import { LatestGroups } from './supersede';

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

/** a += sign × b, field by field. */
export function mergeSummaryAcc(a: SummaryAcc, b: SummaryAcc, sign: 1 | -1 = 1): void {
  for (const k of Object.keys(a) as Array<keyof SummaryAcc>) a[k] += sign * b[k];
}

/** What one group adds to the sums. */
export function groupSummaryAcc(group: RolloutGroup): SummaryAcc {
  const acc = emptySummaryAcc();
  addGroupToSummary(acc, group);
  return acc;
}

interface GroupContribution {
  task: string;
  acc: SummaryAcc;
  cacheHit: boolean;
}

export class SummaryBuilder {
  private readonly byTask = new Map<string, SummaryAcc>();
  private readonly micro = emptySummaryAcc();
  private readonly latest = new LatestGroups<GroupContribution>();
  /** Executor generations of every invocation so far. */
  generations = 0;
  cacheHits = 0;

  /** The summary of a run's events so far: latest group per key, generations summed over the events. */
  static fromEvents(events: Iterable<RunEvent>): SummaryBuilder {
    const b = new SummaryBuilder();
    for (const e of events) {
      if (e.type === 'rollout_group') b.add(e);
      if ((e.type === 'rollout_group' || e.type === 'run_ended') && e.executor_generations) b.generations += e.executor_generations;
    }
    return b;
  }

  /** Adds a group; one that supersedes an earlier group of its (step, problem_id) replaces it. */
  add(group: RolloutGroup): void {
    const contribution: GroupContribution = { task: group.task, acc: groupSummaryAcc(group), cacheHit: group.baseline.from_cache };
    const before = this.latest.put(group, contribution);
    if (before) this.take(before);
    // Added group by group (not as its merged contribution) so the sums are those of any other reader, bit for bit.
    addGroupToSummary(this.taskAcc(group.task), group);
    addGroupToSummary(this.micro, group);
    if (contribution.cacheHit) this.cacheHits++;
  }

  private taskAcc(task: string): SummaryAcc {
    let acc = this.byTask.get(task);
    if (!acc) this.byTask.set(task, (acc = emptySummaryAcc()));
    return acc;
  }

  /** Takes a superseded group's contribution back out of the sums. */
  private take(c: GroupContribution): void {
    mergeSummaryAcc(this.taskAcc(c.task), c.acc, -1);
    mergeSummaryAcc(this.micro, c.acc, -1);
    if (c.cacheHit) this.cacheHits--;
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
