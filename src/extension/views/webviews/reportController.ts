/**
 * Host-side logic of the report view (no vscode): on `ready` it computes the
 * report of its runs on a worker thread (once; later `ready`s after the
 * panel was hidden replay the result) and posts it; when the runs' files
 * change (a live eval, a training run, a resumed suite) it computes again and
 * the view re-renders; opens a clicked sample in the inspector, only for the
 * report's own runs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ReportViewData } from '../../../engine/report/viewData';
import { HostEndpoint } from './bridge';
import { reportProtocol, type ReportProtocol, type ReportRestore } from './reportProtocol';
import type { ViewActions } from './types';

export function reportTitle(r: ReportRestore): string {
  const names = r.runDirs.map((d) => path.basename(d));
  return `Report: ${names.length <= 2 ? names.join(', ') : `${names[0]} and ${names.length - 1} more`}`;
}

/** The files a report is computed from; a change in their size or time is a change of the report. */
const RUN_FILES = ['samples.jsonl', 'summary.json', 'events.jsonl', 'config.json'];

/** Sizes and modification times of the runs' files ("" for one that is not there). */
export function runFilesSignature(runDirs: readonly string[]): string {
  const parts: string[] = [];
  for (const dir of runDirs) {
    for (const name of RUN_FILES) {
      try {
        const st = fs.statSync(path.join(dir, name));
        parts.push(`${st.size}:${st.mtimeMs}`);
      } catch {
        parts.push('');
      }
    }
  }
  return parts.join('|');
}

export type ComputeReport = (runDirs: string[]) => { result: Promise<ReportViewData>; cancel(): void };

export class ReportController {
  readonly endpoint: HostEndpoint<ReportProtocol>;
  private readonly runDirs: string[];
  private computing: { result: Promise<ReportViewData>; cancel(): void } | null = null;
  /** A computation is running; a change seen meanwhile only marks the report stale. */
  private inFlight = false;
  private stale = false;
  private signature: string;
  private disposed = false;

  constructor(
    restore: ReportRestore,
    post: (message: unknown) => void,
    actions: Pick<ViewActions, 'openInspector'>,
    private readonly compute: ComputeReport,
    opts: { log?: (line: string) => void } = {},
  ) {
    this.runDirs = restore.runDirs.map((d) => path.resolve(d));
    this.signature = runFilesSignature(this.runDirs);
    this.endpoint = new HostEndpoint(reportProtocol, post, opts.log);
    this.endpoint.onNotify('ready', () => void this.send());
    this.endpoint.onRequest('openSample', ({ runDir, problemId, sampleId }) => {
      const dir = path.resolve(runDir);
      if (!this.runDirs.includes(dir)) throw new Error('that sample is not from a run of this report');
      actions.openInspector(dir, problemId, sampleId, null);
      return null;
    });
  }

  handle(message: unknown): Promise<void> {
    return this.endpoint.handle(message);
  }

  dispose(): void {
    this.disposed = true;
    this.computing?.cancel();
  }

  /**
   * Called on a timer while the panel is visible: when the runs' files changed since the report was
   * computed, computes it again and posts it. A computation in flight is not cancelled (a live run
   * changes its files all the time; cancelling would never let one finish): the new one starts when
   * it has ended. True when a new computation was started or queued.
   */
  checkForChanges(): boolean {
    if (this.disposed) return false;
    const now = runFilesSignature(this.runDirs);
    if (now === this.signature) return false;
    this.signature = now;
    if (this.inFlight) {
      this.stale = true;
      return true;
    }
    this.computing = null;
    void this.send();
    return true;
  }

  private async send(): Promise<void> {
    this.endpoint.notify('init', { restore: { runDirs: this.runDirs }, title: reportTitle({ runDirs: this.runDirs }) });
    if (!this.computing) {
      this.endpoint.notify('status', { level: 'info', message: `Reading ${this.runDirs.length} run(s)…` });
      this.computing = this.compute(this.runDirs);
    }
    const current = this.computing;
    this.inFlight = true;
    try {
      const data = await current.result;
      if (!this.disposed) this.endpoint.notify('report', data);
    } catch (err) {
      this.computing = null; // the next `ready` (panel shown again) tries again
      if (!this.disposed) this.endpoint.notify('status', { level: 'error', message: `The report failed: ${(err as Error).message}` });
    } finally {
      this.inFlight = false;
    }
    if (this.stale && !this.disposed) {
      this.stale = false;
      this.computing = null;
      void this.send();
    }
  }
}
