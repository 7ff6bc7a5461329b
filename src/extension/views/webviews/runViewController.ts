/**
 * Host-side logic of the live run view, independent of vscode: answers the
 * webview's range queries (`window`: offset, count, filter, sort) from the
 * RunIndex, remembers the window the webview last asked for and pushes it
 * again (with the run state) when the run changes, keeping the row the user
 * looks at in place (anchor) or following the newest rows. After a `ready`
 * it replays everything, so hiding, reloading or re-attaching the view
 * loses nothing. The webview only ever holds the rows it shows.
 */
import path from 'node:path';
import {
  runViewProtocol,
  type GroupItem as GroupItemMsg,
  type GroupWindowParams,
  type GroupWindowResult,
  type RunViewProtocol,
  type WindowParams,
  type WindowResult,
} from '../../../webviewProtocol';
import { FlatGroupList, groupItemKey } from '../../services/runs/groupQueries';
import type { RunSource, Disposable } from '../../services/runs/runTail';
import { HostEndpoint } from './bridge';
import {
  groupQuery,
  groupRowMessage,
  isTrainingRun,
  rowMessage,
  rowQuery,
  runStateMessage,
  searchMessage,
  trainingMessage,
} from './runMessages';
import { Throttle } from './throttle';
import type { TraceText, ViewActions } from './types';

export interface RunViewControllerOptions {
  /** Minimum interval between pushes to the webview (ms). */
  throttleMs?: number;
  /** Minimum interval between pushes of a training run's curves (ms). */
  trainingThrottleMs?: number;
  log?: (line: string) => void;
}

export function runViewTitle(runDir: string): string {
  return `Run: ${path.basename(runDir) || runDir}`;
}

export class RunViewController {
  readonly endpoint: HostEndpoint<RunViewProtocol>;
  private readonly sub: Disposable;
  private readonly throttle: Throttle;
  /** Training curves go out at most once a second, and only when a step changed. */
  private readonly trainingThrottle: Throttle;
  private sentStepsVersion = -1;
  private ready = false;
  private visible = true;
  private dirty = false;
  private lastWindow: WindowParams | null = null;
  private lastGroupWindow: GroupWindowParams | null = null;
  private disposed = false;

  constructor(
    private readonly source: RunSource,
    post: (message: unknown) => void,
    private readonly actions: Pick<ViewActions, 'openInspector' | 'openTraceDiff'>,
    opts: RunViewControllerOptions = {},
  ) {
    this.endpoint = new HostEndpoint(runViewProtocol, post, opts.log);
    this.throttle = new Throttle(opts.throttleMs ?? 50, () => this.push());
    this.trainingThrottle = new Throttle(opts.trainingThrottleMs ?? 1000, () => this.pushTraining());
    this.sub = source.onChange(() => this.changed());

    this.endpoint.onNotify('ready', () => {
      this.ready = true;
      this.endpoint.notify('init', { restore: { runDir: source.runDir }, title: runViewTitle(source.runDir) });
      this.endpoint.notify('runState', runStateMessage(source.index));
      this.sentStepsVersion = -1;
      this.pushTraining();
      if (this.lastWindow) this.endpoint.notify('window', this.computeWindow(this.lastWindow));
      if (this.lastGroupWindow) this.endpoint.notify('groupWindow', this.computeGroupWindow(this.lastGroupWindow));
    });
    this.endpoint.onRequest('groupWindow', (params) => {
      this.lastGroupWindow = params;
      return this.computeGroupWindow(params);
    });
    this.endpoint.onRequest('window', (params) => {
      this.lastWindow = params;
      const result = this.computeWindow(params);
      if (result.search.state === 'scanning') source.kick();
      return result;
    });
    this.endpoint.onRequest('openInspector', ({ rowId }) => {
      const row = this.rowOrThrow(rowId);
      actions.openInspector(source.runDir, row.problemId, row.sampleId, row.line);
      return null;
    });
    this.endpoint.onRequest('diffRows', ({ left, right }) => {
      actions.openTraceDiff(this.traceText(left), this.traceText(right));
      return null;
    });
  }

  /** Messages from the webview. */
  handle(message: unknown): Promise<void> {
    return this.endpoint.handle(message);
  }

  /** A hidden panel gets no pushes; it replays on its next `ready` (or when shown again). */
  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible && this.dirty) this.throttle.schedule();
  }

  /** The webview reloaded (new html): wait for its `ready`. */
  resetHandshake(): void {
    this.ready = false;
  }

  dispose(): void {
    this.disposed = true;
    this.sub.dispose();
    this.throttle.dispose();
    this.trainingThrottle.dispose();
  }

  private changed(): void {
    this.dirty = true;
    if (this.ready && this.visible) this.throttle.schedule();
  }

  private push(): void {
    if (this.disposed || !this.ready || !this.visible) return;
    this.dirty = false;
    this.endpoint.notify('runState', runStateMessage(this.source.index));
    if (this.lastWindow) {
      const result = this.computeWindow(this.lastWindow);
      this.endpoint.notify('window', result);
      if (result.search.state === 'scanning') this.source.kick();
    }
    if (this.lastGroupWindow) this.endpoint.notify('groupWindow', this.computeGroupWindow(this.lastGroupWindow));
    if (this.source.index.signals.stepsVersion !== this.sentStepsVersion) this.trainingThrottle.schedule();
  }

  private pushTraining(): void {
    if (this.disposed || !this.ready || !this.visible) return;
    const idx = this.source.index;
    if (!isTrainingRun(idx) || idx.signals.stepsVersion === this.sentStepsVersion) return;
    this.sentStepsVersion = idx.signals.stepsVersion;
    this.endpoint.notify('training', trainingMessage(idx.signals));
  }

  private rowOrThrow(rowId: number) {
    if (rowId >= this.source.index.rowCount) throw new Error(`no row ${rowId} in this run (it may have been re-read)`);
    return this.source.index.row(rowId);
  }

  private traceText(rowId: number): TraceText {
    const idx = this.source.index;
    const row = this.rowOrThrow(rowId);
    const g = idx.groupOf(rowId);
    const group = idx.readGroup(g.group);
    const sample = group.samples[rowId - g.firstRow];
    if (!sample) throw new Error(`sample ${row.sampleId} is missing from line ${g.line}`);
    return {
      title: `${row.problemId} · ${row.sampleId}`,
      text: sample.trace,
      meta: {
        task: row.task,
        label: row.label,
        source: row.source,
        sample_id: row.sampleId,
        uplift: row.uplift,
        reward: row.reward,
        k: row.k,
        K: row.K,
        baseline_successes: row.baselineSuccesses,
        baseline_valid: row.baselineValid,
        line: row.line,
      },
    };
  }

  /** The answer to a group-table window request: groups, with the traces of expanded groups under them. */
  computeGroupWindow(params: GroupWindowParams): GroupWindowResult {
    const idx = this.source.index;
    const view = idx.groupView(groupQuery(params.query));
    const flat = new FlatGroupList(view, params.expanded, idx.rows);
    const total = flat.total;
    const count = params.count;
    let offset = params.offset;
    let anchorIndex: number | null = null;
    if (params.follow === 'top') offset = 0;
    else if (params.follow === 'bottom') offset = Math.max(0, total - count);
    else if (params.anchor) {
      const pos = flat.indexOfKey(params.anchor.rowId);
      if (pos >= 0) {
        anchorIndex = pos;
        offset = Math.max(0, pos - (params.anchor.index - params.offset));
      }
    }
    offset = Math.max(0, Math.min(offset, total - count));
    const expanded = new Set(params.expanded);
    const rows: GroupItemMsg[] = [];
    for (let i = offset; i < Math.min(total, offset + count); i++) {
      const item = flat.itemAt(i);
      const key = groupItemKey(item);
      rows.push(
        item.kind === 'group'
          ? { kind: 'group', key, expanded: expanded.has(item.group), group: groupRowMessage(idx.rows.groupInfo(item.group)) }
          : { kind: 'sample', key, group: item.group, row: rowMessage(idx.row(item.rowId)) },
      );
    }
    return { version: idx.version, total, groups: view.n, offset, rows, anchorIndex, follow: params.follow, queryKey: view.key };
  }

  /** The answer to a window request, for the run as it is now. */
  computeWindow(params: WindowParams): WindowResult {
    const idx = this.source.index;
    const { view, search } = idx.view(rowQuery(params.query));
    const total = view.n;
    const count = params.count;
    let offset = params.offset;
    let anchorIndex: number | null = null;
    if (params.follow === 'top') offset = 0;
    else if (params.follow === 'bottom') offset = Math.max(0, total - count);
    else if (params.anchor) {
      const pos = idx.positionOf(view, params.anchor.rowId);
      if (pos >= 0) {
        anchorIndex = pos;
        offset = Math.max(0, pos - (params.anchor.index - params.offset));
      }
    }
    offset = Math.max(0, Math.min(offset, total - count));
    return {
      version: idx.version,
      total,
      offset,
      rows: idx.rowsAt(view, offset, count).map(rowMessage),
      anchorIndex,
      follow: params.follow,
      search: searchMessage(search),
      queryKey: view.key,
    };
  }
}
