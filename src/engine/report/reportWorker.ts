/**
 * The report view's worker thread (bundled as dist/reportWorker.js): reads
 * the runs and computes the view's data away from the extension host's
 * event loop, then posts it (or the error) once.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { reportViewData } from './reportView';

export interface ReportWorkerData {
  runDirs: string[];
}
export type ReportWorkerReply = { ok: true; data: unknown } | { ok: false; error: string };

const input = workerData as ReportWorkerData;
let reply: ReportWorkerReply;
try {
  reply = { ok: true, data: reportViewData(input.runDirs) };
} catch (err) {
  reply = { ok: false, error: (err as Error).message };
}
parentPort?.postMessage(reply);
