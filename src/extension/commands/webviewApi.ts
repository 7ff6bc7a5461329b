/**
 * The webview panels (run view, inspector, trace diff, compare runs) live in
 * src/extension/webviews; this is the interface the commands call, and a
 * loader that keeps the rest of the extension working when that module is
 * missing from a build (each action then says so instead of failing).
 */
import * as vscode from 'vscode';

export interface TraceText {
  title: string;
  text: string;
  meta?: Record<string, string | number | null>;
}

export interface WebviewApi {
  openRunView(runDir: string): void;
  openInspector(runDir: string, problemId: string, sampleId: string): void;
  openTraceDiff(left: TraceText, right: TraceText): void;
  openGroupDiff(groupsFile: string, recordIndex: number): void;
  openCompareRuns(runA: string, runB: string): void;
  openInDiffEditor(left: TraceText, right: TraceText): Promise<void>;
}

type Register = (context: vscode.ExtensionContext, log: vscode.OutputChannel) => WebviewApi;

export function loadWebviews(context: vscode.ExtensionContext, output: vscode.OutputChannel): WebviewApi {
  let register: Register | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    register = (require('../webviews') as { registerWebviews?: Register }).registerWebviews;
  } catch (err) {
    output.appendLine(`webviews unavailable: ${(err as Error).message}`);
  }
  if (register) return register(context, output);
  const missing = (what: string) => () => {
    void vscode.window.showWarningMessage(`TraceLift: the ${what} is not part of this build.`);
  };
  return {
    openRunView: missing('run view'),
    openInspector: missing('sample inspector'),
    openTraceDiff: missing('trace diff'),
    openGroupDiff: missing('group diff'),
    openCompareRuns: missing('run comparison'),
    openInDiffEditor: async () => missing('diff editor')(),
  };
}
