/**
 * The report panels: one per set of runs, the same strict CSP shell as the
 * other views (nonce script, no inline code; Vega runs with its expression
 * interpreter), restored after a window reload from the state the webview
 * persists. A clicked sample opens in the inspector through `openInspector`.
 * A visible report follows its runs: it is computed again when their files change.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { safeLine } from '../../../shared/safeText';
import { PersistedStateSchema } from '../../../webviewProtocol';
import { contentSecurityPolicy, escapeHtml, makeNonce } from './html';
import { ReportController, reportTitle } from './reportController';
import { REPORT_VIEW_TYPE, ReportRestoreSchema, type ReportRestore } from './reportProtocol';
import { computeReport } from './reportThread';

/** How often a visible report looks at its runs' files (a stat per file: cheap). */
const REFRESH_MS = 3000;

export class ReportPanels implements vscode.Disposable {
  private readonly open = new Map<string, vscode.WebviewPanel>();
  private readonly serializer: vscode.Disposable;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly openInspector: (runDir: string, problemId: string, sampleId: string) => void,
    private readonly log: (line: string) => void,
  ) {
    this.serializer = vscode.window.registerWebviewPanelSerializer(REPORT_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state: unknown) => {
        const persisted = PersistedStateSchema.safeParse(state);
        const restore = persisted.success ? ReportRestoreSchema.safeParse(persisted.data.restore) : null;
        if (!restore?.success) {
          this.log('cannot restore a report panel: no valid state');
          panel.dispose();
          return;
        }
        this.attach(panel, restore.data);
      },
    });
  }

  /** Opens (or reveals) the report of these runs. */
  show(runDirs: string[]): void {
    const restore = { runDirs: runDirs.map((d) => path.resolve(d)) };
    const key = restore.runDirs.join('\u0000');
    const existing = this.open.get(key);
    if (existing) return existing.reveal();
    const panel = vscode.window.createWebviewPanel(
      REPORT_VIEW_TYPE,
      safeLine(reportTitle(restore), 120),
      { viewColumn: vscode.ViewColumn.Active },
      this.options(),
    );
    this.attach(panel, restore);
  }

  dispose(): void {
    for (const p of this.open.values()) p.dispose();
    this.serializer.dispose();
  }

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      enableCommandUris: false,
      enableFindWidget: true,
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
  }

  private attach(panel: vscode.WebviewPanel, restore: ReportRestore): void {
    const key = restore.runDirs.join('\u0000');
    this.open.set(key, panel);
    panel.title = safeLine(reportTitle(restore), 120);
    const webview = panel.webview;
    webview.options = this.options();
    const post = (message: unknown) => {
      webview.postMessage(message).then(undefined, () => {
        // the panel was closed meanwhile
      });
    };
    const controller = new ReportController(restore, post, { openInspector: this.openInspector }, computeReport, {
      log: (line) => this.log(`[report] ${line}`),
    });
    const nonce = makeNonce();
    const asUri = (...parts: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...parts)).toString();
    webview.html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(webview.cspSource, nonce))}">
<link rel="stylesheet" href="${escapeHtml(asUri('media', 'webview.css'))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>TraceLift report</title>
</head>
<body data-view="report">
<main id="app" data-testid="report-root" aria-busy="true"><p class="loading">Loading…</p></main>
<script nonce="${escapeHtml(nonce)}" src="${escapeHtml(asUri('dist', 'webview', 'report.js'))}"></script>
</body>
</html>`;
    const sub = webview.onDidReceiveMessage((m) => void controller.handle(m));
    // Live: while the panel is visible, a change of the runs' files (a run still going) recomputes it.
    const timer = setInterval(() => panel.visible && controller.checkForChanges(), REFRESH_MS);
    panel.onDidDispose(() => {
      clearInterval(timer);
      sub.dispose();
      controller.dispose();
      if (this.open.get(key) === panel) this.open.delete(key);
    });
  }
}
