/** How trace utility moves over training steps: per step, mean uplift and the shares of traces that help or hurt. */
import type { RolloutGroup } from '../contract';
import { mean } from './stats';

export interface StepUtility {
  step: number;
  traces: number;
  meanUplift: number | null;
  /** Shares among traces with an uplift. */
  positiveShare: number | null;
  negativeShare: number | null;
  meanReward: number | null;
}

/** One row per training step that has groups (eval groups, step null, are left out). */
export function trainingDynamics(groups: RolloutGroup[]): StepUtility[] {
  const bySteps = new Map<number, RolloutGroup[]>();
  for (const g of groups) if (g.step !== null) bySteps.set(g.step, [...(bySteps.get(g.step) ?? []), g]);
  return [...bySteps.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([step, gs]) => {
      const samples = gs.flatMap((g) => g.samples);
      const uplifts = samples.flatMap((s) => (s.uplift === null ? [] : [s.uplift]));
      return {
        step,
        traces: samples.length,
        meanUplift: mean(uplifts),
        positiveShare: uplifts.length ? uplifts.filter((u) => u > 0).length / uplifts.length : null,
        negativeShare: uplifts.length ? uplifts.filter((u) => u < 0).length / uplifts.length : null,
        meanReward: mean(samples.flatMap((s) => (s.reward ? [s.reward.value] : []))),
      };
    });
}
