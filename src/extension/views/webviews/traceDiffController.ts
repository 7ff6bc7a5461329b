/**
 * Host-side logic of the trace diff (no vscode): two given traces, or a
 * TraceLift-Groups record's reference against each perturbed trace. The diff
 * is computed here (word level) and sent as segments, with each side's
 * measured uplift and reward: for a groups record, from the runs that
 * measured the file's content (services/measuredUplift.ts); for two run
 * samples, from their facts.
 */
import path from 'node:path';
import { traceDiffProtocol, type DiffViewData, type TraceDiffProtocol, type TraceDiffRestore } from '../../../webviewProtocol';
import { HostEndpoint } from './bridge';
import { groupRecordPairs, pairOfTexts } from './diffSegments';
import { measuredTraceOf } from './measuredTrace';
import { sharedMeasuredUplift, type MeasuredSample } from '../../services/measuredUplift';
import { readGroupRecordAt } from '../../../engine/groups';
import type { TraceText, ViewActions } from './types';

/** Raw: the panel shows it through safeLine, the webview through its own safe text. */
export function traceDiffTitle(restore: TraceDiffRestore): string {
  return restore.mode === 'pair'
    ? `Diff: ${restore.left.title} ↔ ${restore.right.title}`
    : `Diff: ${path.basename(restore.groupsFile)} #${restore.recordIndex}`;
}

/** Measured uplift of a groups record's traces, by sample id. */
export type MeasuredLookup = (groupsFile: string, problemId: string) => Promise<ReadonlyMap<string, MeasuredSample>>;

/** The extension's lookup (the runs model's), or nothing measured when there is none (tests, no workspace). */
const sharedLookup: MeasuredLookup = async (groupsFile, problemId) =>
  (await sharedMeasuredUplift()?.lookup(groupsFile, problemId)) ?? new Map<string, MeasuredSample>();

export class TraceDiffController {
  readonly endpoint: HostEndpoint<TraceDiffProtocol>;
  private texts: Array<{ left: TraceText; right: TraceText }> = [];
  private data: Promise<DiffViewData | Error> | null = null;
  private readonly measured: MeasuredLookup;
  private readonly log: (line: string) => void;

  constructor(
    private target: TraceDiffRestore,
    post: (message: unknown) => void,
    actions: Pick<ViewActions, 'openInDiffEditor'>,
    opts: { log?: (line: string) => void; measured?: MeasuredLookup } = {},
  ) {
    this.measured = opts.measured ?? sharedLookup;
    this.log = opts.log ?? (() => undefined);
    this.endpoint = new HostEndpoint(traceDiffProtocol, post, opts.log);
    this.endpoint.onNotify('ready', () => void this.replay());
    this.endpoint.onRequest('openInDiffEditor', async ({ pair }) => {
      await this.compute();
      const t = this.texts[pair];
      if (!t) throw new Error(`no pair ${pair}`);
      await actions.openInDiffEditor(t.left, t.right);
      return null;
    });
  }

  get current(): TraceDiffRestore {
    return this.target;
  }

  show(target: TraceDiffRestore): void {
    this.target = target;
    this.data = null;
    void this.replay();
  }

  handle(message: unknown): Promise<void> {
    return this.endpoint.handle(message);
  }

  dispose(): void {}

  private compute(): Promise<DiffViewData | Error> {
    if (!this.data) {
      const t = this.target;
      this.data = (async () => {
        try {
          if (t.mode === 'pair') {
            this.texts = [{ left: t.left, right: t.right }];
            return {
              title: `${t.left.title} ↔ ${t.right.title}`,
              subtitle: 'two traces',
              problem: null,
              pairs: [pairOfTexts(t.left, t.right)],
            };
          }
          const { record, line } = await readGroupRecordAt(t.groupsFile, t.recordIndex);
          const samples = await this.measured(t.groupsFile, record.problem_id).catch((err: Error) => {
            this.log(`measured uplift of ${t.groupsFile}: ${err.message}`);
            return new Map<string, MeasuredSample>();
          });
          const measured = new Map([...samples].map(([id, s]) => [id, measuredTraceOf(s)]));
          const { view, texts } = groupRecordPairs(record, `${t.groupsFile}:${line} (record ${t.recordIndex})`, measured);
          const runs = [...new Set([...samples.values()].map((s) => s.run))];
          view.subtitle += runs.length ? ` · uplift measured by ${runs.join(', ')}` : ' · uplift not measured yet (Measure Uplift)';
          this.texts = texts;
          return view;
        } catch (err) {
          return err as Error;
        }
      })();
    }
    return this.data;
  }

  private async replay(): Promise<void> {
    const target = this.target;
    this.endpoint.notify('init', { restore: target, title: traceDiffTitle(target) });
    const data = await this.compute();
    if (target !== this.target) return;
    if (data instanceof Error) this.endpoint.notify('status', { level: 'error', message: data.message });
    else this.endpoint.notify('diff', data);
  }
}
