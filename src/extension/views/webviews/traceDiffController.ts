/**
 * Host-side logic of the trace diff (no vscode): two given traces, or a
 * TraceLift-Groups record's reference against each perturbed trace. The diff
 * is computed here (word level) and sent as segments.
 */
import path from 'node:path';
import { traceDiffProtocol, type DiffViewData, type TraceDiffProtocol, type TraceDiffRestore } from '../../../webviewProtocol';
import { HostEndpoint } from './bridge';
import { groupRecordPairs, pairOf } from './diffSegments';
import { readGroupRecordAt } from '../../../engine/groups';
import type { TraceText, ViewActions } from './types';

/** Raw: the panel shows it through safeLine, the webview through its own safe text. */
export function traceDiffTitle(restore: TraceDiffRestore): string {
  return restore.mode === 'pair'
    ? `Diff: ${restore.left.title} ↔ ${restore.right.title}`
    : `Diff: ${path.basename(restore.groupsFile)} #${restore.recordIndex}`;
}

export class TraceDiffController {
  readonly endpoint: HostEndpoint<TraceDiffProtocol>;
  private texts: Array<{ left: TraceText; right: TraceText }> = [];
  private data: Promise<DiffViewData | Error> | null = null;

  constructor(
    private target: TraceDiffRestore,
    post: (message: unknown) => void,
    actions: Pick<ViewActions, 'openInDiffEditor'>,
    opts: { log?: (line: string) => void } = {},
  ) {
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
            return { title: `${t.left.title} ↔ ${t.right.title}`, subtitle: 'two traces', problem: null, pairs: [pairOf(t.left, t.right)] };
          }
          const { record, line } = await readGroupRecordAt(t.groupsFile, t.recordIndex);
          const { view, texts } = groupRecordPairs(record, `${t.groupsFile}:${line} (record ${t.recordIndex})`);
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
