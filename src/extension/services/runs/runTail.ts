/**
 * Tails a run directory's events.jsonl into a RunIndex: fs.watch on the
 * directory for prompt updates, a polling fallback (network file systems,
 * Remote-SSH, a directory that does not exist yet), bounded chunked reads
 * (the engine's run reader) with a yield between chunks so a large run is
 * indexed without blocking the extension host, and regex searches scanned
 * from disk in the background. A file that shrinks or is replaced is re-read
 * from the start.
 *
 * No `vscode` import (RunStore wraps it with a vscode.EventEmitter).
 */
import * as fs from 'node:fs';
import { EVENTS_FILE } from '../../../engine/run/runReader';
import { RunIndex } from './runIndex';

export interface RunChange {
  version: number;
  /** Rows added since the last change notification. */
  rowsAdded: number;
  /** The index was reset (file replaced or truncated). */
  reset: boolean;
}

export interface Disposable {
  dispose(): void;
}

/** What the views need from a tailed run (RunTail, or RunStore around it). */
export interface RunSource {
  readonly runDir: string;
  readonly index: RunIndex;
  onChange(listener: (change: RunChange) => void): Disposable;
  /** Asks for background work (reading, search scans) to run now. */
  kick(): void;
  /** Resolves when everything written so far is indexed and searches are scanned. */
  whenIdle(): Promise<void>;
}

export interface RunTailOptions {
  /** Polling interval (ms) for the fallback; 0 disables polling. */
  pollMs?: number;
  /** Bytes read per step while catching up. */
  chunkBytes?: number;
  /** Use fs.watch (default true). */
  watch?: boolean;
  previewChars?: number;
  /** How long a search batch may run on its thread before the search is stopped (ms). */
  searchDeadlineMs?: number;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export class RunTail implements RunSource {
  readonly index: RunIndex;
  private readonly listeners = new Set<(c: RunChange) => void>();
  private watcher: fs.FSWatcher | null = null;
  private poller: NodeJS.Timeout | null = null;
  private pumping = false;
  private again = false;
  private disposed = false;
  private started = false;
  private lastEmittedVersion = -1;
  private lastEmittedPending = -1;
  private rowsAtLastEmit = 0;
  private resetPending = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    readonly runDir: string,
    private readonly opts: RunTailOptions = {},
  ) {
    this.index = new RunIndex(runDir, { previewChars: opts.previewChars, chunkBytes: opts.chunkBytes, searchDeadlineMs: opts.searchDeadlineMs });
  }

  start(): this {
    if (this.started || this.disposed) return this;
    this.started = true;
    this.ensureWatcher();
    const pollMs = this.opts.pollMs ?? 1000;
    if (pollMs > 0) {
      this.poller = setInterval(() => {
        this.ensureWatcher();
        this.schedule();
      }, pollMs);
      this.poller.unref?.();
    }
    this.schedule();
    return this;
  }

  onChange(listener: (change: RunChange) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  kick(): void {
    this.schedule();
  }

  whenIdle(): Promise<void> {
    if (!this.pumping && !this.again) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  dispose(): void {
    this.disposed = true;
    this.index.dispose();
    this.watcher?.close();
    this.watcher = null;
    if (this.poller) clearInterval(this.poller);
    this.poller = null;
    this.listeners.clear();
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private ensureWatcher(): void {
    if (this.watcher || this.disposed || this.opts.watch === false) return;
    try {
      this.watcher = fs.watch(this.runDir, { persistent: false }, (_event, filename) => {
        if (!filename || String(filename) === EVENTS_FILE) this.schedule();
      });
      this.watcher.on('error', () => {
        // The directory went away or the platform cannot watch it: polling carries on.
        this.watcher?.close();
        this.watcher = null;
      });
    } catch {
      this.watcher = null; // directory missing: the poller retries
    }
  }

  private schedule(): void {
    if (this.disposed || !this.started) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.again = false;
        await this.readAvailable();
        if (!this.again) await this.scanSearches();
      } while (this.again && !this.disposed);
    } catch (err) {
      this.index.readError = `Could not read ${this.index.eventsFile}: ${(err as Error).message}`;
      this.index.version++;
      this.emit();
    } finally {
      this.pumping = false;
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private emit(): void {
    const idx = this.index;
    if (idx.version === this.lastEmittedVersion && idx.pendingBytes === this.lastEmittedPending && !this.resetPending) return;
    const change: RunChange = { version: idx.version, rowsAdded: Math.max(0, idx.rowCount - this.rowsAtLastEmit), reset: this.resetPending };
    this.lastEmittedVersion = idx.version;
    this.lastEmittedPending = idx.pendingBytes;
    this.rowsAtLastEmit = idx.rowCount;
    this.resetPending = false;
    for (const l of [...this.listeners]) {
      try {
        l(change);
      } catch {
        // a listener's failure must not stop the tail
      }
    }
  }

  private async readAvailable(): Promise<void> {
    const idx = this.index;
    const dirOk = await fs.promises.stat(this.runDir).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (idx.dirMissing !== !dirOk) {
      idx.dirMissing = !dirOk;
      idx.version++;
    }
    if (!dirOk) {
      this.emit();
      return;
    }
    while (!this.disposed) {
      const batch = await idx.readMore();
      if (batch.restarted) {
        this.rowsAtLastEmit = 0;
        this.resetPending = true;
      }
      this.emit();
      if (batch.consumed === 0 || idx.pendingBytes === 0) break; // caught up, or only an unfinished last line is left
      await tick();
    }
    this.emit();
  }

  /** The most recently asked-for search, a batch at a time, on its worker thread (the host only waits). */
  private async scanSearches(): Promise<void> {
    for (;;) {
      const next = this.index.pendingSearches()[0];
      if (!next || this.disposed) return;
      const progressed = await this.index.scanSearch(next, this.opts.chunkBytes ?? 1 << 20);
      this.emit();
      if (this.again || this.disposed) return; // new data first; scanning resumes afterwards
      if (!progressed && next.error === null) await tick(); // replaced by another search meanwhile: pick again
    }
  }
}
