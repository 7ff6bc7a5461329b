/**
 * The signal a researcher looks for in one rollout group: how each trace
 * does against the group's reference. A group from a TraceLift-Groups file
 * (or a dataset's reference traces) holds reference traces (source
 * `reference` or `positive`) and perturbed ones (source `negative`, labelled
 * with their negative_kind). The group's reference uplift is the mean uplift
 * of its reference traces; each trace's Δ is its uplift minus that; a
 * negative "beats the reference" when its Δ > 0 (the reward failed to rank
 * the perturbed trace below the one it was made from). Groups without a
 * reference (training rollouts, planner evals) have no Δ. No `vscode` import.
 */
import type { RolloutGroup, TraceSample } from '../../../engine/contract';

export const REFERENCE_SOURCES: ReadonlySet<string> = new Set(['reference', 'positive']);
export const NEGATIVE_SOURCE = 'negative';
/** Δ within this of 0 is a tie (means of rates carry rounding). */
const TIE = 1e-9;

export const isReference = (s: Pick<TraceSample, 'source'>) => REFERENCE_SOURCES.has(s.source);
export const isNegative = (s: Pick<TraceSample, 'source'>) => s.source === NEGATIVE_SOURCE;

/** The kind a trace is counted under in the per-kind table: its negative_kind, "reference", or its source. */
export function traceKind(s: Pick<TraceSample, 'source' | 'label'>): string {
  if (isNegative(s)) return s.label ?? NEGATIVE_SOURCE;
  if (isReference(s)) return 'reference';
  return s.source;
}

export interface GroupSignal {
  /** Mean uplift of the reference traces with a known uplift; null without one. */
  refUplift: number | null;
  /** Per sample: uplift − refUplift (null when either is unknown). */
  deltas: Array<number | null>;
  /** Per sample: a negative whose uplift is above the reference's. */
  beats: boolean[];
  kinds: string[];
  references: number;
  negatives: number;
  /** How many negatives beat the reference. */
  beatCount: number;
  /** Largest Δ among the negatives (null when none is known). */
  maxNegativeDelta: number | null;
  /** The sample with the highest uplift (−1 when none is known). */
  best: number;
}

export function groupSignal(g: Pick<RolloutGroup, 'samples'>): GroupSignal {
  let refSum = 0;
  let refN = 0;
  let references = 0;
  let negatives = 0;
  let best = -1;
  g.samples.forEach((s, i) => {
    if (isReference(s)) {
      references++;
      if (s.uplift !== null) {
        refSum += s.uplift;
        refN++;
      }
    } else if (isNegative(s)) negatives++;
    if (s.uplift !== null && (best < 0 || s.uplift > g.samples[best]!.uplift!)) best = i;
  });
  const refUplift = refN ? refSum / refN : null;
  let beatCount = 0;
  let maxNegativeDelta: number | null = null;
  const deltas = g.samples.map((s) => (refUplift === null || s.uplift === null ? null : s.uplift - refUplift));
  const beats = g.samples.map((s, i) => {
    const d = deltas[i]!;
    if (!isNegative(s) || d === null) return false;
    if (maxNegativeDelta === null || d > maxNegativeDelta) maxNegativeDelta = d;
    if (d > TIE) beatCount++;
    return d > TIE;
  });
  return {
    refUplift,
    deltas,
    beats,
    kinds: g.samples.map(traceKind),
    references,
    negatives,
    beatCount,
    maxNegativeDelta,
    best,
  };
}
