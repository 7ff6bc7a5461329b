/**
 * The running aggregates of a run index, through the engine's summary
 * accumulator (src/engine/run/summary.ts: summary.json's semantics) — for
 * the run, per task and per problem — plus the uplift histogram and the
 * reward series. A group superseded by a later one of its (step,
 * problem_id) is taken back out (the engine's rule, engine/run/supersede.ts).
 * Memory stays flat in the run's length except one small record per group and the
 * per-problem row lists. No `vscode` import.
 */
import type { RolloutGroup } from '../../../engine/contract';
import { addGroupToSummary, emptySummaryAcc, groupSummaryAcc, mergeSummaryAcc, type SummaryAcc } from '../../../engine/run/summary';
import { LatestGroups } from '../../../engine/run/supersede';

export const HISTOGRAM_BINS = 20;
const SERIES_BUCKETS = 256;

/** One problem of a run: its running sums, and its rows in arrival order. */
export interface ProblemAgg {
  task: string;
  problemId: string;
  /** `acc.problems` counts the problem's groups. */
  acc: SummaryAcc;
  rows: number[];
}
export const problemKey = (task: string, problemId: string) => `${task}\u0000${problemId}`;

/** What a group added, kept so a later group of its (step, problem_id) can take it back out (the engine's supersede rule). */
interface GroupShare {
  task: string;
  prob: ProblemAgg;
  acc: SummaryAcc;
  rows: number[];
  /** Histogram bin per sample, −1 for an unknown uplift. */
  bins: number[];
  x: number;
  rewards: number[];
}

/** Mean reward per bucket of x, in at most 256 buckets (widths double as x grows): flat memory. */
export class Series {
  width = 1;
  private sums = new Float64Array(SERIES_BUCKETS);
  private counts = new Int32Array(SERIES_BUCKETS);
  private max = -1;

  add(x: number, y: number): void {
    if (!(x >= 0)) x = 0;
    let b = Math.floor(x / this.width);
    while (b >= SERIES_BUCKETS) {
      for (let i = 0; i < SERIES_BUCKETS / 2; i++) {
        this.sums[i] = this.sums[2 * i]! + this.sums[2 * i + 1]!;
        this.counts[i] = this.counts[2 * i]! + this.counts[2 * i + 1]!;
      }
      this.sums.fill(0, SERIES_BUCKETS / 2);
      this.counts.fill(0, SERIES_BUCKETS / 2);
      this.width *= 2;
      this.max = Math.floor(this.max / 2);
      b = Math.floor(x / this.width);
    }
    this.sums[b]! += y;
    this.counts[b]! += 1;
    if (b > this.max) this.max = b;
  }

  /** Takes back a value added with add(x, y). */
  remove(x: number, y: number): void {
    if (!(x >= 0)) x = 0;
    const b = Math.floor(x / this.width);
    if (b >= SERIES_BUCKETS || this.counts[b]! <= 0) return;
    this.sums[b]! -= y;
    this.counts[b]! -= 1;
  }

  points(): Array<{ x: number; y: number; n: number }> {
    const out: Array<{ x: number; y: number; n: number }> = [];
    for (let b = 0; b <= this.max; b++) {
      const n = this.counts[b]!;
      if (n) out.push({ x: b * this.width + (this.width - 1) / 2, y: this.sums[b]! / n, n });
    }
    return out;
  }

  clear(): void {
    this.width = 1;
    this.sums.fill(0);
    this.counts.fill(0);
    this.max = -1;
  }
}

export class RunAggregates {
  micro = emptySummaryAcc();
  readonly byTask = new Map<string, SummaryAcc>();
  /** By problemKey(task, problem id), in order of first arrival. */
  readonly problems = new Map<string, ProblemAgg>();
  /** Problems by id alone (a groups record names its problem, not its task). */
  private readonly byProblemId = new Map<string, ProblemAgg[]>();
  histogram = new Int32Array(HISTOGRAM_BINS);
  histogramUnknown = 0;
  readonly series = new Series();
  /** The series' x is the training step once a group carries one (else the group ordinal). */
  seriesByStep = false;

  private readonly latest = new LatestGroups<GroupShare>();

  clear(): void {
    this.latest.clear();
    this.micro = emptySummaryAcc();
    this.byTask.clear();
    this.problems.clear();
    this.byProblemId.clear();
    this.histogram = new Int32Array(HISTOGRAM_BINS);
    this.histogramUnknown = 0;
    this.series.clear();
    this.seriesByStep = false;
  }

  /** Adds a group whose rows start at `firstRow`; `ordinal` is its position among the run's groups. */
  addGroup(g: RolloutGroup, firstRow: number, ordinal: number): void {
    let acc = this.byTask.get(g.task);
    if (!acc) this.byTask.set(g.task, (acc = emptySummaryAcc()));
    addGroupToSummary(acc, g);
    addGroupToSummary(this.micro, g);
    const key = problemKey(g.task, g.problem_id);
    let prob = this.problems.get(key);
    if (!prob) {
      prob = { task: g.task, problemId: g.problem_id, acc: emptySummaryAcc(), rows: [] };
      this.problems.set(key, prob);
      const same = this.byProblemId.get(g.problem_id);
      if (same) same.push(prob);
      else this.byProblemId.set(g.problem_id, [prob]);
    }
    addGroupToSummary(prob.acc, g);
    if (g.step !== null) this.seriesByStep = true;
    const x = g.step ?? ordinal;
    const share: GroupShare = { task: g.task, prob, acc: groupSummaryAcc(g), rows: [], bins: [], x, rewards: [] };
    g.samples.forEach((s, i) => {
      prob.rows.push(firstRow + i);
      share.rows.push(firstRow + i);
      if (s.uplift !== null) {
        const bin = Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor(((s.uplift + 1) / 2) * HISTOGRAM_BINS)));
        this.histogram[bin]!++;
        share.bins.push(bin);
      } else {
        this.histogramUnknown++;
        share.bins.push(-1);
      }
      if (s.reward) {
        this.series.add(x, s.reward.value);
        share.rewards.push(s.reward.value);
      }
    });
    const superseded = this.latest.put(g, share);
    if (superseded) this.takeBack(superseded);
  }

  /** A group superseded by a later one of its (step, problem_id) no longer counts (its rows stay in the index). */
  private takeBack(old: GroupShare): void {
    mergeSummaryAcc(this.micro, old.acc, -1);
    const taskAcc = this.byTask.get(old.task);
    if (taskAcc) mergeSummaryAcc(taskAcc, old.acc, -1);
    mergeSummaryAcc(old.prob.acc, old.acc, -1);
    const gone = new Set(old.rows);
    old.prob.rows = old.prob.rows.filter((r) => !gone.has(r));
    for (const bin of old.bins) {
      if (bin < 0) this.histogramUnknown--;
      else this.histogram[bin]!--;
    }
    for (const y of old.rewards) this.series.remove(old.x, y);
  }

  /** Problems with this id, whatever their task. */
  problemsWithId(problemId: string): readonly ProblemAgg[] {
    return this.byProblemId.get(problemId) ?? [];
  }
}
