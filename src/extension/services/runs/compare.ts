/**
 * Per-problem comparison of two runs: with-trace success, baseline and mean
 * uplift of each problem in run A and run B, and the deltas (B − A). Built
 * from the indexes' per-problem aggregates (no group is re-read), cached
 * until either run changes. No `vscode` import.
 */
import type { CompareQuery, CompareRow, CompareSide } from '../../../webviewProtocol';
import type { ProblemAgg, RunIndex } from './runIndex';
import { meanOf as mean } from '../../../engine/run/summary';

export function compareSide(p: ProblemAgg | undefined): CompareSide | null {
  if (!p) return null;
  return {
    traces: p.traces,
    success: mean(p.withSum, p.withN),
    baseline: mean(p.baseSum, p.baseN),
    uplift: mean(p.upliftSum, p.upliftN),
    reward: mean(p.rewardSum, p.rewardN),
  };
}

const delta = (a: number | null | undefined, b: number | null | undefined) =>
  a === null || a === undefined || b === null || b === undefined ? null : b - a;

export interface CompareTableData {
  rows: CompareRow[];
  tasks: string[];
  counts: { both: number; onlyA: number; onlyB: number };
  meanDeltaSuccess: number | null;
  meanDeltaUplift: number | null;
}

export function buildCompare(a: ReadonlyMap<string, ProblemAgg>, b: ReadonlyMap<string, ProblemAgg>): CompareTableData {
  const rows: CompareRow[] = [];
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

export function compareQueryKey(q: CompareQuery): string {
  return JSON.stringify([q.task, q.presence, q.sort, q.dir]);
}

/** Filters and sorts compare rows (unknown deltas last, problem id as tie-break). */
export function queryCompare(rows: CompareRow[], q: CompareQuery): CompareRow[] {
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
  const val = (r: CompareRow): number | null => {
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
  const byProblem = (x: CompareRow, y: CompareRow) =>
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
  private readonly views = new Map<string, CompareRow[]>();

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
      this.data = buildCompare(this.a.problemAggregates(), this.b.problemAggregates());
      this.versions = v;
      this.views.clear();
    }
    return this.data;
  }

  view(q: CompareQuery): CompareRow[] {
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
