/**
 * Host-side logic of "compare two runs" (no vscode): per-problem success and
 * uplift of run A and run B with deltas, answered as windows of a sorted,
 * filtered table; the settings that differ between the runs (config.json);
 * the mean deltas with 95 % intervals paired over the shared problems.
 * Pushed again when either run changes (both are tailed).
 */
import path from 'node:path';
import {
  compareProtocol,
  type CompareProtocol,
  type CompareRestore,
  type CompareState,
  type CompareWindowResult,
} from '../../../webviewProtocol';
import { CompareModel, compareQueryKey } from '../../services/runs/compare';
import { problemKey, type RunIndex } from '../../services/runs/runIndex';
import { compareRowMessage, deltaOrder, figuresMessage } from './runMessages';
import type { Disposable, RunSource } from '../../services/runs/runTail';
import { HostEndpoint } from './bridge';
import { Throttle } from './throttle';
import { pairedDeltas } from './pairedDelta';
import { RunConfigCheck } from './runConfigCheck';
import type { ViewActions } from './types';
import type { z } from 'zod';
import type { CompareWindowParamsSchema } from '../../../webviewProtocol';

type WindowParams = z.infer<typeof CompareWindowParamsSchema>;

export function compareTitle(r: CompareRestore): string {
  return `Compare: ${path.basename(r.runA)} ↔ ${path.basename(r.runB)}`;
}

export class CompareController {
  readonly endpoint: HostEndpoint<CompareProtocol>;
  private readonly model: CompareModel;
  private readonly configCheck: RunConfigCheck;
  private readonly subs: Disposable[];
  private readonly throttle: Throttle;
  private ready = false;
  private visible = true;
  private lastWindow: WindowParams | null = null;

  constructor(
    private readonly a: RunSource,
    private readonly b: RunSource,
    post: (message: unknown) => void,
    actions: Pick<ViewActions, 'openInspector'>,
    opts: { throttleMs?: number; log?: (line: string) => void } = {},
  ) {
    this.model = new CompareModel(a.index, b.index);
    this.configCheck = new RunConfigCheck(a.runDir, b.runDir);
    this.endpoint = new HostEndpoint(compareProtocol, post, opts.log);
    this.throttle = new Throttle(opts.throttleMs ?? 250, () => this.push());
    const changed = () => {
      if (this.ready && this.visible) this.throttle.schedule();
    };
    this.subs = [a.onChange(changed), b.onChange(changed)];
    this.endpoint.onNotify('ready', () => {
      this.ready = true;
      this.endpoint.notify('init', {
        restore: { runA: a.runDir, runB: b.runDir },
        title: compareTitle({ runA: a.runDir, runB: b.runDir }),
      });
      this.push();
    });
    this.endpoint.onRequest('window', (params) => {
      this.lastWindow = params;
      return this.computeWindow(params);
    });
    this.endpoint.onRequest('openInspectorFor', ({ side, task, problemId }) => {
      const src = side === 'a' ? a : b;
      const agg = src.index.aggregates.problems.get(problemKey(task, problemId));
      const lastRow = agg?.rows[agg.rows.length - 1];
      if (lastRow === undefined) throw new Error(`problem ${problemId} has no samples in run ${side.toUpperCase()}`);
      const row = src.index.row(lastRow);
      actions.openInspector(src.runDir, row.problemId, row.sampleId, row.line);
      return null;
    });
  }

  handle(message: unknown): Promise<void> {
    return this.endpoint.handle(message);
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible && this.ready) this.throttle.schedule();
  }

  resetHandshake(): void {
    this.ready = false;
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.throttle.dispose();
  }

  state(): CompareState {
    const t = this.model.table();
    const info = (src: RunSource, idx: RunIndex) => ({
      runDir: src.runDir,
      runId: idx.runId,
      status: idx.status,
      statusMessage: idx.statusMessage(),
      summary: figuresMessage(idx.summary()),
      issues: idx.issueCount,
    });
    return {
      version: this.model.version,
      a: info(this.a, this.a.index),
      b: info(this.b, this.b.index),
      tasks: t.tasks,
      counts: t.counts,
      meanDeltaSuccess: t.meanDeltaSuccess,
      meanDeltaUplift: t.meanDeltaUplift,
      config: this.configCheck.current(),
      paired: pairedDeltas(t.rows),
    };
  }

  computeWindow(params: WindowParams): CompareWindowResult {
    const order = deltaOrder(params.query);
    const rows = this.model.view(order);
    const total = rows.length;
    const offset = Math.max(0, Math.min(params.offset, total - params.count));
    return {
      version: this.model.version,
      total,
      offset,
      rows: rows.slice(offset, offset + params.count).map(compareRowMessage),
      queryKey: compareQueryKey(order),
    };
  }

  private push(): void {
    if (!this.ready || !this.visible) return;
    this.endpoint.notify('compareState', this.state());
    if (this.lastWindow) this.endpoint.notify('window', this.computeWindow(this.lastWindow));
  }
}
