/** Evals this window is running in-process: their progress and how to cancel them. */
import * as path from 'node:path';
import * as vscode from 'vscode';

export interface ActiveRun {
  runDir: string;
  title: string;
  done: number;
  total: number | null;
  started: number;
  abort: AbortController;
}

export class ActiveRuns implements vscode.Disposable {
  private readonly runs = new Map<string, ActiveRun>();
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;

  add(runDir: string, title: string, abort: AbortController): ActiveRun {
    const run: ActiveRun = { runDir: path.resolve(runDir), title, done: 0, total: null, started: Date.now(), abort };
    this.runs.set(run.runDir, run);
    this.changed();
    return run;
  }

  progress(runDir: string, done: number, total: number): void {
    const run = this.runs.get(path.resolve(runDir));
    if (!run) return;
    run.done = done;
    run.total = total;
    this.changed();
  }

  remove(runDir: string): void {
    if (this.runs.delete(path.resolve(runDir))) this.changed();
  }

  list(): ActiveRun[] {
    return [...this.runs.values()];
  }

  dirs(): ReadonlySet<string> {
    return new Set(this.runs.keys());
  }

  get(runDir: string): ActiveRun | undefined {
    return this.runs.get(path.resolve(runDir));
  }

  private changed(): void {
    void vscode.commands.executeCommand('setContext', 'tracelift.evalRunning', this.runs.size > 0);
    this.emitter.fire();
  }

  dispose(): void {
    for (const r of this.runs.values()) r.abort.abort();
    this.emitter.dispose();
  }
}
