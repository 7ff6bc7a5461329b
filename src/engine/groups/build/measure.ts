/**
 * `--measure`: every trace of a group scored by the engine as an eval of a
 * groups file scores it (the run's GroupScorer: K with-trace samples, the
 * cached no-trace baseline, the task's verifier), and each trace's uplift
 * kept on the candidate. This checks that a perturbation hurts the
 * executor, not only the text.
 */
import type { GroupRecordInput } from '../io';
import { GroupRecordSchema, type MeasuredUplift } from '../../contract';
import type { GroupScorer } from '../../uplift/scorer';
import { expandGroup, groupProblem, isCodeGroupRecord } from '../expand';

export interface GroupMeasurerInfo {
  /** Stable executor identity (what the baseline cache keys on). */
  executor: string;
  k: number;
  baselineSamples: number;
  promptVersion: string;
}

export class GroupMeasurer {
  private groupIndex = 0;

  constructor(
    private readonly scorer: GroupScorer,
    readonly info: GroupMeasurerInfo,
    /** The task whose verifier judges the answers (a code record is judged by its own tests). */
    private readonly taskName: string,
  ) {}

  /** Uplift per trace, positives first then negatives (expandGroup order). */
  async measure(record: GroupRecordInput): Promise<{ positives: MeasuredUplift[]; negatives: MeasuredUplift[] }> {
    const parsed = GroupRecordSchema.parse(record);
    const posed = groupProblem(parsed, this.taskName, isCodeGroupRecord(parsed) ? 'code' : 'math');
    if ('error' in posed) throw new Error(`cannot measure: ${posed.error}`);
    const problem = posed.problem;
    const traces = expandGroup(parsed);
    const group = await this.scorer.scoreGroup(
      problem,
      traces.map((t) => ({ sample_id: t.id, trace: t.text, source: 'groups', label: t.negativeKind ?? 'positive' })),
      { groupIndex: this.groupIndex++ },
    );
    const measured = group.samples.map((s): MeasuredUplift => {
      // A per-trace baseline (official protocol) is the trace's own; else the problem's.
      const baseline = s.no_trace?.tally ?? group.baseline.tally;
      return {
        uplift: s.uplift,
        with_trace_successes: s.with_trace.tally.successes,
        with_trace_valid: s.with_trace.tally.valid,
        baseline_rate: baseline.rate,
        baseline_valid: baseline.valid,
      };
    });
    const split = parsed.positive_pool.length;
    return { positives: measured.slice(0, split), negatives: measured.slice(split) };
  }
}
