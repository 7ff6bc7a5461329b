/** Locating benchmark files, with errors that say what is missing and where it comes from. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TaskFile, TaskModule } from './types';
import { findRepoRoot } from '../util/repoRoot';
import { defaultDataCacheDir } from '../data/cacheDir';

export const DATA_DIR_ENV = 'TRACELIFT_DATA_DIR';

export class MissingDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingDataError';
  }
}

export type DataDirOrigin = 'flag' | 'env' | 'beside-repo' | 'cache';

export interface DataDirCandidate {
  dir: string;
  origin: DataDirOrigin;
}

/** Where data is looked for, in order: flag, $TRACELIFT_DATA_DIR, ../shared/data beside the repository, the data cache. */
export function dataDirCandidates(flag?: string | null): DataDirCandidate[] {
  const candidates: DataDirCandidate[] = [];
  if (flag) candidates.push({ dir: path.resolve(flag), origin: 'flag' });
  const env = process.env[DATA_DIR_ENV];
  if (env) candidates.push({ dir: path.resolve(env), origin: 'env' });
  candidates.push({ dir: path.resolve(findRepoRoot(), '..', 'shared', 'data'), origin: 'beside-repo' });
  candidates.push({ dir: defaultDataCacheDir(), origin: 'cache' });
  return candidates;
}

/** Flag, then $TRACELIFT_DATA_DIR (both taken as given), then the first of ../shared/data and the data cache that exists. */
export function resolveDataDir(flag?: string | null): string {
  for (const { dir, origin } of dataDirCandidates(flag)) {
    if (origin === 'flag' || origin === 'env' || fs.existsSync(dir)) return dir;
  }
  throw new MissingDataError(
    `No data directory: run \`tracelift data fetch\` (fills ${defaultDataCacheDir()}), pass --data-dir DIR or set ${DATA_DIR_ENV}. ` +
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
        `  Put it at ${file.path} under the data directory (--data-dir or ${DATA_DIR_ENV}),\n` +
        `  or run \`tracelift data fetch ${task.name}\`.`,
    );
  }
  return full;
}
