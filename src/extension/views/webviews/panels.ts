/**
 * The webview panels: creates them (strict CSP, resources only from the
 * extension's dist/webview and media), wires each to its vscode-free
 * controller, restores them after a window reload (WebviewPanelSerializer,
 * from the state each webview persists with setState), and shares one
 * RunStore per run directory between all views.
 */
import * as path from 'node:path';
import { safeLine } from '../../../shared/safeText';
import * as vscode from 'vscode';
import {
  CompareRestoreSchema,
  InspectorRestoreSchema,
  PersistedStateSchema,
  RunViewRestoreSchema,
  TraceDiffRestoreSchema,
  VIEW_TYPES,
  describeIssues,
  type InspectorRestore,
  type TraceDiffRestore,
} from '../../../webviewProtocol';
import type { Lease } from '../../services/runs/refCounted';
import type { RunStore, RunStoreRegistry } from '../../services/runs/runStore';
import { CompareController, compareTitle } from './compareController';
import { buildMessageHtml, buildWebviewHtml, makeNonce, type WebviewName } from './html';
import { InspectorController, inspectorTitle } from './inspectorController';
import { RunViewController, runViewTitle } from './runViewController';
import { TraceDiffController, traceDiffTitle } from './traceDiffController';
import { TRACE_SCHEME, TraceDocuments } from './traceDocuments';
import type { TraceText, ViewActions } from './types';
import type { z } from 'zod';

interface Controller {
  handle(message: unknown): Promise<void>;
  dispose(): void;
  setVisible?(visible: boolean): void;
  resetHandshake?(): void;
}

interface Open<C> {
  panel: vscode.WebviewPanel;
  controller: C;
}

const VIEW_NAMES: Record<WebviewName, string> = {
  runView: 'TraceLift run',
  inspector: 'TraceLift inspector',
  traceDiff: 'TraceLift trace diff',
  compareRuns: 'TraceLift compare runs',
};

export class WebviewManager implements ViewActions, vscode.Disposable {
  private readonly docs = new TraceDocuments();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly runViews = new Map<string, Open<RunViewController>>();
  private readonly inspectors = new Map<string, Open<InspectorController>>();
  private readonly compares = new Map<string, Open<CompareController>>();
  private readonly groupDiffs = new Map<string, Open<TraceDiffController>>();
  private pairDiff: Open<TraceDiffController> | null = null;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.OutputChannel,
    /** One store per run, shared with the explorer (the extension disposes it). */
    readonly stores: RunStoreRegistry,
  ) {
    this.disposables.push(this.docs, vscode.workspace.registerTextDocumentContentProvider(TRACE_SCHEME, this.docs));
    this.registerSerializer(VIEW_TYPES.runView, RunViewRestoreSchema, (panel, r) => this.attachRunView(panel, r.runDir));
    this.registerSerializer(VIEW_TYPES.inspector, InspectorRestoreSchema, (panel, r) => this.attachInspector(panel, r));
    this.registerSerializer(VIEW_TYPES.traceDiff, TraceDiffRestoreSchema, (panel, r) => this.attachTraceDiff(panel, r));
    this.registerSerializer(VIEW_TYPES.compareRuns, CompareRestoreSchema, (panel, r) => this.attachCompare(panel, r.runA, r.runB));
  }

  // ---------------------------------------------------------------- API

  openRunView(runDir: string): void {
    const key = path.resolve(runDir);
    const open = this.runViews.get(key);
    if (open) return open.panel.reveal();
    this.attachRunView(this.createPanel(VIEW_TYPES.runView, runViewTitle(key), vscode.ViewColumn.Active), key);
  }

  openInspector(runDir: string, problemId: string, sampleId: string, line: number | null = null): void {
    const key = path.resolve(runDir);
    const target: InspectorRestore = { runDir: key, problemId, sampleId, line };
    const open = this.inspectors.get(key);
    if (open) {
      open.controller.show(target);
      return open.panel.reveal(undefined, true);
    }
    this.attachInspector(this.createPanel(VIEW_TYPES.inspector, inspectorTitle(target), vscode.ViewColumn.Beside, true), target);
  }

  openTraceDiff(left: TraceText, right: TraceText): void {
    const target: TraceDiffRestore = { mode: 'pair', left, right };
    if (this.pairDiff) {
      this.pairDiff.controller.show(target);
      this.pairDiff.panel.title = safeLine(traceDiffTitle(target), 120);
      return this.pairDiff.panel.reveal();
    }
    this.attachTraceDiff(this.createPanel(VIEW_TYPES.traceDiff, traceDiffTitle(target), vscode.ViewColumn.Beside), target);
  }

  openGroupDiff(groupsFile: string, recordIndex: number): void {
    const target: TraceDiffRestore = { mode: 'groups', groupsFile: path.resolve(groupsFile), recordIndex };
    const open = this.groupDiffs.get(`${target.groupsFile}#${recordIndex}`);
    if (open) return open.panel.reveal();
    this.attachTraceDiff(this.createPanel(VIEW_TYPES.traceDiff, traceDiffTitle(target), vscode.ViewColumn.Active), target);
  }

  openCompareRuns(runA: string, runB: string): void {
    const a = path.resolve(runA);
    const b = path.resolve(runB);
    const open = this.compares.get(`${a}\u0000${b}`);
    if (open) return open.panel.reveal();
    this.attachCompare(this.createPanel(VIEW_TYPES.compareRuns, compareTitle({ runA: a, runB: b }), vscode.ViewColumn.Active), a, b);
  }

  openInDiffEditor(left: TraceText, right: TraceText): Promise<void> {
    return this.docs.openDiff(left, right);
  }

  dispose(): void {
    for (const m of [this.runViews, this.inspectors, this.compares, this.groupDiffs]) for (const o of m.values()) o.panel.dispose();
    this.pairDiff?.panel.dispose();
    for (const d of this.disposables) d.dispose();
  }

  // ---------------------------------------------------------------- panels

  private get extensionUri(): vscode.Uri {
    return this.context.extensionUri;
  }

  private webviewOptions(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      enableCommandUris: false,
      enableFindWidget: true,
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
  }

  private createPanel(viewType: string, title: string, column: vscode.ViewColumn, preserveFocus = false): vscode.WebviewPanel {
    return vscode.window.createWebviewPanel(viewType, safeLine(title, 120), { viewColumn: column, preserveFocus }, this.webviewOptions());
  }

  private styleUri(webview: vscode.Webview): string {
    return webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'webview.css')).toString();
  }

  private wire(panel: vscode.WebviewPanel, view: WebviewName, controller: Controller, onDispose: () => void): void {
    const webview = panel.webview;
    webview.options = this.webviewOptions();
    const load = () => {
      webview.html = buildWebviewHtml({
        view,
        cspSource: webview.cspSource,
        nonce: makeNonce(),
        scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', `${view}.js`)).toString(),
        styleUri: this.styleUri(webview),
        title: VIEW_NAMES[view],
      });
    };
    // Watchdog: a webview that never says `ready` (in VS Code for the web, a panel restored
    // after a reload sometimes fails to fetch its script) gets its page loaded again.
    let alive = false;
    let tries = 0;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      alive = false;
      timer = setTimeout(
        () => {
          if (alive || !panel.visible || tries >= 3) return;
          tries++;
          this.logLine(`${view}: the webview did not answer; loading it again (try ${tries})`);
          controller.resetHandshake?.();
          load();
          arm();
        },
        4000 * (tries + 1),
      );
    };
    load();
    arm();
    let wasVisible = panel.visible;
    const subs = [
      webview.onDidReceiveMessage((m) => {
        alive = true;
        void controller.handle(m);
      }),
      panel.onDidChangeViewState(() => {
        // Without retainContextWhenHidden a hidden webview's page is destroyed; it says `ready` again when shown.
        if (!panel.visible) controller.resetHandshake?.();
        else if (!wasVisible) arm();
        wasVisible = panel.visible;
        controller.setVisible?.(panel.visible);
      }),
    ];
    panel.onDidDispose(() => {
      clearTimeout(timer);
      for (const s of subs) s.dispose();
      controller.dispose();
      onDispose();
    });
  }

  private post(panel: vscode.WebviewPanel): (message: unknown) => void {
    return (message) => {
      panel.webview.postMessage(message).then(undefined, () => {
        // the panel was closed meanwhile
      });
    };
  }

  private logLine = (line: string) => this.log.appendLine(`[webview] ${line}`);

  private acquire(runDir: string): Lease<RunStore> {
    return this.stores.acquire(runDir);
  }

  private attachRunView(panel: vscode.WebviewPanel, runDir: string): void {
    const key = path.resolve(runDir);
    const lease = this.acquire(key);
    const controller = new RunViewController(lease.value, this.post(panel), this, { log: this.logLine });
    panel.title = safeLine(runViewTitle(key), 120);
    this.runViews.set(key, { panel, controller });
    this.wire(panel, 'runView', controller, () => {
      if (this.runViews.get(key)?.panel === panel) this.runViews.delete(key);
      lease.dispose();
    });
  }

  private attachInspector(panel: vscode.WebviewPanel, target: InspectorRestore): void {
    const key = path.resolve(target.runDir);
    const lease = this.acquire(key);
    const controller = new InspectorController(lease.value, { ...target, runDir: key }, this.post(panel), this, {
      log: this.logLine,
      onTitle: (t) => (panel.title = safeLine(t, 120)),
    });
    panel.title = safeLine(inspectorTitle(target), 120);
    this.inspectors.set(key, { panel, controller });
    this.wire(panel, 'inspector', controller, () => {
      if (this.inspectors.get(key)?.panel === panel) this.inspectors.delete(key);
      lease.dispose();
    });
  }

  private attachTraceDiff(panel: vscode.WebviewPanel, target: TraceDiffRestore): void {
    const controller = new TraceDiffController(target, this.post(panel), this, { log: this.logLine });
    const key = target.mode === 'groups' ? `${target.groupsFile}#${target.recordIndex}` : null;
    const open = { panel, controller };
    if (key) this.groupDiffs.set(key, open);
    else this.pairDiff = open;
    panel.title = safeLine(traceDiffTitle(target), 120);
    this.wire(panel, 'traceDiff', controller, () => {
      if (key && this.groupDiffs.get(key) === open) this.groupDiffs.delete(key);
      if (this.pairDiff === open) this.pairDiff = null;
    });
  }

  private attachCompare(panel: vscode.WebviewPanel, runA: string, runB: string): void {
    const a = path.resolve(runA);
    const b = path.resolve(runB);
    const la = this.acquire(a);
    const lb = this.acquire(b);
    const controller = new CompareController(la.value, lb.value, this.post(panel), this, { log: this.logLine });
    const key = `${a}\u0000${b}`;
    this.compares.set(key, { panel, controller });
    panel.title = safeLine(compareTitle({ runA: a, runB: b }), 120);
    this.wire(panel, 'compareRuns', controller, () => {
      if (this.compares.get(key)?.panel === panel) this.compares.delete(key);
      la.dispose();
      lb.dispose();
    });
  }

  private registerSerializer<T>(viewType: string, schema: z.ZodType<T>, attach: (panel: vscode.WebviewPanel, restore: T) => void): void {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(viewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const persisted = PersistedStateSchema.safeParse(state);
          const restore = persisted.success ? schema.safeParse(persisted.data.restore) : null;
          if (!restore?.success) {
            const why = !persisted.success ? describeIssues(persisted.error) : restore ? describeIssues(restore.error) : 'no state';
            this.logLine(`cannot restore a ${viewType} panel: ${why}`);
            panel.webview.options = { enableScripts: false, localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'media')] };
            panel.webview.html = buildMessageHtml(
              panel.webview.cspSource,
              this.styleUri(panel.webview),
              'This TraceLift view could not be restored after the reload. Close it and open it again.',
            );
            return;
          }
          attach(panel, restore.data);
        },
      }),
    );
  }
}
