/**
 * The figures the reward service measures for each training step, merged
 * into the trainer's step_metrics event of that step. A figure without data
 * is left out (no reward scored → no reward_mean), never written as 0.
 */
import type { TraceSample } from '../contract';

/** Metric names the service fills in when the trainer did not send them. */
export const SERVICE_METRICS = [
  'reward_mean',
  'reward_std',
  'uplift_mean',
  'with_trace_success',
  'no_trace_success',
  'reward_null_count',
  'executor_generations',
  'time_reward_s',
] as const;

interface StepFigures {
  rewards: number[];
  nullRewards: number;
  uplifts: number[];
  withRates: number[];
  /** No-trace rate per problem (one per problem, however many requests it came in). */
  baselineRates: Map<string, number>;
  generations: number;
  firstStartMs: number;
  lastEndMs: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export class StepAggregates {
  private readonly steps = new Map<number, StepFigures>();
  private readonly merged = new Set<number>();

  /** Records the samples one request scored for one problem at `step`. */
  addSamples(step: number, problemId: string, baselineRate: number | null, samples: TraceSample[]): void {
    const f = this.figures(step);
    for (const s of samples) {
      if (s.reward) f.rewards.push(s.reward.value);
      else f.nullRewards++;
      if (s.uplift !== null) f.uplifts.push(s.uplift);
      if (s.with_trace.tally.rate !== null) f.withRates.push(s.with_trace.tally.rate);
    }
    if (baselineRate !== null) f.baselineRates.set(problemId, baselineRate);
  }

  /** Records one request's executor generations and wall time at `step`. */
  addRequest(step: number, generations: number, startMs: number, endMs: number): void {
    const f = this.figures(step);
    f.generations += generations;
    f.firstStartMs = Math.min(f.firstStartMs, startMs);
    f.lastEndMs = Math.max(f.lastEndMs, endMs);
  }

  /** The service's figures for a step (empty when it scored nothing there). */
  metrics(step: number): Record<string, number> {
    const f = this.steps.get(step);
    if (!f) return {};
    const out: Record<string, number> = { reward_null_count: f.nullRewards, executor_generations: f.generations };
    if (f.rewards.length) {
      const m = mean(f.rewards);
      out.reward_mean = m;
      out.reward_std = Math.sqrt(mean(f.rewards.map((r) => (r - m) ** 2)));
    }
    if (f.uplifts.length) out.uplift_mean = mean(f.uplifts);
    if (f.withRates.length) out.with_trace_success = mean(f.withRates);
    if (f.baselineRates.size) out.no_trace_success = mean([...f.baselineRates.values()]);
    if (Number.isFinite(f.firstStartMs)) out.time_reward_s = (f.lastEndMs - f.firstStartMs) / 1000;
    return out;
  }

  /** The trainer's metrics with the service's added where the trainer sent none; the step counts as reported. */
  merge(step: number, trainerMetrics: Record<string, number>): Record<string, number> {
    this.merged.add(step);
    const merged = { ...this.metrics(step), ...trainerMetrics };
    this.steps.delete(step); // a long run keeps only the steps not yet reported
    return merged;
  }

  /** Steps the service scored whose figures no step_metrics event has carried yet. */
  unreported(): number[] {
    return [...this.steps.keys()].filter((s) => !this.merged.has(s)).sort((a, b) => a - b);
  }

  private figures(step: number): StepFigures {
    let f = this.steps.get(step);
    if (!f) {
      f = {
        rewards: [],
        nullRewards: 0,
        uplifts: [],
        withRates: [],
        baselineRates: new Map(),
        generations: 0,
        firstStartMs: Infinity,
        lastEndMs: -Infinity,
      };
      this.steps.set(step, f);
    }
    return f;
  }
}
