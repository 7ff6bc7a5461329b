/**
 * VS Code extension entry: the engine's log in the "TraceLift" output
 * channel, the explorer (runs, trace & data files), inline annotations of
 * trace files, the webview panels, the status-bar item for live runs and
 * the commands that tie them together.
 */
import * as vscode from 'vscode';
import { ENGINE_VERSION } from '../engine/eval/runEval';
import { listTasks } from '../engine/tasks/registry';
import { AnnotationProvider } from './annotations/provider';
import { ActiveRuns } from './commands/activeRuns';
import { ApiKeys } from './commands/apiKeys';
import { registerCommands } from './commands';
import { loadWebviews } from './commands/webviewApi';
import { registerExplorer } from './explorer';
import { LiveRunsStatusBar } from './statusBar';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('TraceLift');
  const log = (line: string) => output.appendLine(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand('tracelift.showEngineInfo', () => {
      output.appendLine(`TraceLift engine ${ENGINE_VERSION}; tasks: ${listTasks().map((t) => t.name).join(', ')}`);
      output.show(true);
    }),
  );

  const active = new ActiveRuns();
  context.subscriptions.push(active);
  const webviews = loadWebviews(context, output);
  const explorer = registerExplorer(context, active, log);
  const statusBar = new LiveRunsStatusBar(explorer.runs, active);
  const annotations = new AnnotationProvider(explorer.runs);
  context.subscriptions.push(statusBar, annotations);
  registerCommands(context, {
    log,
    output,
    webviews,
    active,
    keys: new ApiKeys(context.secrets),
    dataFiles: explorer.dataFiles,
    runs: explorer.runs,
    runsTree: explorer.runsTree,
    statusBar,
  });
  log(`TraceLift ${ENGINE_VERSION} activated${vscode.workspace.isTrusted ? '' : ' (restricted mode: evals need a trusted workspace)'}`);
}

export function deactivate(): void {}
