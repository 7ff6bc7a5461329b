/**
 * Cheap reads of run directories for the explorer: what a run is and whether
 * it is live (from config.json, summary.json and the last line of
 * events.jsonl — never the whole log), and its problems and samples read
 * incrementally from samples.jsonl (only the bytes appended since the last
 * read; trace texts are not kept). No `vscode` import.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunSummarySchema, TraceSampleRowSchema, type RunSummary, type TraceSampleRow } from '../../engine/contract';
import { CONFIG_FILE, EVENTS_FILE, SAMPLES_FILE, SUMMARY_FILE, readEvents, sampleRows } from '../../engine/run/runDir';
import { describeZodError } from '../../engine/util/jsonl';
import type { LineIssue } from './detect';

export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted' | 'unknown';

export interface RunInfo {
  dir: string;
  name: string;
  runId: string | null;
  kind: 'eval' | 'train' | null;
  status: RunStatus;
  /** Not ended and its event log was written recently (or an eval of this window is running it). */
  live: boolean;
  task: string | null;
  split: string | null;
  /** "reference", "planner model", "groups: file.jsonl", "traces: file.jsonl". */
  traceSource: string | null;
  /** Absolute path of the traces / groups file the run read, when it read one. */
  traceFile: string | null;
  summary: RunSummary | null;
  /** Problems the config asked for (limit), when it says. */
  limit: number | null;
  /** Last write to events.jsonl or summary.json (ms since epoch). */
  updatedMs: number;
  /** Problems reading this run's files (bad summary, unreadable config…). */
  issues: string[];
}

/** A run that has not ended and whose log was written within this window counts as live. */
export const LIVE_WINDOW_MS = 5 * 60_000;

export function isRunDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, EVENTS_FILE)) || fs.existsSync(path.join(dir, SUMMARY_FILE));
}

/** Run directories directly under `folder` (unsorted: callers sort by updatedMs). */
export function listRunDirs(folder: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(folder, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => path.join(folder, e.name)).filter(isRunDir);
}

function mtimeMs(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** Reads up to `maxBytes` at `position` (clamped to the file). */
function readSlice(file: string, position: number, maxBytes: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const start = Math.max(0, Math.min(position, size));
    const buf = Buffer.alloc(Math.min(maxBytes, size - start));
    const n = fs.readSync(fd, buf, 0, buf.length, start);
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

/** The last newline-terminated line of a file (a cut tail is ignored), or null. */
export function lastCompleteLine(file: string, maxBytes = 1024 * 1024): string | null {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return null;
  }
  const buf = readSlice(file, Math.max(0, size - maxBytes), maxBytes);
  const text = buf.toString('utf8');
  const end = text.lastIndexOf('\n');
  if (end < 0) return null;
  const start = text.lastIndexOf('\n', end - 1);
  if (start < 0 && size > buf.length) return null; // the line is longer than the window
  return text.slice(start + 1, end).trim() || null;
}

/** The first line of a file when it ends within `maxBytes`. */
export function firstLine(file: string, maxBytes = 1024 * 1024): string | null {
  try {
    const text = readSlice(file, 0, maxBytes).toString('utf8');
    const end = text.indexOf('\n');
    return end < 0 ? null : text.slice(0, end).trim() || null;
  } catch {
    return null;
  }
}

function parseObj(text: string | null): Record<string, unknown> | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function describeTraceSource(source: unknown): { text: string | null; file: string | null } {
  const s = source as { kind?: string; path?: string; format?: string; endpoint?: { model?: string } } | undefined;
  if (!s?.kind) return { text: null, file: null };
  if (s.kind === 'reference') return { text: 'reference', file: null };
  if (s.kind === 'planner') return { text: `planner ${s.endpoint?.model ?? ''}`.trim(), file: null };
  if (s.kind === 'file' && s.path) return { text: `${s.format ?? 'traces'}: ${path.basename(s.path)}`, file: s.path };
  return { text: s.kind, file: null };
}

/** What a run directory holds and whether it is live. `activeDirs` are runs this process is writing. */
export function scanRun(dir: string, opts: { now?: number; liveWindowMs?: number; activeDirs?: ReadonlySet<string> } = {}): RunInfo {
  const now = opts.now ?? Date.now();
  const issues: string[] = [];
  const eventsFile = path.join(dir, EVENTS_FILE);
  const summaryFile = path.join(dir, SUMMARY_FILE);

  let summary: RunSummary | null = null;
  if (fs.existsSync(summaryFile)) {
    try {
      const parsed = RunSummarySchema.safeParse(JSON.parse(fs.readFileSync(summaryFile, 'utf8')));
      if (parsed.success) summary = parsed.data;
      else issues.push(`${SUMMARY_FILE}: ${describeZodError(parsed.error)}`);
    } catch (err) {
      issues.push(`${SUMMARY_FILE}: ${(err as Error).message}`);
    }
  }

  let config: Record<string, unknown> | null = null;
  const configFile = path.join(dir, CONFIG_FILE);
  if (fs.existsSync(configFile)) {
    try {
      config = parseObj(fs.readFileSync(configFile, 'utf8'));
      if (!config) issues.push(`${CONFIG_FILE}: not a JSON object`);
    } catch (err) {
      issues.push(`${CONFIG_FILE}: ${(err as Error).message}`);
    }
  }

  const started = parseObj(firstLine(eventsFile));
  const last = parseObj(lastCompleteLine(eventsFile));
  const updatedMs = Math.max(mtimeMs(eventsFile), mtimeMs(summaryFile));

  let status: RunStatus;
  if (last?.type === 'run_ended' && typeof last.status === 'string') status = last.status as RunStatus;
  else if (last) status = 'running';
  else status = summary?.status ?? 'unknown';
  const active = opts.activeDirs?.has(path.resolve(dir)) ?? false;
  const recent = now - updatedMs < (opts.liveWindowMs ?? LIVE_WINDOW_MS);
  const live = active || (status === 'running' && recent);
  if (status === 'running' && !live) status = 'interrupted';

  const runKind = started?.type === 'run_started' ? started.run_kind : config && 'trace_source' in config ? 'eval' : null;
  const source = describeTraceSource(config?.trace_source);
  return {
    dir,
    name: path.basename(dir),
    runId: (typeof started?.run_id === 'string' ? started.run_id : null) ?? summary?.run_id ?? null,
    kind: runKind === 'eval' || runKind === 'train' ? runKind : null,
    status,
    live,
    task: typeof config?.task === 'string' ? config.task : (summary?.tasks[0]?.task ?? null),
    split: typeof config?.split === 'string' ? config.split : null,
    traceSource: source.text,
    traceFile: source.file,
    summary,
    limit: typeof config?.limit === 'number' ? config.limit : null,
    updatedMs,
    issues,
  };
}

/** A sample row without its trace text: what the tree shows. */
export interface SampleLite {
  /** 1-based line in samples.jsonl (or events.jsonl when the run has no samples file). */
  line: number;
  /** Byte range of the row in samples.jsonl (null when read from events.jsonl): `readSampleRow` reads it back whole. */
  offset: number | null;
  bytes: number;
  sample_id: string;
  problem_id: string;
  task: string;
  source: string;
  label: string | null;
  uplift: number | null;
  reward: number | null;
  rubric_total: number | null;
  with_trace_successes: number;
  with_trace_valid: number;
  baseline_rate: number | null;
  baseline_valid: number;
  failed_calls: number;
  errors: number;
}

export interface ProblemLite {
  problem_id: string;
  task: string;
  samples: SampleLite[];
}

function lite(row: TraceSampleRow, line: number, offset: number | null, bytes: number): SampleLite {
  return {
    line,
    offset,
    bytes,
    sample_id: row.sample_id,
    problem_id: row.problem_id,
    task: row.task,
    source: row.source,
    label: row.label,
    uplift: row.uplift,
    reward: row.reward?.value ?? null,
    rubric_total: row.rubric_total,
    with_trace_successes: row.with_trace_successes,
    with_trace_valid: row.with_trace_valid,
    baseline_rate: row.baseline_rate,
    baseline_valid: row.baseline_valid,
    failed_calls: row.failed_calls,
    errors: row.errors.length,
  };
}

const CHUNK = 8 * 1024 * 1024;

/**
 * Problems and samples of one run, read incrementally: each `refresh()` reads
 * only the complete lines appended since the last one. Bad lines are counted
 * and named; a cut last line waits for the next refresh.
 */
export class RunSamplesReader {
  private offset = 0;
  private lineNo = 0;
  private readonly byProblem = new Map<string, ProblemLite>();
  private readonly order: ProblemLite[] = [];
  private fromEvents = false;
  malformedCount = 0;
  readonly issues: LineIssue[] = [];

  constructor(readonly dir: string) {}

  get sampleCount(): number {
    return this.order.reduce((n, p) => n + p.samples.length, 0);
  }

  problems(): readonly ProblemLite[] {
    return this.order;
  }

  problem(id: string): ProblemLite | undefined {
    return this.byProblem.get(id);
  }

  private reset(): void {
    this.offset = 0;
    this.lineNo = 0;
    this.byProblem.clear();
    this.order.length = 0;
    this.malformedCount = 0;
    this.issues.length = 0;
  }

  private add(row: TraceSampleRow, line: number, offset: number | null = null, bytes = 0): void {
    let p = this.byProblem.get(row.problem_id);
    if (!p) {
      p = { problem_id: row.problem_id, task: row.task, samples: [] };
      this.byProblem.set(row.problem_id, p);
      this.order.push(p);
    }
    p.samples.push(lite(row, line, offset, bytes));
  }

  private issue(line: number, message: string): void {
    this.malformedCount++;
    if (this.issues.length < 20) this.issues.push({ line, message });
  }

  /** Reads what was appended; returns how many samples were added. */
  refresh(): number {
    const samplesFile = path.join(this.dir, SAMPLES_FILE);
    const before = this.sampleCount;
    if (fs.existsSync(samplesFile)) {
      if (this.fromEvents) {
        this.reset();
        this.fromEvents = false;
      }
      this.readSamples(samplesFile);
    } else if (fs.existsSync(path.join(this.dir, EVENTS_FILE))) {
      if (!this.fromEvents) {
        this.reset();
        this.fromEvents = true;
      }
      this.readEventGroups();
    }
    return this.sampleCount - before;
  }

  private readSamples(file: string): void {
    let size: number;
    try {
      size = fs.statSync(file).size;
    } catch {
      return;
    }
    if (size < this.offset) this.reset(); // rewritten
    let want = CHUNK;
    while (this.offset < size) {
      const buf = readSlice(file, this.offset, want);
      const end = buf.lastIndexOf(0x0a);
      if (end < 0) {
        if (this.offset + buf.length >= size) return; // only a cut line so far: wait for its newline
        want *= 2; // one line longer than the chunk
        continue;
      }
      this.consume(buf.subarray(0, end + 1).toString('utf8'), this.offset);
      this.offset += end + 1;
      want = CHUNK;
    }
  }

  private consume(text: string, base: number): void {
    const lines = text.split('\n');
    lines.pop(); // after the final newline
    let at = base;
    for (const raw of lines) {
      const line = ++this.lineNo;
      const start = at;
      const bytes = Buffer.byteLength(raw, 'utf8');
      at += bytes + 1;
      if (!raw.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (err) {
        this.issue(line, `invalid JSON (${(err as Error).message})`);
        continue;
      }
      const parsed = TraceSampleRowSchema.safeParse(value);
      if (parsed.success) this.add(parsed.data, line, start, bytes);
      else this.issue(line, describeZodError(parsed.error));
    }
  }

  private readEventGroups(): void {
    const { events, issues, offset } = readEvents(this.dir, this.offset, this.lineNo + 1);
    const consumed = readSlice(path.join(this.dir, EVENTS_FILE), this.offset, offset - this.offset).toString('utf8');
    const startLine = this.lineNo + 1;
    this.lineNo += (consumed.match(/\n/g) ?? []).length;
    this.offset = offset;
    for (const i of issues) this.issue(i.line, i.message);
    for (const e of events) if (e.type === 'rollout_group') for (const row of sampleRows(e)) this.add(row, startLine);
  }
}

/** The whole samples.jsonl row of a sample (with its trace), or null when it cannot be read back. */
export function readSampleRow(dir: string, sample: SampleLite): TraceSampleRow | null {
  if (sample.offset === null) {
    for (const e of readEvents(dir).events) {
      if (e.type !== 'rollout_group' || e.problem_id !== sample.problem_id) continue;
      const row = sampleRows(e).find((r) => r.sample_id === sample.sample_id);
      if (row) return row;
    }
    return null;
  }
  try {
    const raw = readSlice(path.join(dir, SAMPLES_FILE), sample.offset, sample.bytes).toString('utf8');
    const parsed = TraceSampleRowSchema.safeParse(JSON.parse(raw));
    return parsed.success && parsed.data.sample_id === sample.sample_id ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Written beside a run by "Measure Uplift": which groups file and record it measured. */
export const ORIGIN_FILE = 'tracelift-origin.json';

export interface RunOrigin {
  groups_file: string;
  record_index: number;
  problem_id: string;
}

export function readOrigin(dir: string): RunOrigin | null {
  let v: Record<string, unknown> | null;
  try {
    v = parseObj(fs.readFileSync(path.join(dir, ORIGIN_FILE), 'utf8'));
  } catch {
    return null;
  }
  if (!v || typeof v.groups_file !== 'string' || typeof v.problem_id !== 'string' || typeof v.record_index !== 'number') return null;
  return { groups_file: v.groups_file, record_index: v.record_index, problem_id: v.problem_id };
}

/** "+0.333" / "−0.250" / "n/a". */
export function signed(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || Number.isNaN(x)) return 'n/a';
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;
}

export function pct(x: number | null | undefined): string {
  return x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(0)}%`;
}

/** One line describing a run: "completed · 50 problems · uplift +0.031 · with 42% vs 38%". */
export function describeRun(r: RunInfo): string {
  const parts: string[] = [r.live ? 'live' : r.status];
  const s = r.summary;
  if (s) {
    const total = r.limit ? `/${r.limit}` : '';
    parts.push(`${s.micro.problems}${r.live ? total : ''} problems`);
    if (s.mean_uplift !== null) parts.push(`uplift ${signed(s.mean_uplift)}`);
    if (s.with_trace_success !== null) parts.push(`with ${pct(s.with_trace_success)} vs ${pct(s.no_trace_success)}`);
  }
  if (r.task) parts.push(r.task);
  return parts.join(' · ');
}
