/**
 * Reading JSON / JSON Lines files with errors a person can act on: every
 * failure names the file, the line and the offending field.
 */
import { isUtf8 } from 'node:buffer';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import type { z } from 'zod';

export class DataFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly detail: string,
  ) {
    super(`${file}${line !== null ? `:${line}` : ''}: ${detail}`);
    this.name = 'DataFileError';
  }
}

/** "field.path: message" for each zod issue, joined. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const field = issue.path.length ? issue.path.map(String).join('.') : '(record)';
      return `field "${field}": ${issue.message}`;
    })
    .join('; ');
}

/** Reads a text file, transparently gunzipping *.gz; bytes that are not UTF-8 are an error naming the line and byte. */
export function readTextFile(file: string): string {
  const raw = fs.readFileSync(file);
  const bytes = file.endsWith('.gz') ? zlib.gunzipSync(raw) : raw;
  const checker = new Utf8Checker(file);
  checker.push(bytes);
  checker.end();
  return bytes.toString('utf8');
}

/**
 * Checks that bytes (whole, or streamed chunk by chunk) are UTF-8, because
 * decoding would otherwise replace bad bytes with U+FFFD silently and a
 * trace or answer would change without anyone knowing. The first bad
 * sequence throws a DataFileError: "invalid UTF-8 at byte N" (0-based, in
 * the decompressed text) with its 1-based line.
 */
export class Utf8Checker {
  /** Bytes seen so far, and newlines among them. */
  private offset = 0;
  private newlines = 0;
  /** Continuation bytes still expected by the sequence that started at seqStart. */
  private need = 0;
  private seqStart = 0;
  private seqLine = 1;
  /** Allowed range of the next continuation byte (narrower right after E0, ED, F0, F4). */
  private lo = 0x80;
  private hi = 0xbf;

  constructor(private readonly file: string) {}

  push(chunk: Buffer): void {
    if (this.need === 0 && isUtf8(chunk)) {
      this.newlines += countNewlines(chunk);
      this.offset += chunk.length;
      return;
    }
    for (let i = 0; i < chunk.length; i++) this.byte(chunk[i]!, this.offset + i);
    this.offset += chunk.length;
  }

  /** The input ended: a sequence cut short is an error too. */
  end(): void {
    if (this.need) this.fail(this.seqStart, this.seqLine);
  }

  private byte(b: number, at: number): void {
    if (this.need) {
      if (b < this.lo || b > this.hi) return this.fail(this.seqStart, this.seqLine);
      this.need--;
      this.lo = 0x80;
      this.hi = 0xbf;
      return;
    }
    if (b === 0x0a) this.newlines++;
    if (b < 0x80) return;
    this.seqStart = at;
    this.seqLine = this.newlines + 1;
    if (b >= 0xc2 && b <= 0xdf) this.need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      this.need = 2;
      if (b === 0xe0) this.lo = 0xa0;
      if (b === 0xed) this.hi = 0x9f; // no UTF-16 surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      this.need = 3;
      if (b === 0xf0) this.lo = 0x90;
      if (b === 0xf4) this.hi = 0x8f; // nothing above U+10FFFF
    } else this.fail(at, this.seqLine);
  }

  private fail(at: number, line: number): never {
    throw new DataFileError(this.file, line, `invalid UTF-8 at byte ${at}`);
  }
}

function countNewlines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1)) n++;
  return n;
}

export interface JsonlLine {
  line: number;
  value: unknown;
}

/**
 * Parses JSON Lines text. Blank lines are skipped. With `allowTruncatedTail`
 * an unparsable final line without a trailing newline is ignored (a writer may
 * be mid-append); anywhere else a parse failure is an error.
 */
export function parseJsonl(text: string, file: string, opts: { allowTruncatedTail?: boolean } = {}): JsonlLine[] {
  const lines = text.split('\n');
  const out: JsonlLine[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (!raw) continue;
    try {
      out.push({ line: i + 1, value: JSON.parse(raw) });
    } catch (err) {
      const isTail = i === lines.length - 1 && !text.endsWith('\n');
      if (isTail && opts.allowTruncatedTail) continue;
      throw new DataFileError(file, i + 1, `invalid JSON (${(err as Error).message})`);
    }
  }
  return out;
}

/** Validates each line against a schema; the first bad line throws with file, line and field. */
export function validateLines<T extends z.ZodType>(schema: T, lines: JsonlLine[], file: string): z.infer<T>[] {
  return lines.map(({ line, value }) => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new DataFileError(file, line, describeZodError(parsed.error));
    return parsed.data;
  });
}

export function readJsonlFile<T extends z.ZodType>(schema: T, file: string): z.infer<T>[] {
  return validateLines(schema, parseJsonl(readTextFile(file), file), file);
}

/** Reads a file holding one JSON value (e.g. a JSON list). */
export function readJsonFile(file: string): unknown {
  const text = readTextFile(file);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DataFileError(file, null, `invalid JSON (${(err as Error).message})`);
  }
}
