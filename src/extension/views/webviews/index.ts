/**
 * TraceLift webviews: the live rollout-group view, the uplift inspector, the
 * trace diff and run comparison, plus read-only virtual documents for VS
 * Code's diff editor. `registerWebviews` is called once from `activate`; the
 * returned API is what commands, tree items and CodeLenses call.
 * See docs/webviews.md for the protocol and the DOM each view builds.
 */
import type * as vscode from 'vscode';
import type { RunStoreRegistry } from '../../services/runs/runStore';
import { WebviewManager } from './panels';
import type { TraceText as TraceTextType } from './types';

export interface TraceText extends TraceTextType {
  title: string;
  text: string;
  meta?: Record<string, string | number | null>;
}

export interface WebviewApi {
  /** Live rollout-group view of a run directory (tails its events.jsonl). */
  openRunView(runDir: string): void;
  /** Uplift inspector: one sample in full. */
  openInspector(runDir: string, problemId: string, sampleId: string): void;
  /** Word-level diff of any two traces. */
  openTraceDiff(left: TraceText, right: TraceText): void;
  /** Reference vs each perturbed trace of record `recordIndex` (0-based, non-blank lines) of a TraceLift-Groups file. */
  openGroupDiff(groupsFile: string, recordIndex: number): void;
  /** Per-problem deltas of success and uplift between two runs. */
  openCompareRuns(runA: string, runB: string): void;
  /** VS Code's diff editor over read-only virtual documents (scheme "tracelift-trace"). */
  openInDiffEditor(left: TraceText, right: TraceText): Promise<void>;
}

export { VIEW_TYPES } from '../../../webviewProtocol';
export { TRACE_SCHEME } from './traceDocuments';

/** `stores` hold one index per run, shared with the explorer. */
export function registerWebviews(context: vscode.ExtensionContext, log: vscode.OutputChannel, stores: RunStoreRegistry): WebviewApi {
  const manager = new WebviewManager(context, log, stores);
  context.subscriptions.push(manager);
  return {
    openRunView: (runDir) => manager.openRunView(runDir),
    openInspector: (runDir, problemId, sampleId) => manager.openInspector(runDir, problemId, sampleId),
    openTraceDiff: (left, right) => manager.openTraceDiff(left, right),
    openGroupDiff: (groupsFile, recordIndex) => manager.openGroupDiff(groupsFile, recordIndex),
    openCompareRuns: (runA, runB) => manager.openCompareRuns(runA, runB),
    openInDiffEditor: (left, right) => manager.openInDiffEditor(left, right),
  };
}
