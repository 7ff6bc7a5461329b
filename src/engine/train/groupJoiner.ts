/**
 * Joins scored samples into rollout groups by (step, problem). The G
 * completions of one problem at one step can arrive in several reward
 * requests (TRL splits a batch over processes and GPUs), so each request's
 * samples are a part; a group is emitted once G samples of its (step,
 * problem) have arrived. Parts still open when a later step arrives, or when
 * the run ends, are emitted as they are (a partial group), so no scored
 * sample is ever dropped.
 */
import type { Baseline, RolloutGroup } from '../contract';
import { tally } from '../uplift/scorer';

export interface GroupJoinerOptions {
  /** Samples per complete group (num_generations). */
  groupSize: number;
  /** Receives each joined group once. */
  emit: (group: RolloutGroup) => void;
  /**
   * True when every trace has its own fresh no-trace samples (protocol
   * baseline "per_trace"): the joined group's baseline pools the parts'.
   * Otherwise the parts share the problem's one baseline.
   */
  poolBaselines?: boolean;
}

interface OpenGroup {
  step: number;
  parts: RolloutGroup[];
  count: number;
}

const keyOf = (step: number, problemId: string) => `${step}\u0000${problemId}`;

export class GroupJoiner {
  private readonly open = new Map<string, OpenGroup>();
  private latestStep = -Infinity;

  constructor(private readonly opts: GroupJoinerOptions) {
    if (!Number.isInteger(opts.groupSize) || opts.groupSize < 1) throw new Error('groupSize must be a positive integer');
  }

  /** Groups waiting for samples. */
  get pending(): number {
    return this.open.size;
  }

  /** Adds the samples a request scored for one problem; `part.step` must be set. */
  add(part: RolloutGroup): void {
    const step = part.step;
    if (step === null) throw new Error('a training group part needs its step');
    if (step > this.latestStep) {
      this.latestStep = step;
      this.flushBefore(step);
    }
    let samples = part.samples;
    while (samples.length) {
      const key = keyOf(step, part.problem_id);
      let group = this.open.get(key);
      if (!group) this.open.set(key, (group = { step, parts: [], count: 0 }));
      const room = this.opts.groupSize - group.count;
      const taken = samples.slice(0, room);
      samples = samples.slice(room);
      group.parts.push({ ...part, samples: taken });
      group.count += taken.length;
      if (group.count >= this.opts.groupSize) {
        this.open.delete(key);
        this.opts.emit(this.join(group.parts));
      }
    }
  }

  /** Emits every open group of a step before `step`. */
  flushBefore(step: number): void {
    for (const [key, group] of this.open) {
      if (group.step < step) {
        this.open.delete(key);
        this.opts.emit(this.join(group.parts));
      }
    }
  }

  /** Emits every open group (the run is ending). */
  flushAll(): void {
    this.flushBefore(Infinity);
  }

  private join(parts: RolloutGroup[]): RolloutGroup {
    const first = parts[0]!;
    return {
      ...first,
      time: new Date().toISOString(),
      baseline: this.joinBaselines(parts),
      samples: parts.flatMap((p) => p.samples),
    };
  }

  private joinBaselines(parts: RolloutGroup[]): Baseline {
    // A part split over two groups keeps its baseline object: count it once.
    const distinct = [...new Set(parts.map((p) => p.baseline))];
    if (distinct.length === 1 || !this.opts.poolBaselines) return distinct[0]!;
    const attempts = distinct.flatMap((b) => b.attempts);
    const requested = distinct.reduce((n, b) => n + b.tally.requested, 0);
    return { tally: tally(attempts, requested), attempts, cache_key: distinct[0]!.cache_key, from_cache: false };
  }
}
