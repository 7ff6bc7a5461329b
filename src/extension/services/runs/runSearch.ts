/**
 * Regex searches over the full traces of a run index: a bit per row. The
 * regex runs on a worker thread (searchWorker.ts), never on the extension
 * host's event loop: groups are scanned from events.jsonl in arrival order
 * in batches of about 1 MiB, each answered within a deadline or the thread
 * is terminated and the search reports "timed out after N s" (with what it
 * matched so far). One thread at a time: scanning another search (the
 * query changed) terminates the previous one's. At most a few searches are
 * kept (least recently used dropped). No `vscode` import.
 */
import { u8 } from './columns';
import type { RunRows } from './runRows';
import { SearchThread } from './searchThread';
import type { GroupSpan } from './searchWorker';

/** How far a search has got. */
export interface SearchProgress {
  state: 'none' | 'scanning' | 'done' | 'invalid' | 'timeout';
  message: string | null;
  /** Rows whose full trace has been searched, of all rows. */
  scanned: number;
  total: number;
}

/** A batch of the search must be answered within this (a pattern that backtracks for longer is stopped). */
export const SEARCH_DEADLINE_MS = 5000;

/** One active search: a bit per row. */
export class SearchEntry {
  readonly matched = u8();
  /** Groups [0, scanPos) have been searched. */
  scanPos = 0;
  /** Rows [0, scannedRows) have been searched (their bits are final): a list can take them in arrival order. */
  scannedRows = 0;
  /** Bumped whenever matches change for already-listed rows (views must rebuild). */
  gen = 0;
  lastUsed = 0;
  /** Why the search stopped (timeout, unreadable file…); null while it can go on. */
  error: string | null = null;
  timedOut = false;
  thread: SearchThread | null = null;
  /** The batch in flight (one at a time). */
  busy: Promise<boolean> | null = null;

  constructor(
    readonly key: string,
    readonly pattern: string,
    readonly flags: string,
    rowsAtStart: number,
  ) {
    for (let i = 0; i < rowsAtStart; i++) this.matched.push(0);
  }

  /** Caught up with `groupCount` groups, or stopped. */
  doneAt(groupCount: number): boolean {
    return this.scanPos >= groupCount || this.error !== null;
  }
}

export type CompiledSearch = { entry: SearchEntry } | { error: string };

export class RunSearches {
  private readonly entries = new Map<string, SearchEntry>();
  private clock = 0;

  constructor(
    private readonly rows: RunRows,
    private readonly eventsFile: string,
    private readonly maxSearches = 4,
    private readonly deadlineMs = SEARCH_DEADLINE_MS,
  ) {}

  /** Forgets every search and stops their threads. */
  clear(): void {
    for (const e of this.entries.values()) this.stop(e);
    this.entries.clear();
  }

  /** Compiles (or reuses) a search; an invalid regex is reported, not thrown (compiling runs nothing). */
  search(pattern: string, caseSensitive: boolean): CompiledSearch {
    const key = `${caseSensitive ? '' : 'i'}/${pattern}`;
    const existing = this.entries.get(key);
    if (existing) {
      existing.lastUsed = ++this.clock;
      return { entry: existing };
    }
    const flags = caseSensitive ? '' : 'i';
    try {
      new RegExp(pattern, flags);
    } catch (err) {
      return { error: `Invalid regular expression: ${(err as Error).message}` };
    }
    // A new query: the previous one's thread stops (a batch in flight reports cancelled), so this one is scanned next.
    for (const e of this.entries.values()) this.stop(e);
    const entry = new SearchEntry(key, pattern, flags, this.rows.rowCount);
    entry.lastUsed = ++this.clock;
    this.entries.set(key, entry);
    while (this.entries.size > this.maxSearches) {
      let oldest: SearchEntry | null = null;
      for (const e of this.entries.values()) if (!oldest || e.lastUsed < oldest.lastUsed) oldest = e;
      this.stop(oldest!);
      this.entries.delete(oldest!.key);
    }
    return { entry };
  }

  /** Rows of a group that just arrived: unknown until scanned (scanning follows arrival order). */
  addGroup(rowCount: number): void {
    for (const e of this.entries.values()) for (let i = 0; i < rowCount; i++) e.matched.push(0);
  }

  /** Searches not caught up yet, the most recently asked for first (the one to scan). */
  pending(): SearchEntry[] {
    const groups = this.rows.groupCount;
    return [...this.entries.values()].filter((e) => !e.doneAt(groups)).sort((a, b) => b.lastUsed - a.lastUsed);
  }

  /**
   * Searches the next groups of a search (about `maxBytes`, at least one
   * group) on its worker thread. Resolves true when it made progress; false
   * when there was nothing to do, or the search stopped (timed out, was
   * dropped or replaced meanwhile).
   */
  scan(entry: SearchEntry, maxBytes = 1 << 20): Promise<boolean> {
    if (entry.busy) return entry.busy;
    if (entry.doneAt(this.rows.groupCount) || this.entries.get(entry.key) !== entry) return Promise.resolve(false);
    entry.busy = this.scanBatch(entry, maxBytes).finally(() => (entry.busy = null));
    return entry.busy;
  }

  private async scanBatch(entry: SearchEntry, maxBytes: number): Promise<boolean> {
    // One thread at a time: another search's thread is stopped (its query was left).
    for (const e of this.entries.values()) if (e !== entry && e.thread) this.stop(e);
    const r = this.rows;
    const first = entry.scanPos;
    const start = r.gOffset.get(first);
    let last = first;
    const end = r.groupCount;
    while (last + 1 < end && r.gOffset.get(last + 1) + r.gLength.get(last + 1) - start <= maxBytes) last++;
    const groups: GroupSpan[] = [];
    for (let g = first; g <= last; g++) groups.push([r.gOffset.get(g), r.gLength.get(g), r.gFirstRow.get(g), r.gRows.get(g)]);
    entry.thread ??= new SearchThread({ eventsFile: this.eventsFile, pattern: entry.pattern, flags: entry.flags });
    const result = await entry.thread.run(groups, this.deadlineMs);
    if (this.entries.get(entry.key) !== entry || result.kind === 'cancelled') return false;
    if (result.kind === 'timeout') {
      entry.error = `search timed out after ${formatSeconds(this.deadlineMs)} (the pattern takes too long on a trace)`;
      entry.timedOut = true;
      this.stop(entry);
      return false;
    }
    if (result.kind === 'error') {
      entry.error = `search stopped: ${result.message}`;
      this.stop(entry);
      return false;
    }
    for (const row of result.matches) entry.matched.set(row, 1);
    entry.scanPos = last + 1;
    entry.scannedRows = entry.scanPos < r.groupCount ? r.gFirstRow.get(entry.scanPos) : r.gFirstRow.get(last) + r.gRows.get(last);
    return true;
  }

  private stop(entry: SearchEntry): void {
    entry.thread?.terminate();
    entry.thread = null;
  }

  progress(entry: SearchEntry | null, error: string | null = null): SearchProgress {
    const total = this.rows.rowCount;
    if (error) return { state: 'invalid', message: error, scanned: 0, total };
    if (!entry) return { state: 'none', message: null, scanned: total, total };
    const scanned = entry.scannedRows;
    if (entry.error) return { state: entry.timedOut ? 'timeout' : 'invalid', message: entry.error, scanned, total };
    return { state: entry.doneAt(this.rows.groupCount) ? 'done' : 'scanning', message: null, scanned, total };
  }
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}
