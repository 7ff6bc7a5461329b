/**
 * One search's worker thread, seen from the host: sends it batches of groups
 * and waits for each answer at most `deadlineMs`; past that the thread is
 * terminated (a regex that backtracks forever cannot be interrupted any
 * other way) and the batch reports a timeout. No `vscode` import.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { GroupSpan, SearchReply, SearchWorkerData } from './searchWorker';

export type BatchResult = { kind: 'matches'; matches: number[] } | { kind: 'timeout' } | { kind: 'error'; message: string } | { kind: 'cancelled' };

/**
 * The worker script: dist/searchWorker.js beside the bundled extension; from
 * the TypeScript sources (unit tests and the benchmark run under tsx) the
 * .ts file, loaded through tsx's require hook.
 */
function startWorker(data: SearchWorkerData): Worker {
  if (__filename.endsWith('.ts')) {
    const file = path.join(__dirname, 'searchWorker.ts');
    return new Worker(`require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(file)});`, { eval: true, workerData: data });
  }
  return new Worker(path.join(__dirname, 'searchWorker.js'), { workerData: data });
}

export class SearchThread {
  private worker: Worker | null = null;
  private nextId = 0;
  private inFlight: { id: number; done: (r: BatchResult) => void; timer: NodeJS.Timeout } | null = null;

  constructor(private readonly data: SearchWorkerData) {}

  /** Matches among `groups` (one contiguous span), or a timeout after `deadlineMs`. One batch at a time. */
  run(groups: GroupSpan[], deadlineMs: number): Promise<BatchResult> {
    if (this.inFlight) return Promise.resolve({ kind: 'error', message: 'a batch is already running' });
    const worker = this.ensureWorker();
    const id = ++this.nextId;
    return new Promise<BatchResult>((resolve) => {
      const timer = setTimeout(() => {
        this.finish(id, { kind: 'timeout' });
        this.terminate();
      }, deadlineMs);
      this.inFlight = { id, done: resolve, timer };
      worker.ref(); // hold the process while a batch runs (an idle thread does not)
      worker.postMessage({ id, groups });
    });
  }

  /** Stops the thread; a batch in flight reports `cancelled`. */
  terminate(): void {
    const w = this.worker;
    this.worker = null;
    if (this.inFlight) this.finish(this.inFlight.id, { kind: 'cancelled' });
    if (w) void w.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = startWorker(this.data);
    w.unref();
    w.on('message', (reply: SearchReply) => {
      this.finish(reply.id, 'error' in reply ? { kind: 'error', message: reply.error } : { kind: 'matches', matches: reply.matches });
    });
    w.on('error', (err) => {
      if (this.inFlight) this.finish(this.inFlight.id, { kind: 'error', message: err.message });
      if (this.worker === w) this.worker = null;
    });
    w.on('exit', () => {
      if (this.worker === w) {
        this.worker = null;
        if (this.inFlight) this.finish(this.inFlight.id, { kind: 'error', message: 'the search thread stopped' });
      }
    });
    this.worker = w;
    return w;
  }

  private finish(id: number, result: BatchResult): void {
    const f = this.inFlight;
    if (!f || f.id !== id) return;
    this.inFlight = null;
    clearTimeout(f.timer);
    this.worker?.unref();
    f.done(result);
  }
}
