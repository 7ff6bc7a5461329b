/**
 * Host-side logic of the uplift inspector (no vscode): finds the sample in
 * the run's index, re-reads its group from disk and sends it whole — trace,
 * every with-trace attempt and verdict, the baseline attempts, the reward
 * breakdown. A sample that has not arrived yet in a live run is waited for.
 */
import path from 'node:path';
import { inspectorProtocol, type InspectorData, type InspectorProtocol, type InspectorRestore } from '../../../webviewProtocol';
import { goldRubricOf } from '../../services/goldRubric';
import type { Disposable, RunSource } from '../../services/runs/runTail';
import { HostEndpoint } from './bridge';
import { Throttle } from './throttle';
import type { ViewActions } from './types';

export function inspectorTitle(target: InspectorRestore): string {
  return `Inspect: ${target.sampleId}`;
}

export class InspectorController {
  readonly endpoint: HostEndpoint<InspectorProtocol>;
  private readonly sub: Disposable;
  private readonly throttle: Throttle;
  private ready = false;
  private loaded: InspectorData | null = null;
  private target: InspectorRestore;

  constructor(
    private readonly source: RunSource,
    target: InspectorRestore,
    post: (message: unknown) => void,
    private readonly actions: ViewActions,
    opts: { log?: (line: string) => void; onTitle?: (title: string) => void } = {},
  ) {
    this.target = target;
    this.endpoint = new HostEndpoint(inspectorProtocol, post, opts.log);
    this.throttle = new Throttle(200, () => this.load());
    this.sub = source.onChange(() => {
      if (this.ready && !this.loaded) this.throttle.schedule();
    });
    this.onTitle = opts.onTitle ?? (() => {});

    this.endpoint.onNotify('ready', () => {
      this.ready = true;
      this.sendInit();
      this.load();
    });
    this.endpoint.onRequest('openSample', ({ problemId, sampleId, line }) => {
      this.show({ runDir: source.runDir, problemId, sampleId, line });
      return null;
    });
    this.endpoint.onRequest('diffWithSibling', ({ sampleId }) => {
      const data = this.loaded;
      if (!data) throw new Error('no sample loaded');
      const group = this.source.index.readGroup(
        this.source.index.groupOf(this.source.index.findSample(data.problemId, data.sample.sample_id, data.line)).group,
      );
      const other = group.samples.find((s) => s.sample_id === sampleId);
      if (!other) throw new Error(`no sample ${sampleId} in this group`);
      // What the diff view needs to show each side's measurement (k/K, the group's baseline b/M).
      const meta = (s: typeof other) => ({
        label: s.label,
        source: s.source,
        sample_id: s.sample_id,
        uplift: s.uplift,
        reward: s.reward?.value ?? null,
        k: s.with_trace.tally.successes,
        K: s.with_trace.tally.valid,
        baseline_successes: group.baseline.tally.successes,
        baseline_valid: group.baseline.tally.valid,
        line: data.line,
      });
      actions.openTraceDiff(
        { title: `${data.problemId} · ${data.sample.sample_id}`, text: data.sample.trace, meta: meta(data.sample) },
        { title: `${data.problemId} · ${other.sample_id}`, text: other.trace, meta: meta(other) },
      );
      return null;
    });
    this.endpoint.onRequest('openInDiffEditor', async ({ left, right }) => {
      await actions.openInDiffEditor(left, right);
      return null;
    });
    this.endpoint.onRequest('openRunView', () => {
      actions.openRunView(source.runDir);
      return null;
    });
  }

  private readonly onTitle: (title: string) => void;

  get current(): InspectorRestore {
    return this.target;
  }

  /** Shows another sample of the same run. */
  show(target: InspectorRestore): void {
    this.target = target;
    this.loaded = null;
    this.onTitle(inspectorTitle(target));
    if (this.ready) {
      this.sendInit();
      this.load();
    }
  }

  handle(message: unknown): Promise<void> {
    return this.endpoint.handle(message);
  }

  resetHandshake(): void {
    this.ready = false;
  }

  dispose(): void {
    this.sub.dispose();
    this.throttle.dispose();
  }

  private sendInit(): void {
    this.endpoint.notify('init', { restore: this.target, title: inspectorTitle(this.target) });
  }

  private load(): void {
    const idx = this.source.index;
    const t = this.target;
    const rowId = idx.findSample(t.problemId, t.sampleId, t.line);
    if (rowId < 0) {
      const live = idx.status === 'running' || idx.status === 'waiting';
      this.endpoint.notify('status', {
        level: live ? 'info' : 'error',
        message:
          idx.status === 'missing'
            ? (idx.statusMessage() ?? `Run directory not found: ${this.source.runDir}`)
            : live
              ? `Waiting for sample ${t.sampleId} of problem ${t.problemId} to arrive in ${path.basename(this.source.runDir)}…`
              : `Sample ${t.sampleId} of problem ${t.problemId} is not in ${this.source.runDir}${t.line ? ` (line ${t.line})` : ''}.`,
      });
      return;
    }
    const g = idx.groupOf(rowId);
    let group;
    try {
      group = idx.readGroup(g.group);
    } catch (err) {
      this.endpoint.notify('status', { level: 'error', message: (err as Error).message });
      return;
    }
    const sample = group.samples[rowId - g.firstRow];
    if (!sample) {
      this.endpoint.notify('status', { level: 'error', message: `line ${g.line} no longer holds sample ${t.sampleId}` });
      return;
    }
    const data: InspectorData = {
      runDir: this.source.runDir,
      line: g.line,
      groupIndex: group.group_index,
      step: group.step,
      time: group.time,
      task: group.task,
      taskKind: group.task_kind,
      problemId: group.problem_id,
      problem: group.problem,
      reference: group.reference,
      baseline: group.baseline,
      sample,
      siblings: group.samples.map((s) => ({
        sampleId: s.sample_id,
        source: s.source,
        label: s.label,
        k: s.with_trace.tally.successes,
        K: s.with_trace.tally.valid,
        uplift: s.uplift,
        reward: s.reward?.value ?? null,
      })),
    };
    this.loaded = data;
    this.endpoint.notify('sample', data);
    // A trace from a groups file: its gold rubric, read off the hot path, then the view again with it.
    void goldRubricOf(this.source.runDir, sample.sample_id).then((gold) => {
      if (!gold || this.loaded !== data) return;
      const withGold: InspectorData = { ...data, goldRubric: gold };
      this.loaded = withGold;
      this.endpoint.notify('sample', withGold);
    });
  }
}
