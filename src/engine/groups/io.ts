/**
 * Reading and writing TraceLift-Groups JSONL files. Records are numbered
 * over the non-blank lines, 0-based; errors name the file, the 1-based line
 * and the field. Reading streams (a groups file can be large; *.gz is
 * gunzipped on the fly). Writing validates every record and appends it as
 * one whole line in a single write, so a crash cuts at most the last line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import type { z } from 'zod';
import { GroupRecordSchema, type GroupRecord } from '../contract';
import { DataFileError, describeZodError, readTextFile, Utf8Checker } from '../util/jsonl';

export type GroupRecordInput = z.input<typeof GroupRecordSchema>;

export interface GroupLine {
  /** The line's text (not trimmed). */
  raw: string;
  /** 1-based line number in the file. */
  line: number;
  /** 0-based record index (non-blank lines before it). */
  index: number;
}

export interface NumberedGroupRecord {
  record: GroupRecord;
  line: number;
  index: number;
}

/** Validates one parsed value as a groups record; the error names the field. */
export function validateGroupRecord(value: unknown): { ok: true; record: GroupRecord } | { ok: false; message: string } {
  const parsed = GroupRecordSchema.safeParse(value);
  return parsed.success
    ? { ok: true, record: parsed.data }
    : { ok: false, message: `not a TraceLift-Groups record: ${describeZodError(parsed.error)}` };
}

/** One line of a groups file as a record; throws a DataFileError naming file, line and field. */
export function parseGroupLine(raw: string, file: string, line: number): GroupRecord {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new DataFileError(file, line, `invalid JSON (${(err as Error).message})`);
  }
  const result = validateGroupRecord(value);
  if (!result.ok) throw new DataFileError(file, line, result.message);
  return result.record;
}

/** The non-blank lines of a groups file, streamed, with their line numbers and record indexes. */
export async function* groupLines(file: string): AsyncGenerator<GroupLine> {
  if (!fs.existsSync(file)) throw new DataFileError(file, null, 'TraceLift-Groups file not found');
  const stream = fs.createReadStream(file);
  const decoded = file.endsWith('.gz') ? stream.pipe(zlib.createGunzip()) : stream;
  // Bytes that are not UTF-8 stop the read with file:line (readline would replace them silently).
  const checker = new Utf8Checker(file);
  const input = decoded.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        try {
          checker.push(chunk);
          done(null, chunk);
        } catch (err) {
          done(err as Error);
        }
      },
      flush(done) {
        try {
          checker.end();
          done();
        } catch (err) {
          done(err as Error);
        }
      },
    }),
  );
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  let index = 0;
  try {
    for await (const raw of rl) {
      line++;
      if (raw.trim()) yield { raw, line, index: index++ };
    }
  } finally {
    rl.close();
    stream.destroy();
  }
}

/**
 * Every record of a groups file, streamed and validated. A bad line throws
 * (file:line: field …) unless `onIssue` is given: then it is reported there
 * and skipped.
 */
export async function* streamGroupRecords(
  file: string,
  opts: { onIssue?: (issue: DataFileError) => void } = {},
): AsyncGenerator<NumberedGroupRecord> {
  for await (const { raw, line, index } of groupLines(file)) {
    try {
      yield { record: parseGroupLine(raw, file, line), line, index };
    } catch (err) {
      if (!opts.onIssue || !(err instanceof DataFileError)) throw err;
      opts.onIssue(err);
    }
  }
}

/** Record `recordIndex` of a groups file, reading no further than its line (earlier lines are not validated). */
export async function readGroupRecordAt(file: string, recordIndex: number): Promise<{ record: GroupRecord; line: number }> {
  let count = 0;
  for await (const { raw, line, index } of groupLines(file)) {
    count = index + 1;
    if (index === recordIndex) return { record: parseGroupLine(raw, file, line), line };
  }
  throw new DataFileError(file, null, `has ${count} record(s); there is no record ${recordIndex}`);
}

/** All records of a (small) groups file at once; the first bad line throws. */
export function readGroupsFile(file: string): GroupRecord[] {
  const records: GroupRecord[] = [];
  readTextFile(file)
    .split('\n')
    .forEach((raw, i) => {
      if (raw.trim()) records.push(parseGroupLine(raw, file, i + 1));
    });
  return records;
}

/** 0-based index of the record on 0-based `line` of `text`: the non-blank lines before it. */
export function recordIndexAtLine(text: string, line: number): number {
  let index = 0;
  let at = 0;
  for (let i = 0; i < line; i++) {
    const nl = text.indexOf('\n', at);
    if (nl < 0) break;
    if (text.slice(at, nl).trim()) index++;
    at = nl + 1;
  }
  return index;
}

function recordLine(record: GroupRecordInput): string {
  const result = validateGroupRecord(record);
  if (!result.ok) throw new Error(result.message);
  return JSON.stringify(result.record) + '\n';
}

/**
 * Appends records to a groups file, one validated line per write. Opening a
 * file whose last line was cut (no newline) starts a fresh line, so the cut
 * record stays one malformed line instead of corrupting the next.
 */
export class GroupsFileWriter {
  private constructor(
    readonly file: string,
    private fd: number | null,
  ) {}

  static open(file: string): GroupsFileWriter {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const fd = fs.openSync(file, 'a+');
    const size = fs.fstatSync(fd).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      fs.readSync(fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) fs.writeSync(fd, '\n');
    }
    return new GroupsFileWriter(file, fd);
  }

  /** Validates and appends one record; returns it as written (normalised by the schema). */
  append(record: GroupRecordInput): GroupRecord {
    if (this.fd === null) throw new Error(`${this.file}: writer is closed`);
    const text = recordLine(record);
    fs.writeSync(this.fd, text);
    return JSON.parse(text) as GroupRecord;
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** Writes a whole groups file atomically (a temporary file renamed over the target); every record is validated first. */
export function writeGroupsFile(file: string, records: Iterable<GroupRecordInput>): void {
  const text = [...records].map(recordLine).join('');
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
