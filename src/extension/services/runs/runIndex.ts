/**
 * The host-side index of one run directory: what the extension keeps in
 * memory about a run so the explorer, the annotations and the webviews can
 * show, filter and sort tens of thousands of samples without holding the run
 * itself. One per run, shared through the run store (runStore.ts).
 *
 * events.jsonl is read by the engine's run reader (engine/run/runReader.ts:
 * bounded chunks, a line's byte range kept, bad lines named, a cut last line
 * left for later, a replaced file re-read). The index applies what it reads
 * and splits the work by job:
 *   runRows.ts        compact rows and group locations (ingest);
 *   runAggregates.ts  summary figures through the engine's accumulator,
 *                     per task and per problem; histogram; reward series;
 *   runSearch.ts      regex search over full traces;
 *   runQueries.ts     filtered, sorted row lists.
 * Its types are its own: the webview controllers map them to messages.
 *
 * No `vscode` import: unit-tested under node:test and used by the benchmark.
 */
import * as path from 'node:path';
import { RolloutGroupSchema, type RolloutGroup, type RunEvent, type TraceSampleRow } from '../../../engine/contract';
import { sampleRows } from '../../../engine/run/runDir';
import { EVENTS_FILE, eventsTail, readLineAt, type JsonlBatch, type JsonlIssue, type JsonlRecord, type JsonlSink, type JsonlTail } from '../../../engine/run/runReader';
import { summaryRow } from '../../../engine/run/summary';
import { RunAggregates, type ProblemAgg } from './runAggregates';
import { RunQueries, type QueryView, type RowQuery } from './runQueries';
import { RunRows, type GroupLocation, type RunRow } from './runRows';
import { RunSearches, type CompiledSearch, type SearchEntry, type SearchProgress } from './runSearch';
import { RunSignals } from './runSignals';
import { GroupQueries, type GroupQuery, type GroupView } from './groupQueries';

export { FLAGS, SUPERSEDED_FLAG, makePreview, type RunRow } from './runRows';
export { queryKey, type QueryView, type RowQuery } from './runQueries';
export { problemKey, HISTOGRAM_BINS, type ProblemAgg } from './runAggregates';
export type { SearchEntry, SearchProgress } from './runSearch';
export type { GroupQuery, GroupView } from './groupQueries';

const RECENT = 50;

export type IndexStatus = 'missing' | 'waiting' | 'running' | 'completed' | 'failed' | 'cancelled';

/** One problem of the run with its samples, in arrival order. */
export interface ProblemSamples {
  task: string;
  problemId: string;
  samples: RunRow[];
}

export interface IndexIssue {
  line: number;
  message: string;
}

export interface RunErrorInfo {
  time: string;
  message: string;
  where: string | null;
  problemId: string | null;
  fatal: boolean;
}

export class RunIndex {
  readonly eventsFile: string;
  readonly reader: JsonlTail<RunEvent>;
  /** Increases on every change (rows, status, search progress, issues). */
  version = 0;
  /** Increases when the index was reset (file replaced or truncated). */
  epoch = 0;

  dirMissing = false;
  runId: string | null = null;
  runKind: string | null = null;
  sawEvent = false;
  ended: { status: 'completed' | 'failed' | 'cancelled'; message: string | null } | null = null;
  lastStep: number | null = null;
  readError: string | null = null;

  issueCount = 0;
  readonly recentIssues: IndexIssue[] = [];
  errorCount = 0;
  readonly recentErrors: RunErrorInfo[] = [];

  readonly rows: RunRows;
  readonly aggregates = new RunAggregates();
  /** Means with their uncertainty: the run, per trace kind, per training step (with step_metrics, checkpoints). */
  readonly signals = new RunSignals();
  private readonly searches: RunSearches;
  private readonly queries: RunQueries;
  private readonly groupQueries: GroupQueries;

  constructor(
    readonly runDir: string,
    opts: { previewChars?: number; maxSearches?: number; maxViews?: number; chunkBytes?: number; searchDeadlineMs?: number } = {},
  ) {
    this.eventsFile = path.join(runDir, EVENTS_FILE);
    this.reader = eventsTail(runDir, { chunkBytes: opts.chunkBytes });
    this.rows = new RunRows(opts.previewChars);
    this.searches = new RunSearches(this.rows, this.eventsFile, opts.maxSearches, opts.searchDeadlineMs);
    this.queries = new RunQueries(this.rows, opts.maxViews);
    this.groupQueries = new GroupQueries(this.rows, opts.maxViews);
  }

  get rowCount(): number {
    return this.rows.rowCount;
  }
  get groupCount(): number {
    return this.rows.groupCount;
  }
  /** Rows that count: a superseded group's rows (a later group event of its (step, problem_id)) are left out, as in the row lists. */
  get liveRowCount(): number {
    return this.rows.liveRowCount;
  }
  /** Groups that count (superseded ones left out). */
  get liveGroupCount(): number {
    return this.rows.liveGroupCount;
  }
  /** Bytes of events.jsonl consumed (just past the last complete line). */
  get offset(): number {
    return this.reader.offset;
  }
  /** Bytes after the last complete line (a writer mid-append, or a cut last line). */
  get pendingBytes(): number {
    return this.reader.pendingBytes;
  }
  get fileMissing(): boolean {
    return this.reader.missing;
  }

  get status(): IndexStatus {
    if (this.dirMissing) return 'missing';
    if (this.ended) return this.ended.status;
    if (!this.sawEvent) return 'waiting';
    return 'running';
  }

  statusMessage(): string | null {
    if (this.dirMissing) return `Run directory not found: ${this.runDir}`;
    if (this.readError) return this.readError;
    if (this.ended) return this.ended.message;
    if (this.fileMissing) return `No ${EVENTS_FILE} in ${this.runDir} yet`;
    return null;
  }

  /** Forget everything and re-read from the start. */
  reset(): void {
    this.reader.restart();
    this.clear();
  }

  private clear(): void {
    this.runId = null;
    this.runKind = null;
    this.sawEvent = false;
    this.ended = null;
    this.lastStep = null;
    this.issueCount = 0;
    this.recentIssues.length = 0;
    this.errorCount = 0;
    this.recentErrors.length = 0;
    this.rows.clear();
    this.aggregates.clear();
    this.signals.clear();
    this.searches.clear();
    this.queries.clear();
    this.groupQueries.clear();
    this.epoch++;
    this.version++;
  }

  // ------------------------------------------------------------ ingestion

  /** Reads the next chunk of events.jsonl (about `maxBytes`) and applies it. */
  async readMore(maxBytes?: number): Promise<JsonlBatch<RunEvent>> {
    const wasMissing = this.reader.missing;
    const batch = await this.reader.read(maxBytes, this.sink);
    if (batch.lines || this.reader.missing !== wasMissing) this.version++;
    return batch;
  }

  /** Each event is applied as it is parsed (a chunk's parsed events are never all held at once). */
  private readonly sink: JsonlSink<RunEvent> = {
    restarted: () => this.clear(),
    record: (r) => this.applyEvent(r),
    issue: (i) => this.addIssue(i),
  };

  /**
   * Applies the complete lines of `buf`, which holds events.jsonl's bytes
   * from `atOffset` (must equal `this.offset`); the rest is an unfinished line.
   */
  ingest(buf: Buffer, atOffset: number): { consumed: number; lines: number; rowsAdded: number } {
    const before = this.rowCount;
    const batch = this.reader.consume(buf, atOffset, this.sink);
    if (batch.lines) this.version++;
    return { consumed: batch.consumed, lines: batch.lines, rowsAdded: this.rowCount - before };
  }

  private addIssue(i: JsonlIssue): void {
    this.issueCount++;
    this.recentIssues.push(i);
    if (this.recentIssues.length > RECENT) this.recentIssues.shift();
  }

  private applyEvent({ value: ev, line, offset, length }: JsonlRecord<RunEvent>): void {
    this.sawEvent = true;
    switch (ev.type) {
      case 'run_started':
        this.runId = ev.run_id;
        this.runKind = ev.run_kind;
        this.ended = null;
        break;
      case 'run_ended':
        this.ended = { status: ev.status, message: ev.message };
        break;
      case 'step_metrics':
        this.signals.setMetrics(ev.step, ev.metrics);
        this.lastStep = Math.max(this.lastStep ?? 0, ev.step);
        break;
      case 'checkpoint':
        this.signals.addCheckpoint(ev.step, ev.path);
        this.lastStep = Math.max(this.lastStep ?? 0, ev.step);
        break;
      case 'error':
        this.errorCount++;
        this.recentErrors.push({ time: ev.time, message: ev.message, where: ev.where, problemId: ev.problem_id, fatal: ev.fatal });
        if (this.recentErrors.length > RECENT) this.recentErrors.shift();
        break;
      case 'rollout_group': {
        const ordinal = this.groupCount;
        const firstRow = this.rows.addGroup(ev, { line, offset, length });
        this.aggregates.addGroup(ev, firstRow, ordinal);
        this.signals.addGroup(ev);
        if (this.rows.lastSuperseded >= 0) this.takeBackSignals(this.rows.lastSuperseded);
        this.searches.addGroup(ev.samples.length);
        if (ev.step !== null) this.lastStep = Math.max(this.lastStep ?? 0, ev.step);
        break;
      }
    }
  }

  /** A superseded group's share of the signals, re-read from disk (rare: a resume re-scoring a problem). */
  private takeBackSignals(group: number): void {
    try {
      this.signals.addGroup(this.readGroup(group), -1);
    } catch (err) {
      // The file changed under the reader: it will be re-read from the start (reset), which rebuilds the figures.
      this.addIssue({ line: this.rows.group(group).line, message: `could not re-read a superseded group: ${(err as Error).message}` });
    }
  }

  // ------------------------------------------------------------ rows

  row(i: number): RunRow {
    return this.rows.row(i);
  }

  /** True when a later group event of the row's (step, problem_id) replaced its group (it is not listed and does not count). */
  isSuperseded(rowId: number): boolean {
    return this.rows.isSuperseded(rowId);
  }

  /** Group ordinal of a row, its events.jsonl line and byte range. */
  groupOf(rowId: number): GroupLocation {
    return this.rows.groupOf(rowId);
  }

  /** Finds a sample by problem and sample id (the latest, or the one in the group at `line`); −1 when absent. */
  findSample(problemId: string, sampleId: string, line: number | null = null): number {
    return this.rows.findSample(problemId, sampleId, line);
  }

  /** Re-reads one group's full event from disk (the index keeps only compact rows). */
  readGroup(group: number): RolloutGroup {
    if (group < 0 || group >= this.groupCount) throw new Error(`no group ${group} in ${this.eventsFile}`);
    return readLineAt(this.eventsFile, RolloutGroupSchema, this.rows.group(group));
  }

  /** A sample's whole samples.jsonl-style row (with its trace), re-read from its group. */
  sampleRow(rowId: number): TraceSampleRow {
    const g = this.groupOf(rowId);
    const row = sampleRows(this.readGroup(g.group))[rowId - g.firstRow];
    if (!row) throw new Error(`${this.eventsFile}:${g.line}: the file changed under the reader (sample missing)`);
    return row;
  }

  // ------------------------------------------------------------ summaries

  /** The run's figures with summary.json's semantics (the engine's accumulator). */
  summary(): ReturnType<typeof summaryRow> {
    return summaryRow(this.aggregates.micro);
  }

  get problemCount(): number {
    return this.aggregates.problems.size;
  }

  /** Problems in order of first arrival with their samples as rows: `count` of them from `offset` (rows are built, so page). */
  problems(offset = 0, count = Infinity): ProblemSamples[] {
    const out: ProblemSamples[] = [];
    let i = 0;
    for (const p of this.aggregates.problems.values()) {
      if (out.length >= count) break;
      if (i++ < offset) continue;
      out.push(this.problemSamples(p));
    }
    return out;
  }

  /** Problems with this id (any task), with their samples. */
  problemsWithId(problemId: string): ProblemSamples[] {
    return this.aggregates.problemsWithId(problemId).map((p) => this.problemSamples(p));
  }

  private problemSamples(p: ProblemAgg): ProblemSamples {
    return { task: p.task, problemId: p.problemId, samples: p.rows.map((r) => this.row(r)) };
  }

  taskNames(): string[] {
    return [...this.rows.tasks.values];
  }

  // ------------------------------------------------------------ search

  search(pattern: string, caseSensitive: boolean): CompiledSearch {
    return this.searches.search(pattern, caseSensitive);
  }

  /** Searches not caught up with the rows, the most recently asked for first. */
  pendingSearches(): SearchEntry[] {
    return this.searches.pending();
  }

  /** Searches the next groups of a search (about `maxBytes`) on its worker thread; true when it made progress. */
  async scanSearch(entry: SearchEntry, maxBytes?: number): Promise<boolean> {
    const progressed = await this.searches.scan(entry, maxBytes);
    if (progressed || entry.error) this.version++;
    return progressed;
  }

  /** Stops the search threads (the index is no longer used). */
  dispose(): void {
    this.searches.clear();
  }

  // ------------------------------------------------------------ queries

  /** The rows matching a query, in order, and how far its search has got. */
  view(query: RowQuery): { view: QueryView; search: SearchProgress } {
    let entry: SearchEntry | null = null;
    let error: string | null = null;
    if (query.filter.search) {
      const c = this.search(query.filter.search, query.filter.caseSensitive);
      if ('error' in c) error = c.error;
      else entry = c.entry;
    }
    const view = this.queries.view(query, entry, this.epoch, error !== null);
    return { view, search: this.searches.progress(error ? null : entry, error) };
  }

  /** The groups matching a group query, in order (superseded groups never listed). */
  groupView(query: GroupQuery): GroupView {
    return this.groupQueries.view(query, this.epoch);
  }

  idAt(v: QueryView, pos: number): number {
    return this.queries.idAt(v, pos);
  }

  positionOf(v: QueryView, rowId: number): number {
    return this.queries.positionOf(v, rowId);
  }

  rowsAt(v: QueryView, offset: number, count: number): RunRow[] {
    const out: RunRow[] = [];
    const end = Math.min(v.n, offset + count);
    for (let p = Math.max(0, offset); p < end; p++) out.push(this.row(this.idAt(v, p)));
    return out;
  }

  /** Approximate bytes held by the index's columns and strings (for the benchmark). */
  approxBytes(): number {
    return this.rows.approxBytes();
  }
}
