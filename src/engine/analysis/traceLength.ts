/**
 * Uplift and with-trace success against trace length (characters), in
 * bins of about equal counts (quantiles of the lengths).
 */
import type { RolloutGroup } from '../contract';
import { mean } from './stats';

export interface LengthBin {
  /** Shortest and longest trace in the bin (characters). */
  minChars: number;
  maxChars: number;
  traces: number;
  meanUplift: number | null;
  meanSuccess: number | null;
}

/** At most `bins` bins; traces of equal length never straddle two bins. */
export function traceLengthBins(groups: RolloutGroup[], bins = 5): LengthBin[] {
  const rows = groups
    .flatMap((g) => g.samples.map((s) => ({ len: [...s.trace].length, uplift: s.uplift, success: s.with_trace.tally.rate })))
    .sort((a, b) => a.len - b.len);
  if (!rows.length) return [];
  const out: LengthBin[] = [];
  const per = Math.max(1, Math.ceil(rows.length / bins));
  for (let i = 0; i < rows.length;) {
    let j = Math.min(rows.length, i + per);
    while (j < rows.length && rows[j]!.len === rows[j - 1]!.len) j++;
    const chunk = rows.slice(i, j);
    out.push({
      minChars: chunk[0]!.len,
      maxChars: chunk[chunk.length - 1]!.len,
      traces: chunk.length,
      meanUplift: mean(chunk.flatMap((r) => (r.uplift === null ? [] : [r.uplift]))),
      meanSuccess: mean(chunk.flatMap((r) => (r.success === null ? [] : [r.success]))),
    });
    i = j;
  }
  return out;
}
