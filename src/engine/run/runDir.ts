/**
 * Writing and reading run directories (see contract/events.ts for the layout).
 * Every event is validated against the contract before it is appended, and
 * each append is a single write of one whole line, so a crash can cut at most
 * the last line, which readers skip. Reading goes through runReader.ts.
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
   * events stay, and `previous` lists what it already holds so the caller
   * can skip finished work.
   */
  static open(dir: string): { writer: RunWriter; previous: RunEvent[]; issues: EventReadIssue[] } {
    fs.mkdirSync(dir, { recursive: true });
    const writer = new RunWriter(dir);
    const { events, issues } = readEvents(dir);
    writer.repairTail(writer.eventsFile);
    writer.repairTail(writer.samplesFile);
    return { writer, previous: events, issues };
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
    const rows = sampleRows(group).map((r) => JSON.stringify(TraceSampleRowSchema.parse(r)));
    if (rows.length) fs.appendFileSync(this.samplesFile, rows.join('\n') + '\n');
  }

  writeSummary(summary: RunSummary): void {
    this.writeJsonAtomic(path.join(this.dir, SUMMARY_FILE), RunSummarySchema.parse(summary));
  }

  private writeJsonAtomic(file: string, value: unknown): void {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
    fs.renameSync(tmp, file);
  }
}

export function sampleRows(group: RolloutGroup): TraceSampleRow[] {
  return group.samples.map((s) => {
    const { with_trace, ...rest } = s;
    return {
      ...rest,
      task: group.task,
      problem_id: group.problem_id,
      step: group.step,
      with_trace_successes: with_trace.tally.successes,
      with_trace_valid: with_trace.tally.valid,
      with_trace_rate: with_trace.tally.rate,
      baseline_rate: group.baseline.tally.rate,
      baseline_valid: group.baseline.tally.valid,
      failed_calls: with_trace.tally.failed,
    };
  });
}
