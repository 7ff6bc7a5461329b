/**
 * Filtered, sorted lists of a run index's rows, kept up to date
 * incrementally: new rows are filtered and appended (arrival order) or
 * merged (value sorts); a full rebuild only when the index was reset or a
 * search found matches among older rows. Positions are found by binary
 * search. At most a few lists are kept (least recently used dropped).
 * Rows of superseded groups (a later group event of their (step,
 * problem_id), the engine's rule) are never listed: a supersede drops them
 * from lists already built.
 * No `vscode` import.
 */
import { ERROR_MASK, FLAGS, type RunRows } from './runRows';
import type { SearchEntry } from './runSearch';

export type UpliftSign = 'any' | 'positive' | 'negative' | 'zero' | 'unknown';
export type RowSortKey = 'arrival' | 'uplift' | 'reward' | 'rm' | 'baseline' | 'withRate' | 'delta';

export interface RowFilter {
  /** Task name, or null for all tasks. */
  task: string | null;
  upliftSign: UpliftSign;
  upliftMin: number | null;
  upliftMax: number | null;
  /** success: e2e ≥ 0.5 (or the with-trace rate ≥ 0.5 when e2e is unknown). */
  success: 'any' | 'success' | 'failure';
  /** Only samples with errors or failed executor calls. */
  errorsOnly: boolean;
  /** Only samples of this training step (null: every step). */
  step: number | null;
  /** Only negatives whose uplift is above their group's reference. */
  beatsOnly: boolean;
  /** A JavaScript regular expression searched in the full trace text ('' = no search). */
  search: string;
  caseSensitive: boolean;
}

export interface RowQuery {
  filter: RowFilter;
  sort: { key: RowSortKey; dir: 'asc' | 'desc' };
}

export function queryKey(q: RowQuery): string {
  const f = q.filter;
  return JSON.stringify([
    f.task,
    f.upliftSign,
    f.upliftMin,
    f.upliftMax,
    f.success,
    f.errorsOnly,
    f.step,
    f.beatsOnly,
    f.search,
    f.search ? f.caseSensitive : false,
    q.sort.key,
    q.sort.dir,
  ]);
}

/** A filtered, sorted list of row ids. */
export class QueryView {
  ids = new Int32Array(0);
  n = 0;
  builtRows = 0;
  search: SearchEntry | null = null;
  searchGen = -1;
  epoch = -1;
  /** The rows' supersedeGen when superseded rows were last dropped. */
  supersedeGen = -1;
  lastUsed = 0;

  constructor(
    readonly key: string,
    readonly query: RowQuery,
  ) {}
}

export class RunQueries {
  private readonly views = new Map<string, QueryView>();
  private clock = 0;

  constructor(
    private readonly rows: RunRows,
    private readonly maxViews = 8,
  ) {}

  clear(): void {
    this.views.clear();
  }

  /**
   * The list for a query, up to date with the rows. `search` is the query's
   * compiled search (null without one); `invalid` empties the list (a bad regex).
   */
  view(query: RowQuery, search: SearchEntry | null, epoch: number, invalid = false): QueryView {
    const key = queryKey(query);
    let v = this.views.get(key);
    if (!v) {
      v = new QueryView(key, query);
      this.views.set(key, v);
      while (this.views.size > this.maxViews) {
        let oldest: QueryView | null = null;
        for (const x of this.views.values()) if (x !== v && (!oldest || x.lastUsed < oldest.lastUsed)) oldest = x;
        this.views.delete(oldest!.key);
      }
    }
    v.lastUsed = ++this.clock;
    if (invalid) {
      v.ids = new Int32Array(0);
      v.n = 0;
      v.builtRows = this.rows.rowCount;
      v.epoch = epoch;
      return v;
    }
    // With a search, only rows it has searched are listed (in arrival order, so later ones extend the list).
    const limit = search ? Math.min(search.scannedRows, this.rows.rowCount) : this.rows.rowCount;
    const stale = v.epoch !== epoch || v.search !== search || (search !== null && v.searchGen !== search.gen);
    if (stale) this.rebuild(v, search, epoch, limit);
    else {
      if (v.supersedeGen !== this.rows.supersedeGen) this.dropSuperseded(v);
      if (v.builtRows < limit) this.extend(v, search, limit);
    }
    return v;
  }

  /** Row id at a position of a view. */
  idAt(v: QueryView, pos: number): number {
    if (v.query.sort.key === 'arrival' && v.query.sort.dir === 'desc') return v.ids[v.n - 1 - pos]!;
    return v.ids[pos]!;
  }

  /** Position of a row in a view, or −1 (binary search: O(log n)). */
  positionOf(v: QueryView, rowId: number): number {
    if (rowId < 0 || rowId >= this.rows.rowCount) return -1;
    if (v.query.sort.key === 'arrival') {
      let lo = 0;
      let hi = v.n - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const x = v.ids[mid]!;
        if (x === rowId) return v.query.sort.dir === 'desc' ? v.n - 1 - mid : mid;
        if (x < rowId) lo = mid + 1;
        else hi = mid - 1;
      }
      return -1;
    }
    const cmp = this.comparator(v.query);
    let lo = 0;
    let hi = v.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = cmp(rowId, v.ids[mid]!);
      if (c === 0) return mid;
      if (c > 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private predicate(f: RowFilter, search: SearchEntry | null): (i: number) => boolean {
    const r = this.rows;
    const taskId = f.task === null ? -2 : r.tasks.lookup(f.task);
    const { upliftSign: sign, upliftMin: min, upliftMax: max, success, errorsOnly, step, beatsOnly } = f;
    const { rGroup, gTask, gStep, gSuperseded, rUplift, rE2e, rWithRate: rWith, rFlags } = r;
    return (i) => {
      if (gSuperseded.get(rGroup.get(i))) return false;
      if (taskId !== -2 && gTask.get(rGroup.get(i)) !== taskId) return false;
      if (step !== null && gStep.get(rGroup.get(i)) !== step) return false;
      if (beatsOnly && !(rFlags.get(i) & FLAGS.beatsReference)) return false;
      const u = rUplift.get(i);
      if (sign !== 'any') {
        if (sign === 'unknown' ? u === u : !(sign === 'positive' ? u > 0 : sign === 'negative' ? u < 0 : u === 0)) return false;
      }
      if (min !== null && !(u >= min)) return false;
      if (max !== null && !(u <= max)) return false;
      if (success !== 'any') {
        const e = rE2e.get(i);
        const ok = e === e ? e >= 0.5 : rWith.get(i) >= 0.5;
        if (ok !== (success === 'success')) return false;
      }
      if (errorsOnly && !(rFlags.get(i) & ERROR_MASK)) return false;
      if (search && !search.matched.get(i)) return false;
      return true;
    };
  }

  /** Sort value of a row for a sort key (NaN = unknown, always last). */
  private valueFn(key: RowSortKey): (i: number) => number {
    const r = this.rows;
    switch (key) {
      case 'uplift':
        return (i) => r.rUplift.get(i);
      case 'reward':
        return (i) => r.rReward.get(i);
      case 'rm':
        return (i) => r.rRm.get(i);
      case 'withRate':
        return (i) => r.rWithRate.get(i);
      case 'delta':
        return (i) => r.rDelta.get(i);
      case 'baseline':
        return (i) => r.gBaseRate.get(r.rGroup.get(i));
      default:
        return (i) => i;
    }
  }

  private comparator(q: RowQuery): (a: number, b: number) => number {
    const val = this.valueFn(q.sort.key);
    const asc = q.sort.dir === 'asc';
    return (a, b) => {
      const va = val(a);
      const vb = val(b);
      const na = va !== va;
      const nb = vb !== vb;
      if (na || nb) {
        if (!(na && nb)) return na ? 1 : -1;
      } else if (va !== vb) return asc ? va - vb : vb - va;
      return asc ? a - b : b - a;
    };
  }

  private rebuild(v: QueryView, search: SearchEntry | null, epoch: number, n: number): void {
    const pred = this.predicate(v.query.filter, search);
    let ids = new Int32Array(Math.max(16, n));
    let m = 0;
    for (let i = 0; i < n; i++) if (pred(i)) ids[m++] = i;
    if (v.query.sort.key !== 'arrival') {
      const sorted = ids.subarray(0, m).sort(this.comparator(v.query));
      ids = new Int32Array(Math.max(16, m));
      ids.set(sorted);
    }
    v.ids = ids;
    v.n = m;
    v.builtRows = n;
    v.supersedeGen = this.rows.supersedeGen;
    v.search = search;
    v.searchGen = search ? search.gen : -1;
    v.epoch = epoch;
  }

  /** Takes the rows of groups superseded since the list was built out of it (order kept: no re-sort). */
  private dropSuperseded(v: QueryView): void {
    let m = 0;
    for (let p = 0; p < v.n; p++) {
      const id = v.ids[p]!;
      if (!this.rows.isSuperseded(id)) v.ids[m++] = id;
    }
    v.n = m;
    v.supersedeGen = this.rows.supersedeGen;
  }

  private extend(v: QueryView, search: SearchEntry | null, n: number): void {
    const pred = this.predicate(v.query.filter, search);
    const fresh: number[] = [];
    for (let i = v.builtRows; i < n; i++) if (pred(i)) fresh.push(i);
    v.builtRows = n;
    if (!fresh.length) return;
    if (v.query.sort.key === 'arrival') {
      if (v.n + fresh.length > v.ids.length) {
        const next = new Int32Array(Math.max(v.ids.length * 2, v.n + fresh.length, 16));
        next.set(v.ids.subarray(0, v.n));
        v.ids = next;
      }
      for (const id of fresh) v.ids[v.n++] = id;
      return;
    }
    const cmp = this.comparator(v.query);
    fresh.sort(cmp);
    const out = new Int32Array(Math.max(16, Math.ceil((v.n + fresh.length) * 1.25)));
    let a = 0;
    let b = 0;
    let o = 0;
    while (a < v.n && b < fresh.length) out[o++] = cmp(v.ids[a]!, fresh[b]!) <= 0 ? v.ids[a++]! : fresh[b++]!;
    while (a < v.n) out[o++] = v.ids[a++]!;
    while (b < fresh.length) out[o++] = fresh[b++]!;
    v.ids = out;
    v.n = o;
  }
}
