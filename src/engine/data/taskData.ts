/**
 * Benchmark data per task: which files each task needs, where they are found
 * (the places the task loader looks, src/engine/tasks/dataDir.ts), and
 * fetching the missing ones into the data cache.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DATA_DIR_ENV, dataDirCandidates, resolveDataDir, type DataDirOrigin } from '../tasks/dataDir';
import { getTask, listTasks } from '../tasks/registry';
import type { TaskModule } from '../tasks/types';
import { defaultDataCacheDir } from './cacheDir';
import { fetchDataFiles, sha256OfFile, type FetchFileOptions, type FetchFilesResult } from './fetch';
import { DATA_SOURCES, sourcesForTask, type DataSource } from './sources';

/** Where `tracelift data fetch` writes: the flag, then $TRACELIFT_DATA_DIR, then the data cache. */
export function resolveFetchDir(flag?: string | null): string {
  if (flag) return path.resolve(flag);
  const env = process.env[DATA_DIR_ENV];
  if (env) return path.resolve(env);
  return defaultDataCacheDir();
}

function tasksByName(names?: readonly string[]): TaskModule[] {
  return names && names.length > 0 ? names.map(getTask) : [...listTasks()];
}

/** The distinct manifest entries the named tasks (default: all) need. */
export function sourcesForTasks(names?: readonly string[], sources: readonly DataSource[] = DATA_SOURCES): DataSource[] {
  const byPath = new Map<string, DataSource>();
  for (const task of tasksByName(names)) for (const s of sourcesForTask(task, sources)) byPath.set(s.path, s);
  return [...byPath.values()];
}

export interface FetchTaskDataOptions extends FetchFileOptions {
  tasks?: readonly string[];
  dataDir?: string | null;
  sources?: readonly DataSource[];
}

export async function fetchTaskData(opts: FetchTaskDataOptions = {}): Promise<{ dataDir: string; files: FetchFilesResult[] }> {
  const dataDir = resolveFetchDir(opts.dataDir);
  const files = await fetchDataFiles(sourcesForTasks(opts.tasks, opts.sources), dataDir, opts);
  return { dataDir, files };
}

export interface DataFileStatus {
  path: string;
  /** The first place holding the file, in the loader's order; null when none does. */
  found: { dir: string; origin: DataDirOrigin; sha256Ok: boolean } | null;
}

export interface TaskDataStatus {
  task: string;
  /** Every file is in the directory the task loader will use, with the pinned bytes. */
  ready: boolean;
  files: DataFileStatus[];
}

export interface DataStatusReport {
  /** The directory the task loader uses now (null when there is none). */
  loaderDir: string | null;
  fetchDir: string;
  tasks: TaskDataStatus[];
}

export async function dataStatus(flag?: string | null, sources: readonly DataSource[] = DATA_SOURCES): Promise<DataStatusReport> {
  let loaderDir: string | null = null;
  try {
    loaderDir = resolveDataDir(flag);
  } catch {
    loaderDir = null;
  }
  const candidates = dataDirCandidates(flag);
  const tasks: TaskDataStatus[] = [];
  for (const task of listTasks()) {
    const files: DataFileStatus[] = [];
    for (const source of sourcesForTask(task, sources)) {
      const holder = candidates.find((c) => fs.existsSync(path.join(c.dir, source.path)));
      files.push({
        path: source.path,
        found: holder ? { ...holder, sha256Ok: (await sha256OfFile(path.join(holder.dir, source.path))) === source.sha256 } : null,
      });
    }
    const ready = files.every((f) => f.found !== null && f.found.dir === loaderDir && f.found.sha256Ok);
    tasks.push({ task: task.name, ready, files });
  }
  return { loaderDir, fetchDir: resolveFetchDir(flag), tasks };
}

const ORIGIN_WORDS: Record<DataDirOrigin, string> = {
  flag: '--data-dir',
  env: `$${DATA_DIR_ENV}`,
  'beside-repo': 'beside the repository',
  cache: 'data cache',
};

export function formatDataStatus(report: DataStatusReport): string {
  const lines = [`data directory in use: ${report.loaderDir ?? '(none)'}`, `fetch writes to: ${report.fetchDir}`, ''];
  for (const t of report.tasks) {
    lines.push(`${t.ready ? 'ok     ' : 'MISSING'} ${t.task}`);
    for (const f of t.files) {
      if (!f.found) lines.push(`          ${f.path}: missing`);
      else {
        const where = `${path.join(f.found.dir, f.path)} (${ORIGIN_WORDS[f.found.origin]})`;
        const note = !f.found.sha256Ok
          ? ' — sha256 differs from the published file'
          : f.found.dir !== report.loaderDir
            ? ' — not in the directory in use'
            : '';
        lines.push(`          ${f.path}: ${where}${note}`);
      }
    }
  }
  const missing = report.tasks.filter((t) => !t.ready).map((t) => t.task);
  if (missing.length > 0) lines.push('', `Get the missing files with: tracelift data fetch ${missing.join(' ')}`);
  return lines.join('\n') + '\n';
}
