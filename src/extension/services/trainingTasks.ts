/**
 * Training runs this window started as VS Code tasks: `tracelift train` runs
 * in a task terminal (its log readable there, independent of any webview),
 * and its launcher's process id — from onDidStartTaskProcess — is what a
 * graceful stop signals (SIGINT: the trainer finishes its step, checkpoints,
 * and the run ends `cancelled`).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';

/** The task type (package.json `taskDefinitions`). */
export const TRAIN_TASK_TYPE = 'tracelift-train';

interface TrainTaskDefinition extends vscode.TaskDefinition {
  type: string;
  runDir: string;
}

export interface TrainingTask {
  runDir: string;
  name: string;
  execution: vscode.TaskExecution | null;
  /** The launcher's process (null until the task's process started, or for a task found after a window reload). */
  pid: number | null;
  stopping: boolean;
  /** Resolves with the launcher's exit code (undefined when VS Code does not know it) once the task's process ended. */
  ended: Promise<number | undefined>;
}

interface Tracked extends TrainingTask {
  resolveEnded: (code: number | undefined) => void;
}

/** The Reason RM's tasks (`tracelift rm train`, `tracelift rm serve`): a TrainingTasks of their own. */
export const RM_TASK_TYPE = 'tracelift-rm';

function runDirOfTask(task: vscode.Task, type: string): string | null {
  const d = task.definition as Partial<TrainTaskDefinition>;
  return d.type === type && typeof d.runDir === 'string' ? path.resolve(d.runDir) : null;
}

export class TrainingTasks implements vscode.Disposable {
  private readonly tasks = new Map<string, Tracked>();
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  private readonly endedEmitter = new vscode.EventEmitter<{ runDir: string; name: string; exitCode: number | undefined }>();
  /** A training task's process ended (its exit code: 0 completed, 130 stopped, 1 failed). */
  readonly onDidEnd = this.endedEmitter.event;
  private readonly subs: vscode.Disposable[];

  /** `type`: the task type these tasks carry (package.json `taskDefinitions`); one instance per type. */
  constructor(private readonly type: string = TRAIN_TASK_TYPE) {
    // Tasks still running from before a window reload: known, but their process id is not.
    for (const execution of vscode.tasks.taskExecutions) {
      const dir = runDirOfTask(execution.task, type);
      if (dir) this.track(dir, execution.task.name, execution);
    }
    this.subs = [
      vscode.tasks.onDidStartTaskProcess((e) => {
        const dir = runDirOfTask(e.execution.task, type);
        if (!dir) return;
        const t = this.tasks.get(dir) ?? this.track(dir, e.execution.task.name, e.execution);
        t.execution = e.execution;
        t.pid = e.processId;
        this.emitter.fire();
      }),
      vscode.tasks.onDidEndTaskProcess((e) => this.ended(runDirOfTask(e.execution.task, type), e.exitCode)),
      // A task whose process never started (bad executable) ends without a process event.
      vscode.tasks.onDidEndTask((e) => this.ended(runDirOfTask(e.execution.task, type), undefined)),
    ];
  }

  private track(runDir: string, name: string, execution: vscode.TaskExecution | null): Tracked {
    let resolveEnded!: (code: number | undefined) => void;
    const ended = new Promise<number | undefined>((resolve) => (resolveEnded = resolve));
    const t: Tracked = { runDir, name, execution, pid: null, stopping: false, ended, resolveEnded };
    this.tasks.set(runDir, t);
    this.emitter.fire();
    return t;
  }

  private ended(runDir: string | null, exitCode: number | undefined): void {
    const t = runDir ? this.tasks.get(runDir) : undefined;
    if (!t) return;
    this.tasks.delete(t.runDir);
    t.resolveEnded(exitCode);
    this.endedEmitter.fire({ runDir: t.runDir, name: t.name, exitCode });
    this.emitter.fire();
  }

  /** Starts `command args` as a visible task for the run in `runDir`. */
  async start(opts: {
    runDir: string;
    name: string;
    command: string;
    args: string[];
    env: Record<string, string>;
    cwd?: string;
  }): Promise<TrainingTask> {
    const runDir = path.resolve(opts.runDir);
    if (this.tasks.has(runDir)) throw new Error(`a training task of this window is already running ${runDir}`);
    const definition: TrainTaskDefinition = { type: this.type, runDir };
    const folder = opts.cwd ? vscode.workspace.getWorkspaceFolder(vscode.Uri.file(opts.cwd)) : undefined;
    const task = new vscode.Task(
      definition,
      folder ?? vscode.TaskScope.Workspace,
      opts.name,
      'TraceLift',
      new vscode.ProcessExecution(opts.command, opts.args, { env: opts.env, ...(opts.cwd ? { cwd: opts.cwd } : {}) }),
    );
    task.presentationOptions = {
      reveal: vscode.TaskRevealKind.Always,
      panel: vscode.TaskPanelKind.Dedicated,
      focus: false,
      clear: false,
      echo: true,
    };
    const t = this.tasks.get(runDir) ?? this.track(runDir, opts.name, null);
    try {
      t.execution = await vscode.tasks.executeTask(task);
    } catch (err) {
      this.ended(runDir, undefined);
      throw err;
    }
    return t;
  }

  running(): TrainingTask[] {
    return [...this.tasks.values()];
  }

  get(runDir: string): TrainingTask | undefined {
    return this.tasks.get(path.resolve(runDir));
  }

  /**
   * Asks the launcher to stop: SIGINT, as Ctrl-C in its terminal would (the
   * trainer finishes its step and checkpoints; asked again, it is ended).
   * False when its process id is unknown.
   */
  stop(t: TrainingTask): boolean {
    if (t.pid === null) return false;
    try {
      process.kill(t.pid, 'SIGINT');
    } catch {
      return false; // already gone
    }
    t.stopping = true;
    this.emitter.fire();
    return true;
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.emitter.dispose();
    this.endedEmitter.dispose();
  }
}
