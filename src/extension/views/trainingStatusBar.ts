/**
 * A status-bar item while a training run is live: `step 3/8 · reward 0.42 ·
 * ETA 2m10s`, from the run's step_metrics events (the ETA from the mean step
 * time so far). Live training runs are the ones this window's tasks run,
 * training runs found live in the runs folder, and attached run directories
 * that have not ended. Click: the run view.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { safeLine } from '../../shared/safeText';
import type { RunsModel } from '../services/runsModel';
import { scanRun } from '../services/runScan';
import { TrainingProgressReader, trainingStatusText } from '../services/trainingProgress';
import type { TrainingTasks } from '../services/trainingTasks';

const POLL_MS = 2000;

export class TrainingStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('tracelift.training', vscode.StatusBarAlignment.Left, 49);
  private readonly readers = new Map<string, TrainingProgressReader>();
  /** Run directories attached with "Attach to Training Run…" (shown while live). */
  private readonly attached = new Set<string>();
  private readonly subs: vscode.Disposable[];
  private timer: NodeJS.Timeout | undefined;
  private updating = false;

  constructor(
    private readonly runs: RunsModel,
    private readonly tasks: TrainingTasks,
  ) {
    this.item.name = 'TraceLift training';
    this.subs = [runs.onDidChange(() => void this.update()), tasks.onDidChange(() => void this.update())];
    void this.update();
  }

  /** Follows a run directory outside the runs folder too (until it ends). */
  watch(runDir: string): void {
    this.attached.add(path.resolve(runDir));
    void this.update();
  }

  /** Live training run directories: this window's tasks first. */
  liveDirs(): string[] {
    const dirs = this.tasks.running().map((t) => t.runDir);
    const add = (d: string) => {
      const abs = path.resolve(d);
      if (!dirs.includes(abs)) dirs.push(abs);
    };
    for (const r of this.runs.live()) if (r.kind === 'train') add(r.dir);
    for (const d of this.attached) {
      const info = this.runs.run(d) ?? scanRun(d);
      if (info.live && info.kind === 'train') add(d);
    }
    return dirs;
  }

  /** The status-bar text of a run (for the tooltip and tests): `step 3/8 · reward 0.42 · ETA 2m10s`. */
  textOf(runDir: string): string | undefined {
    const r = this.readers.get(path.resolve(runDir));
    return r && trainingStatusText(r.progress);
  }

  private async update(): Promise<void> {
    if (this.updating) return;
    this.updating = true;
    try {
      const dirs = this.liveDirs();
      for (const d of [...this.readers.keys()]) if (!dirs.includes(d)) this.readers.delete(d);
      for (const d of dirs) {
        let r = this.readers.get(d);
        if (!r) this.readers.set(d, (r = new TrainingProgressReader(d)));
        await r.update().catch(() => false);
      }
      this.render(dirs);
      if (this.timer) clearTimeout(this.timer);
      this.timer = dirs.length ? setTimeout(() => void this.update(), POLL_MS) : undefined;
    } finally {
      this.updating = false;
    }
  }

  private render(dirs: string[]): void {
    void vscode.commands.executeCommand('setContext', 'tracelift.trainingLive', dirs.length > 0);
    if (!dirs.length) {
      this.item.hide();
      return;
    }
    const lines = dirs.map((d) => `${safeLine(path.basename(d), 60)}: ${this.textOf(d) ?? 'starting…'}`);
    const first = dirs[0]!;
    this.item.text =
      dirs.length === 1
        ? `$(pulse) ${this.textOf(first) ?? 'training starting…'}`
        : `$(pulse) ${dirs.length} training runs · ${this.textOf(first) ?? 'starting…'}`;
    this.item.tooltip = `TraceLift training — click to open the run view\n${lines.join('\n')}`;
    this.item.command = { command: 'tracelift.openRun', title: 'Open Run', arguments: [first] };
    this.item.show();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.subs) s.dispose();
    this.item.dispose();
  }
}
