/**
 * VS Code extension entry. The editor experience (explorer, run views,
 * inspector, diff, annotations) builds on the engine in src/engine; this
 * first version registers the command that shows which engine is bundled.
 */
import * as vscode from 'vscode';
import { ENGINE_VERSION } from '../engine/eval/runEval';
import { listTasks } from '../engine/tasks/registry';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('TraceLift');
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand('tracelift.showEngineInfo', () => {
      output.appendLine(`TraceLift engine ${ENGINE_VERSION}; tasks: ${listTasks().map((t) => t.name).join(', ')}`);
      output.show(true);
    }),
  );
}

export function deactivate(): void {}
