/**
 * The compact rows of a run index: per sample a row in typed-array columns
 * (ids, task, k/K, baseline, uplift, reward, flags, a short trace preview),
 * per group the byte range and line of its events.jsonl line, so the full
 * group is re-read from disk on demand. No `vscode` import.
 */
import type { RolloutGroup } from '../../../engine/contract';
import { LatestGroups } from '../../../engine/run/supersede';
import { hasHiddenChars } from '../../../shared/safeText';
import { Column, Interner, f64, i32, u8 } from './columns';
import { groupSignal } from './groupSignal';

export const FLAGS = { errors: 1, failedCalls: 2, timeout: 4, noReward: 8, baselineFailed: 16, hiddenText: 32, beatsReference: 64 } as const;
const FLAG_NAMES: Array<[number, string]> = [
  [FLAGS.errors, 'errors'],
  [FLAGS.failedCalls, 'failed-calls'],
  [FLAGS.timeout, 'timeout'],
  [FLAGS.noReward, 'no-reward'],
  [FLAGS.baselineFailed, 'baseline-failed'],
  [FLAGS.hiddenText, 'hidden-text'],
  [FLAGS.beatsReference, 'beats-reference'],
];
/** The flag of a negative trace whose uplift is above its group's reference (groupSignal.ts). */
export const BEATS_REFERENCE_FLAG = 'beats-reference';
/** The flag a row gets when a later group event of its (step, problem_id) superseded its group. */
export const SUPERSEDED_FLAG = 'superseded';
/** Flags that count as "errors" for the errors-only filter. */
export const ERROR_MASK = FLAGS.errors | FLAGS.failedCalls | FLAGS.timeout | FLAGS.baselineFailed;

/** One sample as the index keeps it (the full group stays on disk). */
export interface RunRow {
  rowId: number;
  /** Line of the group's rollout_group event in events.jsonl (1-based). */
  line: number;
  groupIndex: number;
  step: number | null;
  task: string;
  problemId: string;
  sampleId: string;
  source: string;
  label: string | null;
  preview: string;
  /** With-trace successes (k) over valid attempts (K), and failed calls. */
  k: number;
  K: number;
  failed: number;
  withRate: number | null;
  baselineSuccesses: number;
  baselineValid: number;
  baselineRate: number | null;
  uplift: number | null;
  /** uplift − the group's reference uplift (groupSignal.ts); null without a reference. */
  delta: number | null;
  reward: number | null;
  e2e: number | null;
  rm: number | null;
  /**
   * "errors" (sample.errors), "failed-calls", "timeout", "no-reward",
   * "baseline-failed", "hidden-text" (invisible or reordering characters in
   * the trace, sample id or label), "beats-reference" (a negative whose
   * uplift is above its group's reference), "superseded" (a later group
   * event of its (step, problem_id) replaced its group: it no longer counts).
   */
  flags: string[];
  /** sample.errors plus failed calls. */
  errorCount: number;
}

/** One group as the group table shows it (groupSignal.ts for the reference figures). */
export interface GroupInfo {
  group: number;
  line: number;
  groupIndex: number;
  step: number | null;
  task: string;
  problemId: string;
  firstRow: number;
  samples: number;
  references: number;
  negatives: number;
  baselineSuccesses: number;
  baselineValid: number;
  baselineRate: number | null;
  /** Σk and ΣK over the group's traces. */
  k: number;
  K: number;
  refUplift: number | null;
  meanUplift: number | null;
  meanReward: number | null;
  /** Row id of the trace with the highest uplift (null when none is known), its kind, and whether it is a negative. */
  bestRow: number | null;
  bestUplift: number | null;
  bestLabel: string | null;
  bestIsNegative: boolean;
  maxNegativeDelta: number | null;
  /** Negatives above the reference. */
  beats: number;
  errorCount: number;
  /** The union of its rows' flags (and "superseded"). */
  flags: string[];
}

/** Where a row's group is: its ordinal, events.jsonl line and byte range, and its rows. */
export interface GroupLocation {
  group: number;
  line: number;
  offset: number;
  length: number;
  firstRow: number;
  rows: number;
}

/** A short, single-line preview that holds no reference to the full trace string. */
export function makePreview(trace: string, chars = 160): string {
  let s = trace.slice(0, chars * 2).replace(/\s+/g, ' ').trim();
  if (s.length > chars) s = s.slice(0, chars - 1) + '…';
  else if (trace.length > chars * 2) s += '…';
  // Copy through a Buffer so the preview is a flat string, not a slice pinning the whole trace in memory.
  return Buffer.from(s, 'utf8').toString('utf8');
}

/** NaN stands for "unknown" in the float columns. */
export const nn = (v: number): number | null => (v === v ? v : null);
const num = (v: number | null | undefined): number => (v === null || v === undefined ? NaN : v);

export class RunRows {
  /** Every typed column, registered as it is made, so clearing and sizing cannot miss one. */
  private readonly typed: Array<Column<Float64Array | Int32Array | Uint8Array>> = [];
  private column<C extends Column<Float64Array | Int32Array | Uint8Array>>(c: C): C {
    this.typed.push(c);
    return c;
  }

  // groups (one per rollout_group line)
  readonly gOffset = this.column(f64());
  readonly gLength = this.column(i32());
  readonly gLine = this.column(i32());
  readonly gIndex = this.column(i32());
  readonly gStep = this.column(i32());
  readonly gTask = this.column(i32());
  readonly gProblem: string[] = [];
  readonly gBaseRate = this.column(f64());
  readonly gBaseK = this.column(i32());
  readonly gBaseM = this.column(i32());
  readonly gFirstRow = this.column(i32());
  readonly gRows = this.column(i32());
  /** 1 when a later group event of the same (step, problem_id) superseded this one. */
  readonly gSuperseded = this.column(u8());
  // the group's signal against its reference (groupSignal.ts); NaN = unknown
  readonly gRefUplift = this.column(f64());
  readonly gMeanUplift = this.column(f64());
  readonly gMeanReward = this.column(f64());
  readonly gMaxNegDelta = this.column(f64());
  readonly gBeats = this.column(i32());
  readonly gRefs = this.column(i32());
  readonly gNegs = this.column(i32());
  /** Row id of the best trace (highest uplift), −1 when none is known. */
  readonly gBest = this.column(i32());
  readonly gSumK = this.column(i32());
  readonly gSumValid = this.column(i32());
  readonly gErrors = this.column(i32());
  readonly gFlags = this.column(u8());

  // rows (one per sample)
  readonly rGroup = this.column(i32());
  readonly rSampleId: string[] = [];
  readonly rSource = this.column(i32());
  readonly rLabel = this.column(i32());
  readonly rPreview: string[] = [];
  readonly rK = this.column(i32());
  readonly rValid = this.column(i32());
  readonly rFailed = this.column(i32());
  readonly rWithRate = this.column(f64());
  readonly rUplift = this.column(f64());
  readonly rDelta = this.column(f64());
  readonly rReward = this.column(f64());
  readonly rE2e = this.column(f64());
  readonly rRm = this.column(f64());
  readonly rFlags = this.column(u8());
  readonly rErrCount = this.column(i32());

  readonly tasks = new Interner();
  private readonly strings = new Interner();
  /** The latest group ordinal per (step, problem_id): the engine's supersede rule. */
  private readonly latest = new LatestGroups<number>();
  /** Rows of superseded groups, and the groups. */
  private supersededRows = 0;
  private supersededGroups = 0;
  /** Increases whenever a group is superseded (lists built before drop its rows). */
  supersedeGen = 0;
  /** The group the last addGroup superseded, or −1. */
  lastSuperseded = -1;

  constructor(private readonly previewChars = 160) {}

  get rowCount(): number {
    return this.rGroup.length;
  }
  get groupCount(): number {
    return this.gOffset.length;
  }

  /** Rows that count: those of groups no later group event superseded. */
  get liveRowCount(): number {
    return this.rowCount - this.supersededRows;
  }

  /** Groups that count (no later group event of their (step, problem_id)). */
  get liveGroupCount(): number {
    return this.groupCount - this.supersededGroups;
  }

  isSuperseded(rowId: number): boolean {
    return this.gSuperseded.get(this.rGroup.get(rowId)) === 1;
  }

  clear(): void {
    for (const c of this.typed) c.clear();
    this.gProblem.length = 0;
    this.rSampleId.length = 0;
    this.rPreview.length = 0;
    this.tasks.clear();
    this.strings.clear();
    this.latest.clear();
    this.supersededRows = 0;
    this.supersededGroups = 0;
    this.lastSuperseded = -1;
    this.supersedeGen++;
  }

  /** Adds a group's rows; returns the id of its first row. */
  addGroup(g: RolloutGroup, at: { line: number; offset: number; length: number }): number {
    const gi = this.groupCount;
    const firstRow = this.rowCount;
    const base = g.baseline.tally;
    const baselineFailed = !g.baseline.from_cache && base.failed > 0;
    this.gOffset.push(at.offset);
    this.gLength.push(at.length);
    this.gLine.push(at.line);
    this.gIndex.push(g.group_index);
    this.gStep.push(g.step ?? -1);
    this.gTask.push(this.tasks.id(g.task));
    this.gProblem.push(g.problem_id);
    this.gBaseRate.push(num(base.rate));
    this.gBaseK.push(base.successes);
    this.gBaseM.push(base.valid);
    this.gFirstRow.push(firstRow);
    this.gRows.push(g.samples.length);
    this.gSuperseded.push(0);
    const before = this.latest.put(g, gi);
    this.lastSuperseded = before ?? -1;
    if (before !== undefined) {
      this.gSuperseded.set(before, 1);
      this.supersededRows += this.gRows.get(before);
      this.supersededGroups++;
      this.supersedeGen++;
    }
    // Every text of a row that a view shows is checked here, once, so views read the flag.
    const groupHidden = hasHiddenChars(g.problem_id) || hasHiddenChars(g.task);
    const signal = groupSignal(g);
    let sumK = 0;
    let sumValid = 0;
    let errors = 0;
    let groupFlags = 0;
    let upSum = 0;
    let upN = 0;
    let rewSum = 0;
    let rewN = 0;
    g.samples.forEach((s, i) => {
      const t = s.with_trace.tally;
      let flags = 0;
      if (signal.beats[i]) flags |= FLAGS.beatsReference;
      if (s.errors.length) flags |= FLAGS.errors;
      if (t.failed > 0) flags |= FLAGS.failedCalls;
      if (s.with_trace.attempts.some((a) => a.verdict?.status && /timeout|timed.?out/i.test(a.verdict.status))) flags |= FLAGS.timeout;
      if (s.reward === null) flags |= FLAGS.noReward;
      if (baselineFailed) flags |= FLAGS.baselineFailed;
      if (
        groupHidden ||
        hasHiddenChars(s.trace) ||
        hasHiddenChars(s.sample_id) ||
        hasHiddenChars(s.source) ||
        (s.label !== null && hasHiddenChars(s.label))
      )
        flags |= FLAGS.hiddenText;
      this.rGroup.push(gi);
      this.rSampleId.push(s.sample_id);
      this.rSource.push(this.strings.id(s.source));
      this.rLabel.push(s.label === null ? -1 : this.strings.id(s.label));
      this.rPreview.push(makePreview(s.trace, this.previewChars));
      this.rK.push(t.successes);
      this.rValid.push(t.valid);
      this.rFailed.push(t.failed);
      this.rWithRate.push(num(t.rate));
      this.rUplift.push(num(s.uplift));
      this.rDelta.push(num(signal.deltas[i]));
      this.rReward.push(num(s.reward?.value));
      this.rE2e.push(num(s.e2e));
      this.rRm.push(num(s.rm_score));
      this.rFlags.push(flags);
      this.rErrCount.push(s.errors.length + t.failed);
      sumK += t.successes;
      sumValid += t.valid;
      errors += s.errors.length + t.failed;
      groupFlags |= flags;
      if (s.uplift !== null) {
        upSum += s.uplift;
        upN++;
      }
      if (s.reward) {
        rewSum += s.reward.value;
        rewN++;
      }
    });
    this.gRefUplift.push(num(signal.refUplift));
    this.gMeanUplift.push(upN ? upSum / upN : NaN);
    this.gMeanReward.push(rewN ? rewSum / rewN : NaN);
    this.gMaxNegDelta.push(num(signal.maxNegativeDelta));
    this.gBeats.push(signal.beatCount);
    this.gRefs.push(signal.references);
    this.gNegs.push(signal.negatives);
    this.gBest.push(signal.best < 0 ? -1 : firstRow + signal.best);
    this.gSumK.push(sumK);
    this.gSumValid.push(sumValid);
    this.gErrors.push(errors);
    this.gFlags.push(groupFlags);
    return firstRow;
  }

  row(i: number): RunRow {
    const g = this.rGroup.get(i);
    const flags = this.rFlags.get(i);
    const label = this.rLabel.get(i);
    const step = this.gStep.get(g);
    return {
      rowId: i,
      line: this.gLine.get(g),
      groupIndex: this.gIndex.get(g),
      step: step < 0 ? null : step,
      task: this.tasks.values[this.gTask.get(g)]!,
      problemId: this.gProblem[g]!,
      sampleId: this.rSampleId[i]!,
      source: this.strings.values[this.rSource.get(i)]!,
      label: label < 0 ? null : this.strings.values[label]!,
      preview: this.rPreview[i]!,
      k: this.rK.get(i),
      K: this.rValid.get(i),
      failed: this.rFailed.get(i),
      withRate: nn(this.rWithRate.get(i)),
      baselineSuccesses: this.gBaseK.get(g),
      baselineValid: this.gBaseM.get(g),
      baselineRate: nn(this.gBaseRate.get(g)),
      uplift: nn(this.rUplift.get(i)),
      delta: nn(this.rDelta.get(i)),
      reward: nn(this.rReward.get(i)),
      e2e: nn(this.rE2e.get(i)),
      rm: nn(this.rRm.get(i)),
      flags: [...FLAG_NAMES.filter(([bit]) => flags & bit).map(([, name]) => name), ...(this.gSuperseded.get(g) ? [SUPERSEDED_FLAG] : [])],
      errorCount: this.rErrCount.get(i),
    };
  }

  /** A group's figures for the group table. */
  groupInfo(g: number): GroupInfo {
    const flags = this.gFlags.get(g);
    const best = this.gBest.get(g);
    const step = this.gStep.get(g);
    const bestLabel = best < 0 ? -1 : this.rLabel.get(best);
    const bestSource = best < 0 ? '' : this.strings.values[this.rSource.get(best)]!;
    return {
      group: g,
      line: this.gLine.get(g),
      groupIndex: this.gIndex.get(g),
      step: step < 0 ? null : step,
      task: this.tasks.values[this.gTask.get(g)]!,
      problemId: this.gProblem[g]!,
      firstRow: this.gFirstRow.get(g),
      samples: this.gRows.get(g),
      references: this.gRefs.get(g),
      negatives: this.gNegs.get(g),
      baselineSuccesses: this.gBaseK.get(g),
      baselineValid: this.gBaseM.get(g),
      baselineRate: nn(this.gBaseRate.get(g)),
      k: this.gSumK.get(g),
      K: this.gSumValid.get(g),
      refUplift: nn(this.gRefUplift.get(g)),
      meanUplift: nn(this.gMeanUplift.get(g)),
      meanReward: nn(this.gMeanReward.get(g)),
      bestRow: best < 0 ? null : best,
      bestUplift: best < 0 ? null : nn(this.rUplift.get(best)),
      bestLabel: bestLabel < 0 ? (best < 0 ? null : bestSource) : this.strings.values[bestLabel]!,
      bestIsNegative: bestSource === 'negative',
      maxNegativeDelta: nn(this.gMaxNegDelta.get(g)),
      beats: this.gBeats.get(g),
      errorCount: this.gErrors.get(g),
      flags: [...FLAG_NAMES.filter(([bit]) => flags & bit).map(([, name]) => name), ...(this.gSuperseded.get(g) ? [SUPERSEDED_FLAG] : [])],
    };
  }

  groupOf(rowId: number): GroupLocation {
    return this.group(this.rGroup.get(rowId));
  }

  group(g: number): GroupLocation {
    return {
      group: g,
      line: this.gLine.get(g),
      offset: this.gOffset.get(g),
      length: this.gLength.get(g),
      firstRow: this.gFirstRow.get(g),
      rows: this.gRows.get(g),
    };
  }

  /** Finds a sample by problem and sample id (the latest, or the one in the group at `line`); −1 when absent. */
  findSample(problemId: string, sampleId: string, line: number | null = null): number {
    for (let i = this.rowCount - 1; i >= 0; i--) {
      if (this.rSampleId[i] !== sampleId) continue;
      const g = this.rGroup.get(i);
      if (this.gProblem[g] !== problemId) continue;
      if (line !== null && this.gLine.get(g) !== line) continue;
      return i;
    }
    return -1;
  }

  /** Approximate bytes held by the columns and strings (for the benchmark). */
  approxBytes(): number {
    let b = 0;
    for (const c of this.typed) b += c.bytes;
    for (const list of [this.rPreview, this.rSampleId, this.gProblem]) for (const s of list) b += s.length + 16;
    return b;
  }
}
