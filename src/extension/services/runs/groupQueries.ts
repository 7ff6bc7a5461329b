/**
 * The group table's lists: the run's groups (one row per rollout group,
 * superseded groups never listed), filtered and sorted, and the flat list
 * the table shows when some groups are expanded to their traces. Arrival
 * order is extended as groups arrive; a value sort is rebuilt when groups
 * arrived since (tens of thousands of groups sort in milliseconds). No
 * `vscode` import.
 */
import { ERROR_MASK, FLAGS, type RunRows } from './runRows';

export type GroupSortKey = 'arrival' | 'delta' | 'reference' | 'uplift' | 'reward' | 'beats';

export interface GroupQuery {
  filter: {
    task: string | null;
    /** Only groups of this training step (null: every step). */
    step: number | null;
    /** Only groups where a negative beats the reference. */
    beatsOnly: boolean;
    errorsOnly: boolean;
  };
  sort: { key: GroupSortKey; dir: 'asc' | 'desc' };
}

export function groupQueryKey(q: GroupQuery): string {
  const f = q.filter;
  return JSON.stringify(['groups', f.task, f.step, f.beatsOnly, f.errorsOnly, q.sort.key, q.sort.dir]);
}

export class GroupView {
  ids = new Int32Array(16);
  n = 0;
  builtGroups = 0;
  epoch = -1;
  supersedeGen = -1;
  lastUsed = 0;
  /** Position of each group in the list (−1: not listed), built on demand. */
  private pos: Int32Array | null = null;

  constructor(
    readonly key: string,
    readonly query: GroupQuery,
  ) {}

  /** Group ordinal at a position (arrival desc lists the newest first). */
  idAt(p: number): number {
    return this.reversed ? this.ids[this.n - 1 - p]! : this.ids[p]!;
  }

  get reversed(): boolean {
    return this.query.sort.key === 'arrival' && this.query.sort.dir === 'desc';
  }

  positionOf(group: number): number {
    if (!this.pos || this.pos.length < this.builtGroups) {
      this.pos = new Int32Array(Math.max(16, this.builtGroups)).fill(-1);
      for (let p = 0; p < this.n; p++) this.pos[this.idAt(p)] = p;
    }
    return group >= 0 && group < this.pos.length ? this.pos[group]! : -1;
  }

  /** The list changed: positions are found again when next asked. */
  changed(): void {
    this.pos = null;
  }
}

export class GroupQueries {
  private readonly views = new Map<string, GroupView>();
  private clock = 0;

  constructor(
    private readonly rows: RunRows,
    private readonly maxViews = 8,
  ) {}

  clear(): void {
    this.views.clear();
  }

  view(query: GroupQuery, epoch: number): GroupView {
    const key = groupQueryKey(query);
    let v = this.views.get(key);
    if (!v) {
      v = new GroupView(key, query);
      this.views.set(key, v);
      while (this.views.size > this.maxViews) {
        let oldest: GroupView | null = null;
        for (const x of this.views.values()) if (x !== v && (!oldest || x.lastUsed < oldest.lastUsed)) oldest = x;
        this.views.delete(oldest!.key);
      }
    }
    v.lastUsed = ++this.clock;
    const n = this.rows.groupCount;
    const stale = v.epoch !== epoch || v.supersedeGen !== this.rows.supersedeGen || (query.sort.key !== 'arrival' && v.builtGroups < n);
    if (stale) this.rebuild(v, epoch, 0);
    else if (v.builtGroups < n) this.rebuild(v, epoch, v.builtGroups);
    return v;
  }

  private predicate(q: GroupQuery): (g: number) => boolean {
    const r = this.rows;
    const f = q.filter;
    const taskId = f.task === null ? -2 : r.tasks.lookup(f.task);
    return (g) => {
      if (r.gSuperseded.get(g)) return false;
      if (taskId !== -2 && r.gTask.get(g) !== taskId) return false;
      if (f.step !== null && r.gStep.get(g) !== f.step) return false;
      if (f.beatsOnly && !(r.gFlags.get(g) & FLAGS.beatsReference)) return false;
      if (f.errorsOnly && !(r.gFlags.get(g) & ERROR_MASK)) return false;
      return true;
    };
  }

  private value(key: GroupSortKey): (g: number) => number {
    const r = this.rows;
    switch (key) {
      case 'delta':
        return (g) => r.gMaxNegDelta.get(g);
      case 'reference':
        return (g) => r.gRefUplift.get(g);
      case 'uplift':
        return (g) => r.gMeanUplift.get(g);
      case 'reward':
        return (g) => r.gMeanReward.get(g);
      case 'beats':
        return (g) => r.gBeats.get(g);
      default:
        return (g) => g;
    }
  }

  /** Lists groups from `from` on (0: from scratch); value sorts always rebuild from scratch. */
  private rebuild(v: GroupView, epoch: number, from: number): void {
    const n = this.rows.groupCount;
    const pred = this.predicate(v.query);
    if (from === 0) v.n = 0;
    if (v.ids.length < n) {
      const next = new Int32Array(Math.max(16, n * 1.25));
      next.set(v.ids.subarray(0, v.n));
      v.ids = next;
    }
    for (let g = from; g < n; g++) if (pred(g)) v.ids[v.n++] = g;
    if (v.query.sort.key !== 'arrival') {
      const val = this.value(v.query.sort.key);
      const asc = v.query.sort.dir === 'asc';
      // Unknown values last; ties by arrival, newest first.
      v.ids.subarray(0, v.n).sort((a, b) => {
        const va = val(a);
        const vb = val(b);
        const na = va !== va;
        const nb = vb !== vb;
        if (na || nb) {
          if (!(na && nb)) return na ? 1 : -1;
        } else if (va !== vb) return asc ? va - vb : vb - va;
        return b - a;
      });
    }
    v.builtGroups = n;
    v.epoch = epoch;
    v.supersedeGen = this.rows.supersedeGen;
    v.changed();
  }
}

/** An item of the group table: a group, or one trace of an expanded group. */
export type GroupItem = { kind: 'group'; group: number } | { kind: 'sample'; group: number; rowId: number };

/** Item keys for the webview's list (and its anchors): groups odd, traces even. */
export const groupItemKey = (i: GroupItem): number => (i.kind === 'group' ? 2 * i.group + 1 : 2 * i.rowId);

/**
 * A group list with some groups expanded to their traces, as one flat list
 * (each expanded group's traces right under it). Expanded groups not in the
 * list are ignored.
 */
export class FlatGroupList {
  /** Expanded groups in the list, by position: [position, group, its traces]. */
  private readonly open: Array<{ pos: number; group: number; size: number }>;
  readonly total: number;

  constructor(
    private readonly view: GroupView,
    expanded: readonly number[],
    private readonly rows: RunRows,
  ) {
    this.open = [...new Set(expanded)]
      .map((group) => ({ pos: view.positionOf(group), group, size: group < rows.groupCount ? rows.gRows.get(group) : 0 }))
      .filter((e) => e.pos >= 0)
      .sort((a, b) => a.pos - b.pos);
    this.total = view.n + this.open.reduce((s, e) => s + e.size, 0);
  }

  itemAt(i: number): GroupItem {
    let extra = 0;
    for (const e of this.open) {
      const at = e.pos + extra;
      if (i <= at) break;
      if (i <= at + e.size) return { kind: 'sample', group: e.group, rowId: this.rows.gFirstRow.get(e.group) + (i - at - 1) };
      extra += e.size;
    }
    return { kind: 'group', group: this.view.idAt(i - extra) };
  }

  /** Flat index of an item key (groupItemKey), or −1 when it is not shown. */
  indexOfKey(key: number): number {
    if (key % 2 === 1) return this.indexOfGroup((key - 1) / 2);
    const rowId = key / 2;
    if (rowId >= this.rows.rowCount) return -1;
    const group = this.rows.rGroup.get(rowId);
    if (!this.open.some((e) => e.group === group)) return -1;
    const at = this.indexOfGroup(group);
    return at < 0 ? -1 : at + 1 + (rowId - this.rows.gFirstRow.get(group));
  }

  private indexOfGroup(group: number): number {
    const pos = this.view.positionOf(group);
    if (pos < 0) return -1;
    let extra = 0;
    for (const e of this.open) if (e.pos < pos) extra += e.size;
    return pos + extra;
  }
}
