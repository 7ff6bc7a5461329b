/**
 * Which rollout_group events of a run count. events.jsonl is append-only, so
 * a problem re-scored by a resume gets a second group event; the earlier one
 * stays in the log and is superseded by the later one. The rule, for every
 * reader (summary, samples.jsonl, the extension's index): of the group events
 * with the same (step, problem_id), only the LAST one counts.
 *
 * And which groups a resume re-scores: those with no valid outcome
 * (noValidOutcome below).
 */
import { REWARD_MODE_ENDPOINT, type RewardMode, type RolloutGroup, type RunEvent } from '../contract';

/** The key under which a later group event supersedes an earlier one: (step, problem_id). */
export function groupKey(group: Pick<RolloutGroup, 'step' | 'problem_id'>): string {
  return `${group.step ?? ''}\u0000${group.problem_id}`;
}

/**
 * A value per group key where the last put wins: put() returns what the new
 * group supersedes, so a running accumulator can take it back out.
 */
export class LatestGroups<T> {
  private readonly byKey = new Map<string, T>();

  put(group: Pick<RolloutGroup, 'step' | 'problem_id'>, value: T): T | undefined {
    const key = groupKey(group);
    const before = this.byKey.get(key);
    // Delete first so iteration order is the order of the latest events.
    this.byKey.delete(key);
    this.byKey.set(key, value);
    return before;
  }

  get(group: Pick<RolloutGroup, 'step' | 'problem_id'>): T | undefined {
    return this.byKey.get(groupKey(group));
  }

  get size(): number {
    return this.byKey.size;
  }

  values(): IterableIterator<T> {
    return this.byKey.values();
  }

  clear(): void {
    this.byKey.clear();
  }
}

/** The groups that count, in the order of their (latest) events. */
export function latestGroups(events: Iterable<RunEvent>): RolloutGroup[] {
  const latest = new LatestGroups<RolloutGroup>();
  for (const e of events) if (e.type === 'rollout_group') latest.put(e, e);
  return [...latest.values()];
}

/**
 * Why a group has no valid outcome, or null when it has one. A group has a
 * valid outcome when its calls produced what its figures need:
 *   - the no-trace baseline has at least one sample with output (else no
 *     uplift), and so has each trace's own baseline where there is one;
 *   - every trace has at least one with-trace sample with output (else no
 *     success rate, e2e or reward);
 *   - every trace whose reward is missing misses it for a reason a retry
 *     cannot change: not because the extra e2e call failed (e2e null), nor
 *     because the RM / judge score the reward mode needs is missing (its call
 *     failed, or the judge's reply carried no score).
 * Some failed calls among the K or M samples do not matter: they are
 * excluded from the rates and counted. A resume re-scores groups with no
 * valid outcome; the new group event supersedes the old one.
 */
export function noValidOutcome(group: RolloutGroup, rewardMode: RewardMode): string | null {
  if (group.baseline.tally.valid === 0) return 'no baseline sample produced output';
  const signal = REWARD_MODE_ENDPOINT[rewardMode];
  for (const s of group.samples) {
    if (s.with_trace.tally.valid === 0) return `trace ${s.sample_id}: every with-trace call failed`;
    // Per-trace baselines (the official protocol): this trace's own no-trace samples.
    const noTrace = (s as { no_trace?: { tally: { valid: number } } | null }).no_trace;
    if (noTrace && noTrace.tally.valid === 0) return `trace ${s.sample_id}: every no-trace call failed`;
    if (s.reward !== null) continue;
    if (s.e2e === null) return `trace ${s.sample_id}: the e2e call produced no output`;
    if (signal === 'rm' && s.rm_score === null) return `trace ${s.sample_id}: no RM score`;
    if (signal === 'judge' && s.judge_score === null) return `trace ${s.sample_id}: no judge score`;
  }
  return null;
}
