/**
 * Preparing an eval started from the editor, without `vscode`: staging a
 * workspace problem file where its task module reads it, and checking that an
 * endpoint answers before minutes are spent on a run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { TaskModule } from '../../engine/tasks/types';

const stripGz = (p: string) => p.replace(/\.gz$/i, '');

/**
 * Copies a benchmark file of the workspace into `dataDir` at the path the task
 * module reads (gzipping or gunzipping to match), so the task's own loader —
 * with its validation — reads it. Returns the split whose file it became.
 */
export function stageProblemFile(file: string, task: TaskModule, dataDir: string): string {
  const ext = path.extname(stripGz(file)).toLowerCase();
  const candidates = task.files.filter((f) => path.extname(stripGz(f.path)).toLowerCase() === ext);
  const chosen = candidates.find((f) => f.split === task.defaultSplit) ?? candidates[0];
  if (!chosen) {
    throw new Error(
      `Task ${task.name} reads ${task.files.map((f) => f.path).join(', ')}; ${path.basename(file)} is not a ${ext} file of that kind.`,
    );
  }
  const target = path.join(dataDir, chosen.path);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const raw = fs.readFileSync(file);
  const srcGz = /\.gz$/i.test(file);
  const dstGz = /\.gz$/i.test(target);
  fs.writeFileSync(target, srcGz === dstGz ? raw : dstGz ? zlib.gzipSync(raw) : zlib.gunzipSync(raw));
  return chosen.split;
}

export interface ProbeResult {
  reachable: boolean;
  /** HTTP status when the server answered. */
  status?: number;
  error?: string;
}

/**
 * GET <base>/models with a short timeout. Any HTTP answer (even 401/404)
 * means the server is there; a refused connection, a DNS failure or a
 * timeout means it is not.
 */
export async function probeEndpoint(baseUrl: string, opts: { apiKey?: string; timeoutMs?: number } = {}): Promise<ProbeResult> {
  let url: string;
  try {
    url = new URL(`${baseUrl.replace(/\/+$/, '')}/models`).toString();
  } catch {
    return { reachable: false, error: `not a valid URL: ${baseUrl}` };
  }
  try {
    const res = await fetch(url, {
      method: 'GET',
      headers: opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {},
      signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
    });
    void res.body?.cancel();
    return { reachable: true, status: res.status };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const reason = e.name === 'TimeoutError' ? 'no answer within the timeout' : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { reachable: false, error: reason };
  }
}
