/**
 * Per-problem comparison of two runs: with-trace success, baseline and mean
 * uplift of each problem in run A and run B, and the deltas (B − A). Built
 * from the indexes' per-problem aggregates (no group is re-read), cached
 * until either run changes. No `vscode` import; its types are its own (the
 * compare controller maps them to messages).
 */
import { meanOf as mean, summaryRow } from '../../../engine/run/summary';
import type { ProblemAgg } from './runAggregates';
import type { RunIndex } from './runIndex';

/** One problem's figures in one run. */
export interface ProblemFigures {
  traces: number;
  /** Mean with-trace success rate over the problem's traces. */
  success: number | null;
  baseline: number | null;
  uplift: number | null;
  reward: number | null;
}

/** One problem of either run, with its figures on each side and the deltas (B − A). */
export interface ProblemDelta {
  key: string;
  task: string;
  problemId: string;
  a: ProblemFigures | null;
  b: ProblemFigures | null;
  deltaSuccess: number | null;
  deltaUplift: number | null;
}

export interface DeltaOrder {
  task: string | null;
  presence: 'all' | 'both' | 'onlyA' | 'onlyB';
  sort: 'deltaUplift' | 'deltaSuccess' | 'absDeltaUplift' | 'absDeltaSuccess' | 'problem';
  dir: 'asc' | 'desc';
}

export function compareSide(p: ProblemAgg | undefined): ProblemFigures | null {
  if (!p) return null;
  const r = summaryRow(p.acc);
  return { traces: r.traces, success: r.with_trace_success, baseline: r.no_trace_success, uplift: r.mean_uplift, reward: r.mean_reward };
}

const delta = (a: number | null | undefined, b: number | null | undefined) =>
  a === null || a === undefined || b === null || b === undefined ? null : b - a;

export interface CompareTableData {
  rows: ProblemDelta[];
  tasks: string[];
  counts: { both: number; onlyA: number; onlyB: number };
  meanDeltaSuccess: number | null;
  meanDeltaUplift: number | null;
}

export function buildCompare(a: ReadonlyMap<string, ProblemAgg>, b: ReadonlyMap<string, ProblemAgg>): CompareTableData {
  const rows: ProblemDelta[] = [];
  const tasks = new Set<string>();
  const counts = { both: 0, onlyA: 0, onlyB: 0 };
  let dsSum = 0;
  let dsN = 0;
  let duSum = 0;
  let duN = 0;
  const keys = new Set([...a.keys(), ...b.keys()]);
  for (const key of keys) {
    const pa = a.get(key);
    const pb = b.get(key);
    const p = (pa ?? pb)!;
    tasks.add(p.task);
    const sa = compareSide(pa);
    const sb = compareSide(pb);
    if (sa && sb) counts.both++;
    else if (sa) counts.onlyA++;
    else counts.onlyB++;
    const deltaSuccess = delta(sa?.success, sb?.success);
    const deltaUplift = delta(sa?.uplift, sb?.uplift);
    if (deltaSuccess !== null) {
      dsSum += deltaSuccess;
      dsN++;
    }
    if (deltaUplift !== null) {
      duSum += deltaUplift;
      duN++;
    }
    rows.push({ key, task: p.task, problemId: p.problemId, a: sa, b: sb, deltaSuccess, deltaUplift });
  }
  return { rows, tasks: [...tasks].sort(), counts, meanDeltaSuccess: mean(dsSum, dsN), meanDeltaUplift: mean(duSum, duN) };
}

export function compareQueryKey(q: DeltaOrder): string {
  return JSON.stringify([q.task, q.presence, q.sort, q.dir]);
}

/** Filters and sorts compare rows (unknown deltas last, problem id as tie-break). */
export function queryCompare(rows: ProblemDelta[], q: DeltaOrder): ProblemDelta[] {
  const out = rows.filter((r) => {
    if (q.task !== null && r.task !== q.task) return false;
    switch (q.presence) {
      case 'both':
        return r.a !== null && r.b !== null;
      case 'onlyA':
        return r.a !== null && r.b === null;
      case 'onlyB':
        return r.a === null && r.b !== null;
      default:
        return true;
    }
  });
  const sign = q.dir === 'asc' ? 1 : -1;
  const val = (r: ProblemDelta): number | null => {
    switch (q.sort) {
      case 'deltaSuccess':
        return r.deltaSuccess;
      case 'deltaUplift':
        return r.deltaUplift;
      case 'absDeltaSuccess':
        return r.deltaSuccess === null ? null : Math.abs(r.deltaSuccess);
      case 'absDeltaUplift':
        return r.deltaUplift === null ? null : Math.abs(r.deltaUplift);
      default:
        return null;
    }
  };
  const byProblem = (x: ProblemDelta, y: ProblemDelta) =>
    x.task < y.task ? -1 : x.task > y.task ? 1 : x.problemId.localeCompare(y.problemId, undefined, { numeric: true });
  if (q.sort === 'problem') out.sort((x, y) => sign * byProblem(x, y));
  else
    out.sort((x, y) => {
      const vx = val(x);
      const vy = val(y);
      if (vx === null || vy === null) return vx === vy ? byProblem(x, y) : vx === null ? 1 : -1;
      return vx !== vy ? sign * (vx - vy) : byProblem(x, y);
    });
  return out;
}

/** Caches the joined table and sorted views of two runs until either changes. */
export class CompareModel {
  private data: CompareTableData | null = null;
  private versions = '';
  private readonly views = new Map<string, ProblemDelta[]>();

  constructor(
    readonly a: RunIndex,
    readonly b: RunIndex,
  ) {}

  get version(): number {
    return this.a.version + this.b.version;
  }

  table(): CompareTableData {
    const v = `${this.a.epoch}:${this.a.version}/${this.b.epoch}:${this.b.version}`;
    if (!this.data || v !== this.versions) {
      this.data = buildCompare(this.a.aggregates.problems, this.b.aggregates.problems);
      this.versions = v;
      this.views.clear();
    }
    return this.data;
  }

  view(q: DeltaOrder): ProblemDelta[] {
    const data = this.table();
    const key = compareQueryKey(q);
    let v = this.views.get(key);
    if (!v) {
      v = queryCompare(data.rows, q);
      if (this.views.size > 6) this.views.clear();
      this.views.set(key, v);
    }
    return v;
  }
}
