/**
 * Host-side logic of the report view (no vscode): on `ready` it computes the
 * report of its runs on a worker thread (once; later `ready`s after the
 * panel was hidden replay the result) and posts it; opens a clicked sample
 * in the inspector, only for the report's own runs.
 */
import * as path from 'node:path';
import type { ReportViewData } from '../../../engine/report/viewData';
import { HostEndpoint } from './bridge';
import { reportProtocol, type ReportProtocol, type ReportRestore } from './reportProtocol';
import type { ViewActions } from './types';

export function reportTitle(r: ReportRestore): string {
  const names = r.runDirs.map((d) => path.basename(d));
  return `Report: ${names.length <= 2 ? names.join(', ') : `${names[0]} and ${names.length - 1} more`}`;
}

export type ComputeReport = (runDirs: string[]) => { result: Promise<ReportViewData>; cancel(): void };

export class ReportController {
  readonly endpoint: HostEndpoint<ReportProtocol>;
  private readonly runDirs: string[];
  private computing: { result: Promise<ReportViewData>; cancel(): void } | null = null;
  private disposed = false;

  constructor(
    restore: ReportRestore,
    post: (message: unknown) => void,
    actions: Pick<ViewActions, 'openInspector'>,
    private readonly compute: ComputeReport,
    opts: { log?: (line: string) => void } = {},
  ) {
    this.runDirs = restore.runDirs.map((d) => path.resolve(d));
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

  private async send(): Promise<void> {
    this.endpoint.notify('init', { restore: { runDirs: this.runDirs }, title: reportTitle({ runDirs: this.runDirs }) });
    if (!this.computing) {
      this.endpoint.notify('status', { level: 'info', message: `Reading ${this.runDirs.length} run(s)…` });
      this.computing = this.compute(this.runDirs);
    }
    try {
      const data = await this.computing.result;
      if (!this.disposed) this.endpoint.notify('report', data);
    } catch (err) {
      this.computing = null; // the next `ready` (panel shown again) tries again
      if (!this.disposed) this.endpoint.notify('status', { level: 'error', message: `The report failed: ${(err as Error).message}` });
    }
  }
}
