/**
 * Reading JSON / JSON Lines files with errors a person can act on: every
 * failure names the file, the line and the offending field.
 */
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

/** Reads a text file, transparently gunzipping *.gz. */
export function readTextFile(file: string): string {
  const raw = fs.readFileSync(file);
  return file.endsWith('.gz') ? zlib.gunzipSync(raw).toString('utf8') : raw.toString('utf8');
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
