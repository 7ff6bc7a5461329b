/**
 * The one reader of run directories (see contract/events.ts for the layout).
 * Everything that reads a run — the CLI and engine (`readEvents`), the
 * extension's run index (explorer, annotations, status bar, webviews) — reads
 * it through this module.
 *
 * `JsonlTail` reads a JSON Lines file incrementally: from a byte offset, in
 * bounded chunks, each complete line parsed as JSON and validated against a
 * zod schema. A valid line is yielded with its line number, byte offset and
 * byte length (so it can be re-read alone later); a bad line is reported
 * (line, field) and skipped; bytes after the last newline — a writer
 * mid-append, or a line cut by a crash — wait for the next read. A file that
 * shrank or was replaced (another inode) is noticed and read again from its
 * first line.
 *
 * The cheap reads (config, summary, first and last complete line) let a run
 * list describe a run without reading its whole log.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { z } from 'zod';
import { RunEventSchema, RunSummarySchema, type RunEvent, type RunSummary } from '../contract';
import { describeZodError } from '../util/jsonl';

export const EVENTS_FILE = 'events.jsonl';
export const SAMPLES_FILE = 'samples.jsonl';
export const SUMMARY_FILE = 'summary.json';
export const CONFIG_FILE = 'config.json';

/** Bytes read per step by default. */
export const DEFAULT_CHUNK_BYTES = 1 << 20;

export interface JsonlRecord<T> {
  value: T;
  /** 1-based line number. */
  line: number;
  /** Byte offset of the line's first byte, and its length without the newline. */
  offset: number;
  length: number;
}

export interface JsonlIssue {
  line: number;
  /** "invalid JSON (…)" or the schema's complaint naming the field. */
  message: string;
}

/**
 * Where a read delivers as it parses (a run index applies each event at
 * once, so a chunk's parsed events are not all held together).
 */
export interface JsonlSink<T> {
  /** The file shrank, was replaced or removed: what was delivered before is void; lines start again at 1. */
  restarted(): void;
  record(r: JsonlRecord<T>): void;
  issue(i: JsonlIssue): void;
}

export interface JsonlBatch<T> {
  /** What was read (empty when a sink took it). */
  records: JsonlRecord<T>[];
  issues: JsonlIssue[];
  /** Complete lines consumed (blank ones included). */
  lines: number;
  /** Bytes consumed (up to and including the last newline read). */
  consumed: number;
  /** The file shrank, was replaced or removed since the last read: the reader started over (records are from line 1). */
  restarted: boolean;
}

const emptyBatch = <T>(restarted = false): JsonlBatch<T> => ({ records: [], issues: [], lines: 0, consumed: 0, restarted });

/** A sink that collects into the batch. */
const collector = <T>(batch: JsonlBatch<T>): JsonlSink<T> => ({
  restarted: () => {
    batch.records.length = 0;
    batch.issues.length = 0;
  },
  record: (r) => batch.records.push(r),
  issue: (i) => batch.issues.push(i),
});

/** Parses one line's text against a schema: the value, or why not. */
export function parseJsonLine<T>(text: string, schema: z.ZodType<T>): { value: T } | { error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { error: `invalid JSON (${(err as Error).message})` };
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? { value: parsed.data } : { error: describeZodError(parsed.error) };
}

/** Reads up to `length` bytes at `position` (fewer at the end of the file). */
export function readRange(file: string, position: number, length: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(Math.max(0, length));
    const n = fs.readSync(fd, buf, 0, buf.length, position);
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Re-reads one line known by its byte range (from a `JsonlRecord`). Throws,
 * naming file and line, when the bytes there no longer parse (the file
 * changed under the reader).
 */
export function readLineAt<T>(file: string, schema: z.ZodType<T>, at: { offset: number; length: number; line: number }): T {
  const buf = readRange(file, at.offset, at.length);
  if (buf.length !== at.length) throw new Error(`${file}:${at.line}: the file changed under the reader (short read)`);
  const parsed = parseJsonLine(buf.toString('utf8'), schema);
  if ('error' in parsed) {
    const changed = parsed.error.startsWith('invalid JSON');
    throw new Error(`${file}:${at.line}: ${changed ? `the file changed under the reader (${parsed.error})` : parsed.error}`);
  }
  return parsed.value;
}

/** An incremental reader of one JSON Lines file (see the module comment). */
export class JsonlTail<T> {
  /** Bytes consumed: just past the last complete line. */
  offset = 0;
  /** Line number of the next line. */
  nextLine = 1;
  /** Size of the file at the last look. */
  size = 0;
  /** The file did not exist at the last look. */
  missing = true;
  private ino: number | null = null;

  constructor(
    readonly file: string,
    private readonly schema: z.ZodType<T>,
    private readonly opts: { chunkBytes?: number } = {},
  ) {}

  /** Bytes after the last complete line (a writer mid-append, or a cut last line). */
  get pendingBytes(): number {
    return Math.max(0, this.size - this.offset);
  }

  /** Forget the position: the next read starts at line 1. */
  restart(): void {
    this.offset = 0;
    this.nextLine = 1;
    this.size = 0;
    this.ino = null;
  }

  /**
   * Parses the complete lines of `buf`, which holds the file's bytes from
   * `atOffset` (must be `this.offset`), and moves past them. What follows the
   * last newline is left for the next call. Records and issues go to `sink`
   * when given, else into the returned batch.
   */
  consume(buf: Buffer, atOffset: number, sink?: JsonlSink<T>): JsonlBatch<T> {
    if (atOffset !== this.offset) throw new Error(`${this.file}: read at ${atOffset}, the reader is at ${this.offset}`);
    const batch = emptyBatch<T>();
    const to = sink ?? collector(batch);
    let pos = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, pos);
      if (nl < 0) break;
      const line = this.nextLine++;
      batch.lines++;
      if (nl > pos) {
        const text = buf.toString('utf8', pos, nl);
        if (text.trim()) {
          const parsed = parseJsonLine(text, this.schema);
          if ('error' in parsed) to.issue({ line, message: parsed.error });
          else to.record({ value: parsed.value, line, offset: this.offset + pos, length: nl - pos });
        }
      }
      pos = nl + 1;
    }
    this.offset += pos;
    if (this.offset > this.size) this.size = this.offset;
    batch.consumed = pos;
    return batch;
  }

  /**
   * Reads what was appended since the last read: about `maxBytes` of it (at
   * least one whole line, however long), so a caller can yield between
   * steps. Returns an empty batch when there is no complete line yet. With a
   * sink, what is read goes there as it is parsed (after `restarted()` when
   * the file was replaced).
   */
  async read(maxBytes = this.opts.chunkBytes ?? DEFAULT_CHUNK_BYTES, sink?: JsonlSink<T>): Promise<JsonlBatch<T>> {
    const st = await fs.promises.stat(this.file).catch(() => null);
    const restarted = this.look(st);
    if (restarted) sink?.restarted();
    if (!st || st.size <= this.offset) return emptyBatch(restarted);
    const fh = await fs.promises.open(this.file, 'r');
    try {
      let want = Math.min(maxBytes, st.size - this.offset);
      for (;;) {
        const buf = Buffer.allocUnsafe(want);
        const { bytesRead } = await fh.read(buf, 0, want, this.offset);
        const chunk = buf.subarray(0, bytesRead);
        if (this.needsMore(chunk, want, st.size)) {
          want = Math.min(want * 2, st.size - this.offset);
          continue;
        }
        return { ...this.consume(chunk, this.offset, sink), restarted };
      }
    } finally {
      await fh.close();
    }
  }

  /** `read`, synchronously (the CLI and the engine read whole runs at start-up). */
  readSync(maxBytes = this.opts.chunkBytes ?? DEFAULT_CHUNK_BYTES, sink?: JsonlSink<T>): JsonlBatch<T> {
    let st: fs.Stats | null;
    try {
      st = fs.statSync(this.file);
    } catch {
      st = null;
    }
    const restarted = this.look(st);
    if (restarted) sink?.restarted();
    if (!st || st.size <= this.offset) return emptyBatch(restarted);
    const fd = fs.openSync(this.file, 'r');
    try {
      let want = Math.min(maxBytes, st.size - this.offset);
      for (;;) {
        const buf = Buffer.allocUnsafe(want);
        const chunk = buf.subarray(0, fs.readSync(fd, buf, 0, want, this.offset));
        if (this.needsMore(chunk, want, st.size)) {
          want = Math.min(want * 2, st.size - this.offset);
          continue;
        }
        return { ...this.consume(chunk, this.offset, sink), restarted };
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Everything appended since the last read, in chunks (`readSync` until no complete line is left). */
  readAllSync(): JsonlBatch<T> {
    const all = emptyBatch<T>();
    for (;;) {
      const b = this.readSync();
      if (b.restarted) {
        Object.assign(all, emptyBatch<T>(true));
      }
      all.records.push(...b.records);
      all.issues.push(...b.issues);
      all.lines += b.lines;
      all.consumed += b.consumed;
      if (b.consumed === 0 || this.pendingBytes === 0) return all;
    }
  }

  /** Notes the file's state; restarts (and says so) when it shrank, was replaced or removed. */
  private look(st: fs.Stats | null): boolean {
    let restarted = false;
    if (!st) {
      restarted = this.offset > 0;
      this.restart();
      this.missing = true;
      return restarted;
    }
    this.missing = false;
    if ((this.ino !== null && st.ino !== this.ino) || st.size < this.offset) {
      this.restart();
      restarted = true;
    }
    this.ino = st.ino;
    this.size = st.size;
    return restarted;
  }

  /** A chunk holding no newline, with more of the file after it: one line longer than the chunk. */
  private needsMore(chunk: Buffer, want: number, size: number): boolean {
    return chunk.length === want && chunk.lastIndexOf(0x0a) < 0 && this.offset + want < size;
  }
}

/** The reader of a run's events.jsonl. */
export function eventsTail(runDir: string, opts: { chunkBytes?: number } = {}): JsonlTail<RunEvent> {
  return new JsonlTail(path.join(runDir, EVENTS_FILE), RunEventSchema, opts);
}

// ---------------------------------------------------------------- cheap reads

export function isRunDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, EVENTS_FILE)) || fs.existsSync(path.join(dir, SUMMARY_FILE));
}

/** Run directories directly under `folder` (unsorted). */
export function listRunDirs(folder: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(folder, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => path.join(folder, e.name))
    .filter(isRunDir);
}

/** The last newline-terminated line of a file within its last `maxBytes` (a cut tail is ignored), or null. */
export function lastCompleteLine(file: string, maxBytes = 1024 * 1024): string | null {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return null;
  }
  const start = Math.max(0, size - maxBytes);
  const text = readRange(file, start, size - start).toString('utf8');
  const end = text.lastIndexOf('\n');
  if (end < 0) return null;
  const from = text.lastIndexOf('\n', end - 1);
  if (from < 0 && start > 0) return null; // the line is longer than the window
  return text.slice(from + 1, end).trim() || null;
}

/** The first line of a file when it ends within `maxBytes`, or null. */
export function firstCompleteLine(file: string, maxBytes = 1024 * 1024): string | null {
  try {
    const text = readRange(file, 0, maxBytes).toString('utf8');
    const end = text.indexOf('\n');
    return end < 0 ? null : text.slice(0, end).trim() || null;
  } catch {
    return null;
  }
}

/** A JSON file that may be absent: its value, or why it could not be read. */
function readJsonFile<T>(
  file: string,
  parse: (raw: unknown) => { value: T } | { error: string },
): { value: T | null; issue: string | null } {
  if (!fs.existsSync(file)) return { value: null, issue: null };
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    return { value: null, issue: `${path.basename(file)}: ${(err as Error).message}` };
  }
  const r = parse(raw);
  return 'error' in r ? { value: null, issue: `${path.basename(file)}: ${r.error}` } : { value: r.value, issue: null };
}

/** summary.json: null when absent; an issue (field named) when unreadable. */
export function readRunSummary(runDir: string): { summary: RunSummary | null; issue: string | null } {
  const r = readJsonFile<RunSummary>(path.join(runDir, SUMMARY_FILE), (raw) => {
    const p = RunSummarySchema.safeParse(raw);
    return p.success ? { value: p.data } : { error: describeZodError(p.error) };
  });
  return { summary: r.value, issue: r.issue };
}

/**
 * config.json as a plain object (read loosely: runs of older engines and
 * training runs write different configs; callers read the fields they know).
 */
export function readRunConfig(runDir: string): { config: Record<string, unknown> | null; issue: string | null } {
  const r = readJsonFile<Record<string, unknown>>(path.join(runDir, CONFIG_FILE), (raw) =>
    typeof raw === 'object' && raw !== null && !Array.isArray(raw)
      ? { value: raw as Record<string, unknown> }
      : { error: 'not a JSON object' },
  );
  return { config: r.value, issue: r.issue };
}

/**
 * The first and last complete lines of events.jsonl as events (null when
 * absent, cut, longer than the window or invalid), and whether a last line
 * was there at all — without reading the log in between.
 */
export function readRunEdges(runDir: string): { first: RunEvent | null; last: RunEvent | null; hasLastLine: boolean } {
  const file = path.join(runDir, EVENTS_FILE);
  const asEvent = (text: string | null): RunEvent | null => {
    if (!text) return null;
    const p = parseJsonLine(text, RunEventSchema);
    return 'value' in p ? p.value : null;
  };
  const lastLine = lastCompleteLine(file);
  return { first: asEvent(firstCompleteLine(file)), last: asEvent(lastLine), hasLastLine: lastLine !== null };
}

/** Last modification of a file (ms), 0 when absent. */
export function mtimeMs(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}
