/**
 * Regex searches over the full traces of a run index: a bit per row, set for
 * new rows as they arrive and, for rows that existed before the search, by
 * scanning their groups back from events.jsonl in bounded steps. At most a
 * few searches are kept (least recently used dropped). No `vscode` import.
 */
import type { RolloutGroup } from '../../../engine/contract';
import { readRange } from '../../../engine/run/runReader';
import { u8 } from './columns';
import type { RunRows } from './runRows';

/** How far a search has got. */
export interface SearchProgress {
  state: 'none' | 'scanning' | 'done' | 'invalid';
  message: string | null;
  /** Rows whose full trace has been searched, of all rows. */
  scanned: number;
  total: number;
}

/** One active search: a bit per row. */
export class SearchEntry {
  readonly matched = u8();
  /** Groups [0, coveredFrom) existed before the search: they are scanned from disk. Later groups are tested on arrival. */
  scanPos = 0;
  /** Bumped whenever matches change for already-listed rows (views must rebuild). */
  gen = 0;
  lastUsed = 0;
  error: string | null = null;

  constructor(
    readonly key: string,
    readonly re: RegExp,
    readonly coveredFrom: number,
    readonly rowsAtStart: number,
  ) {
    for (let i = 0; i < rowsAtStart; i++) this.matched.push(0);
  }

  get done(): boolean {
    return this.scanPos >= this.coveredFrom || this.error !== null;
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
  ) {}

  clear(): void {
    this.entries.clear();
  }

  /** Compiles (or reuses) a search; an invalid regex is reported, not thrown. */
  search(pattern: string, caseSensitive: boolean): CompiledSearch {
    const key = `${caseSensitive ? '' : 'i'}/${pattern}`;
    const existing = this.entries.get(key);
    if (existing) {
      existing.lastUsed = ++this.clock;
      return { entry: existing };
    }
    let re: RegExp;
    try {
      re = new RegExp(pattern, caseSensitive ? '' : 'i');
    } catch (err) {
      return { error: `Invalid regular expression: ${(err as Error).message}` };
    }
    const entry = new SearchEntry(key, re, this.rows.groupCount, this.rows.rowCount);
    entry.lastUsed = ++this.clock;
    this.entries.set(key, entry);
    while (this.entries.size > this.maxSearches) {
      let oldest: SearchEntry | null = null;
      for (const e of this.entries.values()) if (!oldest || e.lastUsed < oldest.lastUsed) oldest = e;
      this.entries.delete(oldest!.key);
    }
    return { entry };
  }

  /** Tests the traces of a group that just arrived (its rows were just added). */
  addGroup(g: RolloutGroup): void {
    for (const e of this.entries.values()) for (const s of g.samples) e.matched.push(e.re.test(s.trace) ? 1 : 0);
  }

  /** Searches still scanning older groups from disk. */
  pending(): SearchEntry[] {
    return [...this.entries.values()].filter((e) => !e.done);
  }

  /**
   * Scans the next older groups of a search from disk (about `maxBytes` per
   * call, at least one group). Returns true when it made progress.
   */
  scan(entry: SearchEntry, maxBytes = 1 << 20): boolean {
    if (entry.done || this.entries.get(entry.key) !== entry) return false;
    const r = this.rows;
    const first = entry.scanPos;
    const start = r.gOffset.get(first);
    let last = first;
    while (last + 1 < entry.coveredFrom && r.gOffset.get(last + 1) + r.gLength.get(last + 1) - start <= maxBytes) last++;
    const end = r.gOffset.get(last) + r.gLength.get(last);
    let buf: Buffer;
    try {
      buf = readRange(this.eventsFile, start, end - start);
    } catch (err) {
      entry.error = `search stopped: ${(err as Error).message}`;
      return false;
    }
    for (let g = first; g <= last; g++) {
      const off = r.gOffset.get(g) - start;
      let samples: unknown;
      try {
        samples = (JSON.parse(buf.toString('utf8', off, off + r.gLength.get(g))) as { samples?: unknown }).samples;
      } catch {
        samples = null; // the file changed under the reader: nothing matches here
      }
      const firstRow = r.gFirstRow.get(g);
      const rows = r.gRows.get(g);
      for (let s = 0; s < rows; s++) {
        const trace = Array.isArray(samples) ? (samples[s] as { trace?: unknown } | undefined)?.trace : undefined;
        if (typeof trace === 'string' && entry.re.test(trace)) entry.matched.set(firstRow + s, 1);
      }
    }
    entry.scanPos = last + 1;
    entry.gen++;
    return true;
  }

  progress(entry: SearchEntry | null, error: string | null = null): SearchProgress {
    const total = this.rows.rowCount;
    if (error) return { state: 'invalid', message: error, scanned: 0, total };
    if (!entry) return { state: 'none', message: null, scanned: total, total };
    const scannedOld = entry.scanPos >= entry.coveredFrom ? entry.rowsAtStart : this.rows.gFirstRow.get(entry.scanPos);
    const scanned = scannedOld + (total - entry.rowsAtStart);
    if (entry.error) return { state: 'invalid', message: entry.error, scanned, total };
    return { state: entry.done ? 'done' : 'scanning', message: null, scanned, total };
  }
}
