/**
 * The run view's figures with their uncertainty, beside the engine's
 * summary sums (runAggregates.ts): every mean the view shows as a MeanAcc
 * (stats.ts) so it comes with n, sd, standard error and a 95 % interval —
 * for the run, per trace kind (negative_kind, reference, planner…, with Δ
 * vs the group's reference: groupSignal.ts) and per training step (with the
 * trainer's step_metrics and checkpoints). Memory is flat in the number of
 * traces: a few sums per kind and per step. A superseded group is taken back
 * out by applying it again with sign −1 (the index re-reads it from disk:
 * supersedes are rare, so nothing is kept per group for them). No `vscode`
 * import.
 */
import type { RolloutGroup } from '../../../engine/contract';
import { groupSignal } from './groupSignal';
import { addValue, emptyMean, mergeMean, meanInterval, type MeanAcc, type MeanInterval } from './stats';

export interface KindAgg {
  kind: string;
  /** Traces of this kind. */
  n: number;
  uplift: MeanAcc;
  reward: MeanAcc;
  /** Δ vs the group's reference (traces in groups with a reference). */
  delta: MeanAcc;
  /** Negatives of this kind above their reference. */
  beats: number;
}

export interface StepAgg {
  step: number;
  groups: number;
  traces: number;
  reward: MeanAcc;
  uplift: MeanAcc;
  withRate: MeanAcc;
  baseline: MeanAcc;
  /** The trainer's step_metrics for this step (a later event's values win), or null. */
  metrics: Record<string, number> | null;
}

/** Steps pooled into one chart bucket [from, to]. */
export interface StepBucket {
  from: number;
  to: number;
  groups: number;
  traces: number;
  reward: MeanInterval;
  uplift: MeanInterval;
  withRate: MeanInterval;
  /** Per metric, its mean over the bucket's steps that reported it. */
  metrics: Record<string, number>;
}

export interface Checkpoint {
  step: number;
  path: string;
}

/** At most this many checkpoints are kept (the latest); a run saving every step keeps its memory flat. */
const MAX_CHECKPOINTS = 500;

export class RunSignals {
  readonly withRate = emptyMean();
  readonly baseline = emptyMean();
  readonly uplift = emptyMean();
  readonly reward = emptyMean();
  readonly kinds = new Map<string, KindAgg>();
  readonly steps = new Map<number, StepAgg>();
  readonly checkpoints: Checkpoint[] = [];
  checkpointCount = 0;
  /** Traces that beat their group's reference, and traces in groups that have one. */
  beats = 0;
  withReference = 0;
  /** Increases whenever a step's figures, metrics or the checkpoints change. */
  stepsVersion = 0;

  clear(): void {
    for (const a of [this.withRate, this.baseline, this.uplift, this.reward]) Object.assign(a, emptyMean());
    this.kinds.clear();
    this.steps.clear();
    this.checkpoints.length = 0;
    this.checkpointCount = 0;
    this.beats = 0;
    this.withReference = 0;
    this.stepsVersion++;
  }

  /** Adds a group (sign 1) or takes a superseded one back out (sign −1). */
  addGroup(g: RolloutGroup, sign: 1 | -1 = 1): void {
    const sig = groupSignal(g);
    const base = g.baseline.tally.rate;
    addValue(this.baseline, base, sign);
    const step = g.step === null ? null : this.step(g.step);
    if (step) {
      this.stepsVersion++;
      step.groups += sign;
      step.traces += sign * g.samples.length;
      addValue(step.baseline, base, sign);
    }
    g.samples.forEach((s, i) => {
      const reward = s.reward ? s.reward.value : null;
      const rate = s.with_trace.tally.rate;
      addValue(this.withRate, rate, sign);
      addValue(this.uplift, s.uplift, sign);
      addValue(this.reward, reward, sign);
      const kind = this.kind(sig.kinds[i]!);
      kind.n += sign;
      addValue(kind.uplift, s.uplift, sign);
      addValue(kind.reward, reward, sign);
      addValue(kind.delta, sig.deltas[i], sign);
      if (sig.beats[i]) {
        kind.beats += sign;
        this.beats += sign;
      }
      if (sig.refUplift !== null) this.withReference += sign;
      if (step) {
        addValue(step.reward, reward, sign);
        addValue(step.uplift, s.uplift, sign);
        addValue(step.withRate, rate, sign);
      }
    });
  }

  setMetrics(step: number, metrics: Record<string, number>): void {
    const s = this.step(step);
    s.metrics = { ...(s.metrics ?? {}), ...metrics };
    this.stepsVersion++;
  }

  addCheckpoint(step: number, path: string): void {
    this.checkpointCount++;
    this.stepsVersion++;
    this.checkpoints.push({ step, path });
    if (this.checkpoints.length > MAX_CHECKPOINTS) this.checkpoints.shift();
  }

  private kind(name: string): KindAgg {
    let k = this.kinds.get(name);
    if (!k) this.kinds.set(name, (k = { kind: name, n: 0, uplift: emptyMean(), reward: emptyMean(), delta: emptyMean(), beats: 0 }));
    return k;
  }

  private step(n: number): StepAgg {
    let s = this.steps.get(n);
    if (!s) {
      s = { step: n, groups: 0, traces: 0, reward: emptyMean(), uplift: emptyMean(), withRate: emptyMean(), baseline: emptyMean(), metrics: null };
      this.steps.set(n, s);
    }
    return s;
  }

  /**
   * The steps pooled into at most `maxBuckets` buckets of equal width (a
   * power of two, so buckets stay put as the run grows): what the charts
   * draw, whatever the run's length.
   */
  stepBuckets(maxBuckets = 200): StepBucket[] {
    if (!this.steps.size) return [];
    let lo = Infinity;
    let hi = -Infinity;
    for (const k of this.steps.keys()) {
      if (k < lo) lo = k;
      if (k > hi) hi = k;
    }
    let width = 1;
    while (Math.floor(hi / width) - Math.floor(lo / width) + 1 > maxBuckets) width *= 2;
    const first = Math.floor(lo / width);
    const pooled: Array<{ acc: StepAgg; from: number; to: number; metricSums: Map<string, [number, number]> } | undefined> = [];
    for (const s of this.steps.values()) {
      const b = Math.floor(s.step / width) - first;
      let p = pooled[b];
      if (!p) {
        p = {
          acc: { step: s.step, groups: 0, traces: 0, reward: emptyMean(), uplift: emptyMean(), withRate: emptyMean(), baseline: emptyMean(), metrics: null },
          from: s.step,
          to: s.step,
          metricSums: new Map(),
        };
        pooled[b] = p;
      }
      p.from = Math.min(p.from, s.step);
      p.to = Math.max(p.to, s.step);
      p.acc.groups += s.groups;
      p.acc.traces += s.traces;
      mergeMean(p.acc.reward, s.reward);
      mergeMean(p.acc.uplift, s.uplift);
      mergeMean(p.acc.withRate, s.withRate);
      for (const [name, v] of Object.entries(s.metrics ?? {})) {
        const m = p.metricSums.get(name) ?? [0, 0];
        m[0] += v;
        m[1]++;
        p.metricSums.set(name, m);
      }
    }
    const out: StepBucket[] = [];
    for (const p of pooled) {
      if (!p) continue;
      const metrics: Record<string, number> = {};
      for (const [name, [sum, n]] of p.metricSums) metrics[name] = sum / n;
      out.push({
        from: p.from,
        to: p.to,
        groups: p.acc.groups,
        traces: p.acc.traces,
        reward: meanInterval(p.acc.reward),
        uplift: meanInterval(p.acc.uplift),
        withRate: meanInterval(p.acc.withRate),
        metrics,
      });
    }
    return out;
  }
}
