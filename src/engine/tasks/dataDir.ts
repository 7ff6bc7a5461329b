/** Locating benchmark files, with errors that say what is missing and where it comes from. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TaskFile, TaskModule } from './types';
import { findRepoRoot } from '../util/repoRoot';

export const DATA_DIR_ENV = 'TRACELIFT_DATA_DIR';

export class MissingDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingDataError';
  }
}

/** Flag, then $TRACELIFT_DATA_DIR, then ../shared/data beside the repository. */
export function resolveDataDir(flag?: string | null): string {
  if (flag) return path.resolve(flag);
  const env = process.env[DATA_DIR_ENV];
  if (env) return path.resolve(env);
  const beside = path.resolve(findRepoRoot(), '..', 'shared', 'data');
  if (fs.existsSync(beside)) return beside;
  throw new MissingDataError(
    `No data directory: pass --data-dir DIR or set ${DATA_DIR_ENV}. ` +
      'It holds the benchmark files in their published layout (gsm8k/test.jsonl, math500/test.jsonl, …).',
  );
}

export function taskFile(task: TaskModule, split: string): TaskFile {
  if (!task.splits.includes(split)) {
    throw new MissingDataError(`Task "${task.name}" has no split "${split}"; its splits are: ${task.splits.join(', ')}.`);
  }
  const file = task.files.find((f) => f.split === split);
  if (!file) throw new MissingDataError(`Task "${task.name}" declares no file for split "${split}".`);
  return file;
}

/** Absolute path of a task split's file; a missing file names the file and its source. */
export function requireTaskFile(task: TaskModule, dataDir: string, split: string): string {
  const file = taskFile(task, split);
  const full = path.join(dataDir, file.path);
  if (!fs.existsSync(full)) {
    throw new MissingDataError(
      `Missing ${task.name} ${split} file: ${full}\n` +
        `  It comes from ${file.source}.\n` +
        `  Put it at ${file.path} under the data directory (--data-dir or ${DATA_DIR_ENV}).`,
    );
  }
  return full;
}
