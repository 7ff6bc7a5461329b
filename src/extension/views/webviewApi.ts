/**
 * The webview panels (run view, inspector, trace diff, compare runs) come
 * from src/extension/views/webviews. If registering them fails, the rest of the
 * extension keeps working and each panel action says why instead.
 */
import * as vscode from 'vscode';
import type { RunStoreRegistry } from '../services/runs/runStore';
import { registerWebviews, type TraceText, type WebviewApi } from './webviews';

export type { TraceText, WebviewApi };

export function loadWebviews(context: vscode.ExtensionContext, output: vscode.OutputChannel, stores: RunStoreRegistry): WebviewApi {
  try {
    return registerWebviews(context, output, stores);
  } catch (err) {
    const reason = (err as Error).message;
    output.appendLine(`webviews unavailable: ${(err as Error).stack ?? reason}`);
    const missing = () => {
      void vscode.window.showErrorMessage(`TraceLift: the webview panels could not start (${reason}); see the TraceLift log.`);
    };
    return {
      openRunView: missing,
      openInspector: missing,
      openTraceDiff: missing,
      openGroupDiff: missing,
      openCompareRuns: missing,
      openInDiffEditor: async () => missing(),
    };
  }
}
