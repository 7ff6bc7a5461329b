/**
 * Computes a report view's data on a worker thread (reportWorker), so that
 * reading a large run never blocks the extension host; bounded in time.
 * No `vscode` import.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ReportWorkerData, ReportWorkerReply } from '../../../engine/report/reportWorker';
import { ReportViewDataSchema, type ReportViewData } from '../../../engine/report/viewData';
import { describeIssues } from '../../../webviewProtocol';

/** A report over runs this large still finishes in seconds; past this something is wrong. */
export const REPORT_TIMEOUT_MS = 120_000;

/** dist/reportWorker.js beside the bundled extension; under tsx (tests) the .ts source through tsx's require hook. */
function startWorker(data: ReportWorkerData): Worker {
  if (__filename.endsWith('.ts')) {
    const file = path.resolve(__dirname, '../../../engine/report/reportWorker.ts');
    return new Worker(`require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(file)});`, {
      eval: true,
      workerData: data,
    });
  }
  return new Worker(path.join(__dirname, 'reportWorker.js'), { workerData: data });
}

export function computeReport(runDirs: string[], timeoutMs = REPORT_TIMEOUT_MS): { result: Promise<ReportViewData>; cancel(): void } {
  const worker = startWorker({ runDirs });
  let timer: NodeJS.Timeout | undefined;
  const result = new Promise<ReportViewData>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`the report took longer than ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    worker.once('message', (reply: ReportWorkerReply) => {
      if (!reply.ok) return reject(new Error(reply.error));
      const parsed = ReportViewDataSchema.safeParse(reply.data);
      if (parsed.success) resolve(parsed.data);
      else reject(new Error(`invalid report data: ${describeIssues(parsed.error)}`));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the report worker stopped (exit code ${code})`)));
  }).finally(() => {
    clearTimeout(timer);
    void worker.terminate();
  });
  return { result, cancel: () => void worker.terminate() };
}
