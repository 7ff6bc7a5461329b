/**
 * A status-bar item while runs are live — evals this window runs and runs
 * other processes (the CLI, a training job) are writing into the runs folder.
 * Click: the run view of the live run (a pick when there are several).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ActiveRuns } from '../services/activeRuns';
import type { RunsModel } from '../services/runsModel';
import { safeLine } from '../../shared/safeText';

export class LiveRunsStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('tracelift.liveRuns', vscode.StatusBarAlignment.Left, 50);
  private readonly subs: vscode.Disposable[];

  constructor(
    private readonly runs: RunsModel,
    private readonly active: ActiveRuns,
  ) {
    this.item.name = 'TraceLift live runs';
    this.item.command = 'tracelift.openLiveRun';
    this.subs = [runs.onDidChange(() => this.update()), active.onDidChange(() => this.update())];
    this.update();
  }

  /** Live run directories: this window's evals first, then others found live on disk. */
  liveDirs(): string[] {
    const dirs = this.active.list().map((r) => r.runDir);
    for (const r of this.runs.live()) if (!dirs.includes(path.resolve(r.dir))) dirs.push(path.resolve(r.dir));
    return dirs;
  }

  private update(): void {
    const dirs = this.liveDirs();
    void vscode.commands.executeCommand('setContext', 'tracelift.hasLiveRuns', dirs.length > 0);
    if (!dirs.length) {
      this.item.hide();
      return;
    }
    const lines: string[] = [];
    for (const dir of dirs) {
      const a = this.active.get(dir);
      const info = this.runs.run(dir);
      const done = a ? `${a.done}/${a.total ?? '?'}` : `${info?.summary?.micro.problems ?? 0}${info?.limit ? `/${info.limit}` : ''}`;
      lines.push(`${safeLine(path.basename(dir))}: ${done} problems${a ? ' (this window)' : ''}`);
    }
    const first = dirs[0]!;
    const a = this.active.get(first);
    const progress = a ? ` ${a.done}/${a.total ?? '?'}` : '';
    this.item.text =
      dirs.length === 1
        ? `$(sync~spin) TraceLift: ${safeLine(path.basename(first), 40)}${progress}`
        : `$(sync~spin) TraceLift: ${dirs.length} live runs`;
    this.item.tooltip = `Live TraceLift runs — click to open the run view\n${lines.join('\n')}`;
    this.item.show();
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.item.dispose();
  }
}
