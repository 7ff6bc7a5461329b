/**
 * The host-side index of one run directory: what the extension keeps in
 * memory about a run so the views can show, filter and sort tens of thousands
 * of samples without holding the run itself.
 *
 * Per sample it keeps a compact row in typed-array columns (ids, task, k/K,
 * baseline, uplift, reward, flags, a short trace preview); per group the byte
 * offset and length of its events.jsonl line, so the full group (traces,
 * every executor output and verdict) is re-read from disk on demand.
 *
 * Lines are parsed exactly as the engine's `readEvents` parses them (JSON,
 * then the RunEvent schema; a bad line is reported with its line number and
 * field and skipped; bytes after the last newline wait for the next read).
 * The index parses lines itself rather than calling `readEvents` because it
 * needs each line's byte offset and must read a large file in bounded chunks
 * (readEvents reads everything from the offset to the end in one buffer);
 * test/unit/runIndex.test.ts checks both readers agree.
 *
 * No `vscode` import: unit-tested under node:test and used by the benchmark.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RolloutGroupSchema, RunEventSchema, type RolloutGroup, type RunEvent } from '../../../engine/contract';
import { addGroupToSummary, emptySummaryAcc, meanOf, type SummaryAcc } from '../../../engine/run/summary';
import { describeZodError } from '../../../engine/util/jsonl';
import type { Row, RunFilter, RunQuery, RunState, RunStatus, SearchState, SummaryFigures } from '../../../webviewProtocol';
import { Column, Interner, f64, i32, u8 } from './columns';

export const EVENTS_FILE = 'events.jsonl';

export const FLAGS = { errors: 1, failedCalls: 2, timeout: 4, noReward: 8, baselineFailed: 16 } as const;
const FLAG_NAMES: Array<[number, string]> = [
  [FLAGS.errors, 'errors'],
  [FLAGS.failedCalls, 'failed-calls'],
  [FLAGS.timeout, 'timeout'],
  [FLAGS.noReward, 'no-reward'],
  [FLAGS.baselineFailed, 'baseline-failed'],
];
/** Flags that count as "errors" for the errors-only filter. */
const ERROR_MASK = FLAGS.errors | FLAGS.failedCalls | FLAGS.timeout | FLAGS.baselineFailed;

export const HISTOGRAM_BINS = 20;
const SERIES_BUCKETS = 256;
const RECENT = 50;

export interface IndexIssue {
  line: number;
  message: string;
}

/** The engine's summary accumulator (summary.json semantics), as the view's figures. */
export function figures(a: SummaryAcc): SummaryFigures {
  return {
    groups: a.problems,
    traces: a.traces,
    withTraceSuccess: meanOf(a.withSum, a.withN),
    noTraceSuccess: meanOf(a.baseSum, a.baseN),
    meanUplift: meanOf(a.upliftSum, a.upliftN),
    meanReward: meanOf(a.rewardSum, a.rewardN),
    positiveUplift: a.positive,
    negativeUplift: a.negative,
    failedCalls: a.failed,
  };
}

/** Per-problem aggregate (for comparing runs). */
export interface ProblemAgg {
  task: string;
  problemId: string;
  groups: number;
  traces: number;
  withSum: number;
  withN: number;
  baseSum: number;
  baseN: number;
  upliftSum: number;
  upliftN: number;
  rewardSum: number;
  rewardN: number;
  /** Last row of this problem (to open the inspector on). */
  lastRow: number;
}
export const problemKey = (task: string, problemId: string) => `${task}\u0000${problemId}`;

/** Mean reward per bucket of x, in at most 256 buckets (widths double as x grows): flat memory. */
class Series {
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

/** An active regex search over full traces: a bit per row, filled on ingest and by scanning older groups. */
export class SearchEntry {
  readonly matched = u8();
  /** Groups [0, coveredFrom) existed before the search: they are scanned from disk. Later groups are tested on ingest. */
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

/** A filtered, sorted list of row ids, kept up to date incrementally as rows arrive. */
export class QueryView {
  ids = new Int32Array(0);
  n = 0;
  builtRows = 0;
  search: SearchEntry | null = null;
  searchGen = -1;
  epoch = -1;
  lastUsed = 0;

  constructor(
    readonly key: string,
    readonly query: RunQuery,
  ) {}
}

export function queryKey(q: RunQuery): string {
  const f = q.filter;
  return JSON.stringify([
    f.task,
    f.upliftSign,
    f.upliftMin,
    f.upliftMax,
    f.success,
    f.errorsOnly,
    f.search,
    f.search ? f.caseSensitive : false,
    q.sort.key,
    q.sort.dir,
  ]);
}

/** A short, single-line preview that holds no reference to the full trace string. */
export function makePreview(trace: string, chars = 160): string {
  let s = trace.slice(0, chars * 2).replace(/\s+/g, ' ').trim();
  if (s.length > chars) s = s.slice(0, chars - 1) + '…';
  else if (trace.length > chars * 2) s += '…';
  // Copy through a Buffer so the preview is a flat string, not a slice pinning the whole trace in memory.
  return Buffer.from(s, 'utf8').toString('utf8');
}

const nn = (v: number): number | null => (v === v ? v : null);
const num = (v: number | null | undefined): number => (v === null || v === undefined ? NaN : v);

export class RunIndex {
  readonly eventsFile: string;
  /** Bytes of events.jsonl consumed (just past the last complete line). */
  offset = 0;
  /** Line number of the next line to read. */
  nextLine = 1;
  /** Size of events.jsonl at the last look (pending = size − offset). */
  fileSize = 0;
  /** Increases on every change (rows, status, search progress, issues). */
  version = 0;
  /** Increases when the index was reset (file replaced or truncated). */
  epoch = 0;

  dirMissing = false;
  fileMissing = true;
  runId: string | null = null;
  runKind: string | null = null;
  sawEvent = false;
  ended: { status: 'completed' | 'failed' | 'cancelled'; message: string | null } | null = null;
  lastStep: number | null = null;
  readError: string | null = null;

  issueCount = 0;
  readonly recentIssues: IndexIssue[] = [];
  errorCount = 0;
  readonly recentErrors: Array<{ time: string; message: string; where: string | null; problemId: string | null; fatal: boolean }> = [];

  // groups (one per rollout_group line)
  private gOffset = f64();
  private gLength = i32();
  private gLine = i32();
  private gIndex = i32();
  private gStep = i32();
  private gTask = i32();
  private gProblem: string[] = [];
  private gBaseRate = f64();
  private gBaseK = i32();
  private gBaseM = i32();
  private gFirstRow = i32();
  private gRows = i32();

  // rows (one per sample)
  private rGroup = i32();
  private rSampleId: string[] = [];
  private rSource = i32();
  private rLabel = i32();
  private rPreview: string[] = [];
  private rK = i32();
  private rValid = i32();
  private rFailed = i32();
  private rWithRate = f64();
  private rUplift = f64();
  private rReward = f64();
  private rE2e = f64();
  private rRm = f64();
  private rFlags = u8();
  private rErrCount = i32();

  private readonly tasks = new Interner();
  private readonly strings = new Interner();
  private micro = emptySummaryAcc();
  private byTask = new Map<string, SummaryAcc>();
  private readonly problems = new Map<string, ProblemAgg>();
  private hist = new Int32Array(HISTOGRAM_BINS);
  private histUnknown = 0;
  private series = new Series();
  private seriesByStep = false;

  private readonly searches = new Map<string, SearchEntry>();
  private readonly views = new Map<string, QueryView>();
  private clock = 0;

  constructor(
    readonly runDir: string,
    private readonly opts: { previewChars?: number; maxSearches?: number; maxViews?: number } = {},
  ) {
    this.eventsFile = path.join(runDir, EVENTS_FILE);
  }

  get rowCount(): number {
    return this.rGroup.length;
  }
  get groupCount(): number {
    return this.gOffset.length;
  }
  get pendingBytes(): number {
    return Math.max(0, this.fileSize - this.offset);
  }

  get status(): RunStatus {
    if (this.dirMissing) return 'missing';
    if (this.ended) return this.ended.status;
    if (!this.sawEvent) return 'waiting';
    return 'running';
  }

  /** Forget everything (the file was replaced or truncated): re-read from the start. */
  reset(): void {
    this.offset = 0;
    this.nextLine = 1;
    this.fileSize = 0;
    this.runId = null;
    this.runKind = null;
    this.sawEvent = false;
    this.ended = null;
    this.lastStep = null;
    this.issueCount = 0;
    this.recentIssues.length = 0;
    this.errorCount = 0;
    this.recentErrors.length = 0;
    for (const c of [this.gOffset, this.gLength, this.gLine, this.gIndex, this.gStep, this.gTask, this.gBaseRate, this.gBaseK, this.gBaseM, this.gFirstRow, this.gRows])
      c.clear();
    for (const c of [this.rGroup, this.rSource, this.rLabel, this.rK, this.rValid, this.rFailed, this.rWithRate, this.rUplift, this.rReward, this.rE2e, this.rRm, this.rFlags, this.rErrCount])
      c.clear();
    this.gProblem = [];
    this.rSampleId = [];
    this.rPreview = [];
    this.tasks.clear();
    this.strings.clear();
    this.micro = emptySummaryAcc();
    this.byTask = new Map();
    this.problems.clear();
    this.hist = new Int32Array(HISTOGRAM_BINS);
    this.histUnknown = 0;
    this.series.clear();
    this.seriesByStep = false;
    this.searches.clear();
    this.views.clear();
    this.epoch++;
    this.version++;
  }

  // ------------------------------------------------------------ ingestion

  /**
   * Parses the complete lines of `buf`, which holds the file's bytes from
   * `atOffset` (must equal `this.offset`). Returns the bytes consumed (up to
   * and including the last newline); the rest is an unfinished line.
   */
  ingest(buf: Buffer, atOffset: number): { consumed: number; lines: number; rowsAdded: number } {
    if (atOffset !== this.offset) throw new Error(`ingest at ${atOffset}, index is at ${this.offset}`);
    const rowsBefore = this.rowCount;
    let pos = 0;
    let lines = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, pos);
      if (nl < 0) break;
      const line = this.nextLine++;
      lines++;
      if (nl > pos) {
        const text = buf.toString('utf8', pos, nl);
        if (text.trim()) this.ingestLine(text, line, this.offset + pos, nl - pos);
      }
      pos = nl + 1;
    }
    this.offset += pos;
    if (this.offset > this.fileSize) this.fileSize = this.offset;
    if (lines) this.version++;
    return { consumed: pos, lines, rowsAdded: this.rowCount - rowsBefore };
  }

  /** One complete line of events.jsonl (without its newline). */
  ingestLine(text: string, line: number, byteOffset: number, byteLength: number): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      this.issue(line, `invalid JSON (${(err as Error).message})`);
      return;
    }
    const parsed = RunEventSchema.safeParse(value);
    if (!parsed.success) {
      this.issue(line, describeZodError(parsed.error));
      return;
    }
    this.applyEvent(parsed.data, line, byteOffset, byteLength);
  }

  private issue(line: number, message: string): void {
    this.issueCount++;
    this.recentIssues.push({ line, message });
    if (this.recentIssues.length > RECENT) this.recentIssues.shift();
  }

  private applyEvent(ev: RunEvent, line: number, byteOffset: number, byteLength: number): void {
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
      case 'checkpoint':
        this.lastStep = Math.max(this.lastStep ?? 0, ev.step);
        break;
      case 'error':
        this.errorCount++;
        this.recentErrors.push({ time: ev.time, message: ev.message, where: ev.where, problemId: ev.problem_id, fatal: ev.fatal });
        if (this.recentErrors.length > RECENT) this.recentErrors.shift();
        break;
      case 'rollout_group':
        this.addGroup(ev, line, byteOffset, byteLength);
        break;
    }
  }

  private addGroup(g: RolloutGroup, line: number, byteOffset: number, byteLength: number): void {
    const gi = this.groupCount;
    const taskId = this.tasks.id(g.task);
    const base = g.baseline.tally;
    const baseRate = num(base.rate);
    const baselineFailed = !g.baseline.from_cache && base.failed > 0;
    this.gOffset.push(byteOffset);
    this.gLength.push(byteLength);
    this.gLine.push(line);
    this.gIndex.push(g.group_index);
    this.gStep.push(g.step ?? -1);
    this.gTask.push(taskId);
    this.gProblem.push(g.problem_id);
    this.gBaseRate.push(baseRate);
    this.gBaseK.push(base.successes);
    this.gBaseM.push(base.valid);
    this.gFirstRow.push(this.rowCount);
    this.gRows.push(g.samples.length);
    if (g.step !== null) {
      this.lastStep = Math.max(this.lastStep ?? 0, g.step);
      this.seriesByStep = true;
    }

    let acc = this.byTask.get(g.task);
    if (!acc) this.byTask.set(g.task, (acc = emptySummaryAcc()));
    addGroupToSummary(acc, g);
    addGroupToSummary(this.micro, g);
    const pk = problemKey(g.task, g.problem_id);
    let prob = this.problems.get(pk);
    if (!prob) {
      prob = { task: g.task, problemId: g.problem_id, groups: 0, traces: 0, withSum: 0, withN: 0, baseSum: 0, baseN: 0, upliftSum: 0, upliftN: 0, rewardSum: 0, rewardN: 0, lastRow: -1 };
      this.problems.set(pk, prob);
    }
    prob.groups++;
    if (base.rate !== null) {
      prob.baseSum += base.rate;
      prob.baseN++;
    }
    const x = g.step ?? gi;
    const searches = [...this.searches.values()];
    const previewChars = this.opts.previewChars ?? 160;

    for (const s of g.samples) {
      const row = this.rowCount;
      const t = s.with_trace.tally;
      let flags = 0;
      if (s.errors.length) flags |= FLAGS.errors;
      if (t.failed > 0) flags |= FLAGS.failedCalls;
      if (s.with_trace.attempts.some((a) => a.verdict?.status && /timeout|timed.?out/i.test(a.verdict.status))) flags |= FLAGS.timeout;
      if (s.reward === null) flags |= FLAGS.noReward;
      if (baselineFailed) flags |= FLAGS.baselineFailed;
      this.rGroup.push(gi);
      this.rSampleId.push(s.sample_id);
      this.rSource.push(this.strings.id(s.source));
      this.rLabel.push(s.label === null ? -1 : this.strings.id(s.label));
      this.rPreview.push(makePreview(s.trace, previewChars));
      this.rK.push(t.successes);
      this.rValid.push(t.valid);
      this.rFailed.push(t.failed);
      this.rWithRate.push(num(t.rate));
      this.rUplift.push(num(s.uplift));
      this.rReward.push(num(s.reward?.value));
      this.rE2e.push(num(s.e2e));
      this.rRm.push(num(s.rm_score));
      this.rFlags.push(flags);
      this.rErrCount.push(s.errors.length + t.failed);
      for (const e of searches) e.matched.push(e.re.test(s.trace) ? 1 : 0);

      prob.traces++;
      prob.lastRow = row;
      if (t.rate !== null) {
        prob.withSum += t.rate;
        prob.withN++;
      }
      if (s.uplift !== null) {
        prob.upliftSum += s.uplift;
        prob.upliftN++;
        const bin = Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor(((s.uplift + 1) / 2) * HISTOGRAM_BINS)));
        this.hist[bin]!++;
      } else this.histUnknown++;
      if (s.reward) {
        prob.rewardSum += s.reward.value;
        prob.rewardN++;
        this.series.add(x, s.reward.value);
      }
    }
  }

  // ------------------------------------------------------------ rows

  row(i: number): Row {
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
      reward: nn(this.rReward.get(i)),
      e2e: nn(this.rE2e.get(i)),
      rm: nn(this.rRm.get(i)),
      flags: FLAG_NAMES.filter(([bit]) => flags & bit).map(([, name]) => name),
      errorCount: this.rErrCount.get(i),
    };
  }

  /** Group ordinal of a row, its events.jsonl line and byte range. */
  groupOf(rowId: number): { group: number; line: number; offset: number; length: number; firstRow: number; rows: number } {
    const g = this.rGroup.get(rowId);
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

  /** Re-reads one group's full event from disk (the index keeps only compact rows). */
  readGroup(group: number): RolloutGroup {
    if (group < 0 || group >= this.groupCount) throw new Error(`no group ${group} in ${this.eventsFile}`);
    const offset = this.gOffset.get(group);
    const length = this.gLength.get(group);
    const line = this.gLine.get(group);
    const buf = Buffer.alloc(length);
    const fd = fs.openSync(this.eventsFile, 'r');
    try {
      const n = fs.readSync(fd, buf, 0, length, offset);
      if (n !== length) throw new Error(`${this.eventsFile}:${line}: the file changed under the reader (short read)`);
    } finally {
      fs.closeSync(fd);
    }
    let value: unknown;
    try {
      value = JSON.parse(buf.toString('utf8'));
    } catch (err) {
      throw new Error(`${this.eventsFile}:${line}: the file changed under the reader (${(err as Error).message})`);
    }
    const parsed = RolloutGroupSchema.safeParse(value);
    if (!parsed.success) throw new Error(`${this.eventsFile}:${line}: ${describeZodError(parsed.error)}`);
    return parsed.data;
  }

  // ------------------------------------------------------------ summaries

  summary(): SummaryFigures {
    return figures(this.micro);
  }

  problemAggregates(): ReadonlyMap<string, ProblemAgg> {
    return this.problems;
  }

  taskNames(): string[] {
    return [...this.tasks.values];
  }

  state(): RunState {
    return {
      runDir: this.runDir,
      runId: this.runId,
      runKind: this.runKind,
      status: this.status,
      statusMessage: this.statusMessage(),
      version: this.version,
      bytesRead: this.offset,
      pendingBytes: this.pendingBytes,
      summary: this.summary(),
      tasks: [...this.byTask.entries()].map(([task, a]) => ({ task, figures: figures(a) })),
      histogram: { bins: [...this.hist], unknown: this.histUnknown },
      rewardSeries: { xLabel: this.seriesByStep ? 'step' : 'group', points: this.series.points() },
      issues: { count: this.issueCount, recent: [...this.recentIssues] },
      errors: { count: this.errorCount, recent: [...this.recentErrors] },
      lastStep: this.lastStep,
    };
  }

  statusMessage(): string | null {
    if (this.dirMissing) return `Run directory not found: ${this.runDir}`;
    if (this.readError) return this.readError;
    if (this.ended) return this.ended.message;
    if (this.fileMissing) return `No ${EVENTS_FILE} in ${this.runDir} yet`;
    return null;
  }

  // ------------------------------------------------------------ search

  /** Compiles (or reuses) a search; an invalid regex is reported, not thrown. */
  search(pattern: string, caseSensitive: boolean): CompiledSearch {
    const key = `${caseSensitive ? '' : 'i'}/${pattern}`;
    const existing = this.searches.get(key);
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
    const entry = new SearchEntry(key, re, this.groupCount, this.rowCount);
    entry.lastUsed = ++this.clock;
    this.searches.set(key, entry);
    const max = this.opts.maxSearches ?? 4;
    while (this.searches.size > max) {
      let oldest: SearchEntry | null = null;
      for (const e of this.searches.values()) if (!oldest || e.lastUsed < oldest.lastUsed) oldest = e;
      this.searches.delete(oldest!.key);
    }
    return { entry };
  }

  /** Searches still scanning older groups from disk. */
  pendingSearches(): SearchEntry[] {
    return [...this.searches.values()].filter((e) => !e.done);
  }

  /**
   * Scans the next older groups of a search from disk (about `maxBytes` per
   * call, at least one group). Returns true when it made progress.
   */
  scanSearch(entry: SearchEntry, maxBytes = 1 << 20): boolean {
    if (entry.done || this.searches.get(entry.key) !== entry) return false;
    const first = entry.scanPos;
    const start = this.gOffset.get(first);
    let last = first;
    while (last + 1 < entry.coveredFrom && this.gOffset.get(last + 1) + this.gLength.get(last + 1) - start <= maxBytes) last++;
    const end = this.gOffset.get(last) + this.gLength.get(last);
    const buf = Buffer.alloc(end - start);
    try {
      const fd = fs.openSync(this.eventsFile, 'r');
      try {
        fs.readSync(fd, buf, 0, buf.length, start);
      } finally {
        fs.closeSync(fd);
      }
    } catch (err) {
      entry.error = `search stopped: ${(err as Error).message}`;
      this.version++;
      return false;
    }
    for (let g = first; g <= last; g++) {
      const off = this.gOffset.get(g) - start;
      let samples: unknown;
      try {
        samples = (JSON.parse(buf.toString('utf8', off, off + this.gLength.get(g))) as { samples?: unknown }).samples;
      } catch {
        samples = null;
      }
      const firstRow = this.gFirstRow.get(g);
      const rows = this.gRows.get(g);
      for (let s = 0; s < rows; s++) {
        const trace = Array.isArray(samples) ? (samples[s] as { trace?: unknown } | undefined)?.trace : undefined;
        if (typeof trace === 'string' && entry.re.test(trace)) entry.matched.set(firstRow + s, 1);
      }
    }
    entry.scanPos = last + 1;
    entry.gen++;
    this.version++;
    return true;
  }

  searchState(entry: SearchEntry | null, error: string | null = null): SearchState {
    if (error) return { state: 'invalid', message: error, scanned: 0, total: this.rowCount };
    if (!entry) return { state: 'none', message: null, scanned: this.rowCount, total: this.rowCount };
    const scannedOld = entry.scanPos >= entry.coveredFrom ? entry.rowsAtStart : this.gFirstRow.get(entry.scanPos);
    const scanned = scannedOld + (this.rowCount - entry.rowsAtStart);
    if (entry.error) return { state: 'invalid', message: entry.error, scanned, total: this.rowCount };
    return { state: entry.done ? 'done' : 'scanning', message: null, scanned, total: this.rowCount };
  }

  // ------------------------------------------------------------ queries

  private predicate(f: RunFilter, search: SearchEntry | null): (i: number) => boolean {
    const taskId = f.task === null ? -2 : this.tasks.lookup(f.task);
    const { upliftSign: sign, upliftMin: min, upliftMax: max, success, errorsOnly } = f;
    const rGroup = this.rGroup;
    const gTask = this.gTask;
    const rUplift = this.rUplift;
    const rE2e = this.rE2e;
    const rWith = this.rWithRate;
    const rFlags = this.rFlags;
    return (i) => {
      if (taskId !== -2 && gTask.get(rGroup.get(i)) !== taskId) return false;
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
  private valueFn(key: RunQuery['sort']['key']): (i: number) => number {
    switch (key) {
      case 'uplift':
        return (i) => this.rUplift.get(i);
      case 'reward':
        return (i) => this.rReward.get(i);
      case 'withRate':
        return (i) => this.rWithRate.get(i);
      case 'baseline':
        return (i) => this.gBaseRate.get(this.rGroup.get(i));
      default:
        return (i) => i;
    }
  }

  private comparator(q: RunQuery): (a: number, b: number) => number {
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

  /**
   * The rows matching a query, in order, kept up to date incrementally: new
   * rows are filtered and appended (arrival order) or merged (value sorts);
   * a full rebuild only when a search found matches among older rows.
   */
  view(query: RunQuery): { view: QueryView; search: SearchState } {
    const key = queryKey(query);
    let searchEntry: SearchEntry | null = null;
    let searchError: string | null = null;
    if (query.filter.search) {
      const c = this.search(query.filter.search, query.filter.caseSensitive);
      if ('error' in c) searchError = c.error;
      else searchEntry = c.entry;
    }
    let v = this.views.get(key);
    if (!v) {
      v = new QueryView(key, query);
      this.views.set(key, v);
      const max = this.opts.maxViews ?? 8;
      while (this.views.size > max) {
        let oldest: QueryView | null = null;
        for (const x of this.views.values()) if (x !== v && (!oldest || x.lastUsed < oldest.lastUsed)) oldest = x;
        this.views.delete(oldest!.key);
      }
    }
    v.lastUsed = ++this.clock;
    if (searchError) {
      v.ids = new Int32Array(0);
      v.n = 0;
      v.builtRows = this.rowCount;
      v.epoch = this.epoch;
      return { view: v, search: this.searchState(null, searchError) };
    }
    const stale = v.epoch !== this.epoch || v.search !== searchEntry || (searchEntry !== null && v.searchGen !== searchEntry.gen);
    if (stale) this.rebuild(v, searchEntry);
    else if (v.builtRows < this.rowCount) this.extend(v, searchEntry);
    return { view: v, search: this.searchState(searchEntry) };
  }

  private rebuild(v: QueryView, search: SearchEntry | null): void {
    const pred = this.predicate(v.query.filter, search);
    const n = this.rowCount;
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
    v.search = search;
    v.searchGen = search ? search.gen : -1;
    v.epoch = this.epoch;
  }

  private extend(v: QueryView, search: SearchEntry | null): void {
    const pred = this.predicate(v.query.filter, search);
    const fresh: number[] = [];
    for (let i = v.builtRows; i < this.rowCount; i++) if (pred(i)) fresh.push(i);
    v.builtRows = this.rowCount;
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

  /** Row id at a position of a view. */
  idAt(v: QueryView, pos: number): number {
    if (v.query.sort.key === 'arrival' && v.query.sort.dir === 'desc') return v.ids[v.n - 1 - pos]!;
    return v.ids[pos]!;
  }

  /** Position of a row in a view, or −1 (binary search: O(log n)). */
  positionOf(v: QueryView, rowId: number): number {
    if (rowId < 0 || rowId >= this.rowCount) return -1;
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

  rowsAt(v: QueryView, offset: number, count: number): Row[] {
    const out: Row[] = [];
    const end = Math.min(v.n, offset + count);
    for (let p = Math.max(0, offset); p < end; p++) out.push(this.row(this.idAt(v, p)));
    return out;
  }

  /** Approximate bytes held by the index's columns and strings (for the benchmark). */
  approxBytes(): number {
    let b = 0;
    for (const c of [this.gOffset, this.gLength, this.gLine, this.gIndex, this.gStep, this.gTask, this.gBaseRate, this.gBaseK, this.gBaseM, this.gFirstRow, this.gRows])
      b += c.bytes;
    for (const c of [this.rGroup, this.rSource, this.rLabel, this.rK, this.rValid, this.rFailed, this.rWithRate, this.rUplift, this.rReward, this.rE2e, this.rRm, this.rFlags, this.rErrCount])
      b += c.bytes;
    for (const s of this.rPreview) b += s.length + 16;
    for (const s of this.rSampleId) b += s.length + 16;
    for (const s of this.gProblem) b += s.length + 16;
    return b;
  }
}
