/**
 * LLM-judge saturation: the distribution of judge scores next to the Reason
 * RM's on the same traces. The paper found 573 of 600 judge scores above
 * 0.95 (mean 0.990) while the RM spread; a judge that scores everything
 * near 1 cannot rank traces.
 */
import type { RolloutGroup } from '../contract';
import { mean } from './stats';

export const SATURATION_THRESHOLD = 0.95;

export interface ScoreDistribution {
  n: number;
  mean: number | null;
  /** Share of scores above 0.95. */
  aboveThreshold: number | null;
  /** Counts in ten bins of width 0.1 over [0,1] (scores clamped into it). */
  histogram: number[];
}

export interface JudgeSaturation {
  judge: ScoreDistribution;
  rm: ScoreDistribution;
  /** Traces with both scores. */
  paired: number;
}

function distribution(scores: number[]): ScoreDistribution {
  const histogram = new Array<number>(10).fill(0);
  for (const s of scores) histogram[Math.min(9, Math.max(0, Math.floor(Math.min(1, Math.max(0, s)) * 10)))]!++;
  return {
    n: scores.length,
    mean: mean(scores),
    aboveThreshold: scores.length ? scores.filter((s) => s > SATURATION_THRESHOLD).length / scores.length : null,
    histogram,
  };
}

export function judgeSaturation(groups: RolloutGroup[]): JudgeSaturation {
  const samples = groups.flatMap((g) => g.samples);
  return {
    judge: distribution(samples.flatMap((s) => (s.judge_score === null ? [] : [s.judge_score]))),
    rm: distribution(samples.flatMap((s) => (s.rm_score === null ? [] : [s.rm_score]))),
    paired: samples.filter((s) => s.judge_score !== null && s.rm_score !== null).length,
  };
}
