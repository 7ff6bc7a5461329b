/**
 * The difference of two runs' means over the problems both ran, paired by
 * problem: the mean of the per-problem differences (B − A) with its
 * Student-t 95 % interval. Pairing removes the spread between problems
 * (some are easy for every configuration), so the interval is the one that
 * says whether B differs from A on these problems. Problems only one run has
 * are left out (they are counted apart). No `vscode` import.
 */
import type { ProblemDelta, ProblemFigures } from '../../services/runs/compare';
import { addValue, emptyMean, meanInterval } from '../../services/runs/stats';
import type { PairedDelta } from '../../../webviewProtocol';

export function pairedDelta(rows: readonly ProblemDelta[], pick: (f: ProblemFigures) => number | null): PairedDelta {
  const a = emptyMean();
  const b = emptyMean();
  const d = emptyMean();
  for (const r of rows) {
    const va = r.a ? pick(r.a) : null;
    const vb = r.b ? pick(r.b) : null;
    if (va === null || vb === null) continue;
    addValue(a, va);
    addValue(b, vb);
    addValue(d, vb - va);
  }
  const m = meanInterval(d);
  return { n: m.n, meanA: meanInterval(a).mean, meanB: meanInterval(b).mean, mean: m.mean, sd: m.sd, se: m.se, lo: m.lo, hi: m.hi };
}

/** Uplift and with-trace success, paired over the shared problems. */
export function pairedDeltas(rows: readonly ProblemDelta[]): { uplift: PairedDelta; success: PairedDelta } {
  return { uplift: pairedDelta(rows, (f) => f.uplift), success: pairedDelta(rows, (f) => f.success) };
}
