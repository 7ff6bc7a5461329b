/**
 * TEMPORARY developer commands to try the webviews before the explorer,
 * commands and CodeLenses of the host issue call them. The host wires them
 * from `activate` with `registerDevCommands(context, api)`; they need no
 * package.json entry to run through `vscode.commands.executeCommand`, and
 * appear in the palette only if contributed.
 *
 *   tracelift.dev.openRunView     pick a run directory → live run view
 *   tracelift.dev.demoRun         write a synthetic run progressively into a temp dir and watch it live
 *   tracelift.dev.openGroupDiff   pick a TraceLift-Groups file and a record index → trace diff
 *   tracelift.dev.compareRuns     pick two run directories → compare view
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { eventLine, syntheticEnded, syntheticGroup, syntheticStarted } from './runs/syntheticRun';
import type { WebviewApi } from './webviews';

async function pickFolder(title: string): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, title });
  return picked?.[0]?.fsPath;
}

export function registerDevCommands(context: vscode.ExtensionContext, api: WebviewApi): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('tracelift.dev.openRunView', async (runDir?: string) => {
      const dir = runDir ?? (await pickFolder('Run directory (holds events.jsonl)'));
      if (dir) api.openRunView(dir);
    }),
    vscode.commands.registerCommand('tracelift.dev.demoRun', async (groups = 2000, perSecond = 50) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracelift-demo-'));
      const file = path.join(dir, 'events.jsonl');
      fs.writeFileSync(file, eventLine(syntheticStarted('demo')));
      api.openRunView(dir);
      let i = 0;
      const timer = setInterval(() => {
        const n = Math.min(groups - i, Math.max(1, Math.round(perSecond / 10)));
        let chunk = '';
        for (let k = 0; k < n; k++) chunk += eventLine(syntheticGroup(i++));
        if (i >= groups) {
          chunk += eventLine(syntheticEnded());
          clearInterval(timer);
        }
        fs.appendFileSync(file, chunk);
      }, 100);
      context.subscriptions.push({ dispose: () => clearInterval(timer) });
    }),
    vscode.commands.registerCommand('tracelift.dev.openGroupDiff', async (file?: string, index?: number) => {
      const f = file ?? (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'TraceLift-Groups': ['jsonl', 'gz'] } }))?.[0]?.fsPath;
      if (!f) return;
      const i = index ?? Number(await vscode.window.showInputBox({ prompt: 'Record index (0-based)', value: '0', validateInput: (v) => (/^\d+$/.test(v) ? null : 'a number') }));
      if (Number.isInteger(i)) api.openGroupDiff(f, i);
    }),
    vscode.commands.registerCommand('tracelift.dev.compareRuns', async (a?: string, b?: string) => {
      const runA = a ?? (await pickFolder('Run A'));
      const runB = runA ? (b ?? (await pickFolder('Run B'))) : undefined;
      if (runA && runB) api.openCompareRuns(runA, runB);
    }),
  );
}
