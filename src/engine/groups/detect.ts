/** Recognising TraceLift-Groups records and files by their fields, not by file names. */
import * as fs from 'node:fs';
import { readTextFile } from '../util/jsonl';

/** A JSON object with the groups fields (positive_pool / negative_bank): the cheap test before validation. */
export function isGroupRecordLike(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && ('positive_pool' in value || 'negative_bank' in value);
}

/** Bytes read from a plain file to find its first record. */
const HEAD_BYTES = 4 * 1024 * 1024;

function head(file: string): string {
  if (file.endsWith('.gz')) return readTextFile(file);
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(Math.min(fs.fstatSync(fd).size, HEAD_BYTES));
    fs.readSync(fd, buf, 0, buf.length, 0);
    return buf.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** True when the first record of a JSONL file has the groups fields. */
export function looksLikeGroupsFile(file: string): boolean {
  const first = head(file)
    .split('\n')
    .find((l) => l.trim());
  if (!first) return false;
  try {
    return isGroupRecordLike(JSON.parse(first));
  } catch {
    return false;
  }
}
