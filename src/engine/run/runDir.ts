/**
 * Writing and reading run directories (see contract/events.ts for the layout).
 * Every event is validated against the contract before it is appended, and
 * each append is a single write of one whole line, so a crash can cut at most
 * the last line, which readers skip. Reading goes through runReader.ts.
 *
 * events.jsonl is the truth; samples.jsonl and summary.json are derived from
 * it. Opening a run directory repairs them: samples.jsonl is re-derived
 * (rows of the latest group of each (step, problem_id), in event order) and
 * rewritten atomically when it differs — a cut last line, rows lost by a
 * crash between the two appends, rows of superseded groups — and summary.json
 * is recomputed from the events.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  RunEventSchema,
  RunSummarySchema,
  TraceSampleRowSchema,
  type RolloutGroup,
  type RunEvent,
  type RunEventInput,
  type RunSummary,
  type TraceSampleRow,
} from '../contract';
import { describeZodError } from '../util/jsonl';
import { CONFIG_FILE, EVENTS_FILE, SAMPLES_FILE, SUMMARY_FILE, eventsTail, readRunSummary } from './runReader';
import { SummaryBuilder } from './summary';
import { latestGroups } from './supersede';

export { CONFIG_FILE, EVENTS_FILE, SAMPLES_FILE, SUMMARY_FILE } from './runReader';

export interface EventReadIssue {
  file: string;
  line: number;
  message: string;
}

export interface ReadEventsResult {
  events: RunEvent[];
  issues: EventReadIssue[];
  /** Byte offset just past the last complete line: where a tailer continues. */
  offset: number;
}

/**
 * The events of events.jsonl from `offset` on, read with the run reader
 * (runReader.ts): invalid lines are reported (file, line, field) and
 * skipped; an incomplete last line (no newline yet) is left for the next
 * read.
 */
export function readEvents(runDir: string, offset = 0, firstLineNumber = 1): ReadEventsResult {
  const tail = eventsTail(runDir);
  tail.offset = offset;
  tail.nextLine = firstLineNumber;
  const batch = tail.readAllSync();
  return {
    events: batch.records.map((r) => r.value),
    issues: batch.issues.map((i) => ({ file: tail.file, ...i })),
    offset: tail.offset,
  };
}

/** summary.json, or null when absent; throws when it is unreadable. */
export function readSummary(runDir: string): RunSummary | null {
  const { summary, issue } = readRunSummary(runDir);
  if (issue) throw new Error(issue);
  return summary;
}

export class RunWriter {
  readonly eventsFile: string;
  readonly samplesFile: string;

  private constructor(readonly dir: string) {
    this.eventsFile = path.join(dir, EVENTS_FILE);
    this.samplesFile = path.join(dir, SAMPLES_FILE);
  }

  /**
   * Opens a run directory for writing. An existing run is continued: its
   * events stay, `previous` lists what it already holds so the caller can
   * skip finished work, and its derived files are repaired from the events
   * (`repairs` says what was done).
   */
  static open(dir: string): { writer: RunWriter; previous: RunEvent[]; issues: EventReadIssue[]; repairs: string[] } {
    fs.mkdirSync(dir, { recursive: true });
    const writer = new RunWriter(dir);
    const { events, issues } = readEvents(dir);
    writer.repairTail(writer.eventsFile);
    const repairs: string[] = [];
    const samples = writer.rederiveSamples(latestGroups(events));
    if (samples) repairs.push(samples);
    const summary = summaryFromEvents(events);
    if (summary) writer.writeSummary(summary);
    return { writer, previous: events, issues, repairs };
  }

  /**
   * Makes samples.jsonl the rows of `groups` (the latest group of each key,
   * in event order), rewriting it atomically only when it differs. Returns
   * what was repaired, or null when it already agreed.
   */
  rederiveSamples(groups: RolloutGroup[]): string | null {
    const expected: string[] = [];
    for (const g of groups) for (const row of sampleRows(g)) expected.push(sampleLine(row));
    const text = fs.existsSync(this.samplesFile) ? fs.readFileSync(this.samplesFile, 'utf8') : '';
    const wanted = expected.length ? expected.join('\n') + '\n' : '';
    if (text === wanted) return null;
    const lines = text.split('\n');
    const cut = lines.length > 0 && lines[lines.length - 1] !== '';
    const have = new Set(lines.filter((l, i) => l && !(cut && i === lines.length - 1)));
    const want = new Set(expected);
    const missing = expected.filter((l) => !have.has(l)).length;
    const extra = [...have].filter((l) => !want.has(l)).length;
    this.writeTextAtomic(this.samplesFile, wanted);
    const what = [
      cut ? 'a cut last line dropped' : '',
      missing ? `${missing} row(s) re-derived` : '',
      extra ? `${extra} stale row(s) dropped` : '',
    ]
      .filter(Boolean)
      .join(', ');
    return `${SAMPLES_FILE} re-derived from ${EVENTS_FILE} (${what || 'rows reordered'})`;
  }

  /** A line cut by a crash would glue itself to the next append: end it first. */
  private repairTail(file: string): void {
    if (!fs.existsSync(file)) return;
    const size = fs.statSync(file).size;
    if (size === 0) return;
    const fd = fs.openSync(file, 'r');
    const last = Buffer.alloc(1);
    fs.readSync(fd, last, 0, 1, size - 1);
    fs.closeSync(fd);
    if (last[0] !== 0x0a) fs.appendFileSync(file, '\n');
  }

  writeConfig(config: unknown): void {
    this.writeJsonAtomic(path.join(this.dir, CONFIG_FILE), config);
  }

  append(event: RunEventInput): RunEvent {
    const parsed = RunEventSchema.safeParse(event);
    if (!parsed.success) throw new Error(`refusing to write an invalid run event: ${describeZodError(parsed.error)}`);
    fs.appendFileSync(this.eventsFile, JSON.stringify(parsed.data) + '\n');
    return parsed.data;
  }

  appendSampleRows(group: RolloutGroup): void {
    const rows = sampleRows(group).map(sampleLine);
    if (rows.length) fs.appendFileSync(this.samplesFile, rows.join('\n') + '\n');
  }

  writeSummary(summary: RunSummary): void {
    this.writeJsonAtomic(path.join(this.dir, SUMMARY_FILE), RunSummarySchema.parse(summary));
  }

  private writeJsonAtomic(file: string, value: unknown): void {
    this.writeTextAtomic(file, JSON.stringify(value, null, 2) + '\n');
  }

  /** A temporary file renamed over the target: readers see the old or the new file, never half of one. */
  private writeTextAtomic(file: string, text: string): void {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  }
}

/** One samples.jsonl line (validated). */
function sampleLine(row: TraceSampleRow): string {
  return JSON.stringify(TraceSampleRowSchema.parse(row));
}

/**
 * summary.json recomputed from a run's events, or null when there is no run
 * yet. Its status is the last run_ended's after the last run_started, else
 * "running" (a writer is at work, or was killed without a chance to say so).
 */
export function summaryFromEvents(events: RunEvent[]): RunSummary | null {
  let runId: string | null = null;
  let status: RunSummary['status'] = 'running';
  for (const e of events) {
    if (e.type === 'run_started') {
      runId = e.run_id;
      status = 'running';
    }
    if (e.type === 'run_ended') status = e.status;
  }
  return runId === null ? null : SummaryBuilder.fromEvents(events).build(runId, status);
}

export function sampleRows(group: RolloutGroup): TraceSampleRow[] {
  return group.samples.map((s) => {
    const { with_trace, no_trace, e2e_attempt: _e2eAttempt, ...rest } = s;
    // protocol.baseline per_trace: the trace's own no-trace samples are its baseline.
    const baseline = no_trace?.tally ?? group.baseline.tally;
    return {
      ...rest,
      task: group.task,
      problem_id: group.problem_id,
      step: group.step,
      with_trace_successes: with_trace.tally.successes,
      with_trace_valid: with_trace.tally.valid,
      with_trace_rate: with_trace.tally.rate,
      baseline_rate: baseline.rate,
      baseline_valid: baseline.valid,
      failed_calls: with_trace.tally.failed,
    };
  });
}
