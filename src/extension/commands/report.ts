/**
 * "TraceLift: Open Report" (the analyses and charts of one or more runs, as
 * `tracelift report` writes them, in a webview) and the benchmarks in the
 * Testing view. Runs come from the runs tree (one or several selected) or a
 * multi-select quick pick.
 */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { safeLine } from '../../shared/safeText';
import type { RunsNode } from '../views/runsTree';
import { runPick } from '../views/labels';
import { ReportPanels } from '../views/webviews/reportPanel';
import type { EvalDeps } from './evalFlow';
import { registerTestExplorer } from './testing';

/** A run directory from what a menu passed: a runs-tree node, a URI or a path. */
function runDirOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (typeof arg === 'object' && arg !== null && 'type' in arg) {
    const node = arg as RunsNode;
    if (node.type === 'run') return node.run.dir;
    if ('runDir' in node && typeof node.runDir === 'string') return node.runDir;
  }
  return undefined;
}

async function pickRuns(deps: Pick<EvalDeps, 'runs'>): Promise<string[]> {
  const runs = deps.runs.runs();
  if (!runs.length) {
    void vscode.window.showInformationMessage('TraceLift: no runs in this window. Start one with "Run Eval on Workspace".');
    return [];
  }
  const chosen = await vscode.window.showQuickPick(
    runs.map((r) => ({ ...runPick(r), dir: r.dir })),
    {
      title: 'TraceLift: Open Report',
      placeHolder: 'Which runs? (several: their analyses side by side)',
      canPickMany: true,
      matchOnDescription: true,
    },
  );
  return (chosen ?? []).map((c) => c.dir);
}

export async function openReport(deps: Pick<EvalDeps, 'runs'>, panels: ReportPanels, arg: unknown, selected: unknown): Promise<void> {
  const fromTree = (Array.isArray(selected) ? selected : [arg]).map(runDirOf).filter((d): d is string => !!d);
  const runDirs = [...new Set(fromTree.length ? fromTree : await pickRuns(deps))];
  if (!runDirs.length) return;
  const missing = runDirs.find((d) => !fs.existsSync(d));
  if (missing) {
    void vscode.window.showErrorMessage(`TraceLift: the run folder ${safeLine(missing, 200)} no longer exists.`);
    return;
  }
  panels.show(runDirs);
}

/** Open Report and the Testing view's benchmarks (one call from `activate`). */
export function registerReportAndTests(
  context: vscode.ExtensionContext,
  deps: Pick<EvalDeps, 'log' | 'keys' | 'active' | 'runs' | 'webviews'>,
): void {
  const panels = new ReportPanels(
    context.extensionUri,
    (runDir, problemId, sampleId) => deps.webviews.openInspector(runDir, problemId, sampleId),
    deps.log,
  );
  context.subscriptions.push(
    panels,
    vscode.commands.registerCommand('tracelift.openReport', (arg: unknown, selected: unknown) => openReport(deps, panels, arg, selected)),
  );
  registerTestExplorer(context, deps);
}
