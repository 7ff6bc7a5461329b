/**
 * Training from the editor: Start Training… (a recipe copied into the
 * workspace and opened, checked by the package's JSON Schema while it is
 * edited), Launch Training (the config checked against the contract, then
 * `tracelift train` as a visible task), Stop Training (graceful), Resume
 * Training… and Attach to Training Run… (any run directory, read-only live
 * view). The run view opens on the run directory once it exists.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CONFIG_FILE, EVENTS_FILE } from '../../engine/run/runReader';
import { safeLine } from '../../shared/safeText';
import type { RunsModel } from '../services/runsModel';
import type { RunInfo } from '../services/runScan';
import { primaryRunsFolder, readSettings, resolvePathSetting } from '../services/settings';
import {
  checkTrainConfigText,
  copyRecipe,
  defaultTrainRunName,
  listRecipes,
  TRAIN_CONFIG_DIR,
  trainCommandLine,
  trainEnv,
  type RecipeEntry,
  type TrainLaunch,
} from '../services/trainingLaunch';
import type { TrainingTask, TrainingTasks } from '../services/trainingTasks';
import type { TrainingStatusBar } from '../views/trainingStatusBar';
import type { WebviewApi } from '../views/webviewApi';
import { requireTrust } from './evalFlow';
import { offerTrainingSetup } from './setup';

export interface TrainingDeps {
  log: (line: string) => void;
  output: vscode.OutputChannel;
  webviews: WebviewApi;
  runs: RunsModel;
  tasks: TrainingTasks;
  status: TrainingStatusBar;
}

type Item<T> = vscode.QuickPickItem & { value: T };

/** How long Launch waits for the run directory's events.jsonl before it stops waiting to open the run view. */
const RUN_DIR_WAIT_MS = 10 * 60_000;

function workspaceFolders(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
}

function errorMessage(text: string, ...actions: string[]): Thenable<string | undefined> {
  return vscode.window.showErrorMessage(`TraceLift: ${text}`, ...actions);
}

// ------------------------------------------------------------------ start

async function startTraining(context: vscode.ExtensionContext, deps: TrainingDeps): Promise<void> {
  const folders = workspaceFolders();
  const recipes = listRecipes([
    ...folders.map((dir) => ({ dir: path.join(dir, 'recipes'), origin: 'workspace' as const })),
    { dir: path.join(context.extensionPath, 'recipes'), origin: 'bundled' as const },
  ]);
  if (!recipes.length) {
    void errorMessage('no training recipes found (recipes/*.json in the workspace or the extension).');
    return;
  }
  if (!folders.length) {
    void errorMessage('Start Training copies a recipe into the workspace: open a folder first.');
    return;
  }
  const chosen = await vscode.window.showQuickPick<Item<RecipeEntry>>(
    recipes.map((r) => ({
      label: safeLine(r.name, 80),
      description: r.origin === 'bundled' ? 'bundled with TraceLift' : 'workspace recipes/',
      detail: r.description,
      value: r,
    })),
    {
      title: 'TraceLift: Start Training (1/2)',
      placeHolder: 'Which recipe? It is copied into the workspace for you to edit',
      matchOnDetail: true,
    },
  );
  if (!chosen) return;
  const target = copyRecipe(chosen.value.file, path.join(folders[0]!, TRAIN_CONFIG_DIR));
  deps.log(`training config ${target} copied from ${chosen.value.file}`);
  const doc = await vscode.workspace.openTextDocument(target);
  await vscode.window.showTextDocument(doc, { preview: false });
  // Not awaited: the config stays open for editing; Launch Training is also on the editor title and in the palette.
  void vscode.window
    .showInformationMessage(
      `TraceLift: ${safeLine(path.basename(target))} (Start Training 2/2) — edit the config (schema checks and completion as you type), then launch it.`,
      'Launch Training',
    )
    .then((choice) => {
      if (choice) void vscode.commands.executeCommand('tracelift.launchTraining', doc.uri);
    });
}

// ------------------------------------------------------------------ launch

/** The config to launch: the argument, the active JSON editor, else a pick of the workspace's training configs. */
async function configToLaunch(arg: unknown): Promise<string | undefined> {
  if (arg instanceof vscode.Uri && arg.scheme === 'file') return arg.fsPath;
  const active = vscode.window.activeTextEditor?.document;
  if (active?.uri.scheme === 'file' && active.fileName.endsWith('.json')) return active.fileName;
  const files = workspaceFolders().flatMap((dir) => {
    const d = path.join(dir, TRAIN_CONFIG_DIR);
    try {
      return fs
        .readdirSync(d)
        .filter((n) => n.endsWith('.json'))
        .map((n) => path.join(d, n));
    } catch {
      return [];
    }
  });
  if (!files.length) {
    const choice = await vscode.window.showInformationMessage(
      'TraceLift: no training config open. Start Training… copies a recipe into the workspace to edit and launch.',
      'Start Training…',
    );
    if (choice) void vscode.commands.executeCommand('tracelift.startTraining');
    return undefined;
  }
  const chosen = await vscode.window.showQuickPick(
    files.map((f) => ({ label: safeLine(path.basename(f), 80), description: safeLine(f, 200), value: f })),
    { title: 'TraceLift: Launch Training', placeHolder: 'Which training config?' },
  );
  return chosen?.value;
}

/** A new run directory, asked with the default `<runs folder>/train-<config>-<time>`. */
async function askRunDir(configFile: string): Promise<string | undefined> {
  const runsFolder = primaryRunsFolder() ?? path.dirname(configFile);
  const proposed = path.join(runsFolder, defaultTrainRunName(configFile));
  const answer = await vscode.window.showInputBox({
    title: 'TraceLift: Launch Training — run directory',
    prompt: 'Where the run is written (events, samples, checkpoints, trainer.log)',
    value: proposed,
    valueSelection: [proposed.length - path.basename(proposed).length, proposed.length],
    ignoreFocusOut: true,
    validateInput: (v) => {
      if (!v.trim()) return 'a directory is needed';
      const dir = resolvePathSetting(v);
      return fs.existsSync(path.join(dir, EVENTS_FILE)) ? 'this directory already holds a run: Resume Training… continues it' : null;
    },
  });
  return answer === undefined ? undefined : resolvePathSetting(answer);
}

async function launchTraining(context: vscode.ExtensionContext, deps: TrainingDeps, arg: unknown): Promise<void> {
  const configFile = await configToLaunch(arg);
  if (!configFile) return;
  if (!(await requireTrust('Training'))) return;
  const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && path.resolve(d.fileName) === path.resolve(configFile));
  if (open?.isDirty) await open.save();
  let text: string;
  try {
    text = fs.readFileSync(configFile, 'utf8');
  } catch (err) {
    void errorMessage(`cannot read ${safeLine(configFile, 200)}: ${safeLine((err as Error).message, 200)}`);
    return;
  }
  const check = checkTrainConfigText(text);
  if (!check.ok) {
    deps.log(`training config ${configFile} refused: ${check.message}`);
    const choice = await errorMessage(
      `${safeLine(path.basename(configFile), 80)}: ${safeLine(check.message, 300)} — nothing was started.`,
      'Open Config',
    );
    if (choice) await vscode.window.showTextDocument(vscode.Uri.file(configFile));
    return;
  }
  const outDir = await askRunDir(configFile);
  if (!outDir) return;
  await runTrainTask(context, deps, { kind: 'start', configFile, outDir }, null);
}

/** Starts `tracelift train` as a task; opens the run view once the run directory is written. */
async function runTrainTask(
  context: vscode.ExtensionContext,
  deps: TrainingDeps,
  launch: TrainLaunch,
  maxSteps: number | null,
): Promise<void> {
  if (!(await offerTrainingSetup())) return;
  const cliScript = path.join(context.extensionPath, 'dist', 'cli.js');
  if (!fs.existsSync(cliScript)) {
    void errorMessage(`the TraceLift CLI is missing at ${safeLine(cliScript, 200)} (build the extension: npm run build).`);
    return;
  }
  const settings = readSettings();
  const { command, args } = trainCommandLine(launch, {
    cliScript,
    node: process.execPath,
    maxSteps,
    pythonPath: settings.pythonPath,
    allowUnsandboxed: settings.allowUnsandboxed,
  });
  const runDir = launch.kind === 'start' ? launch.outDir : launch.runDir;
  const name = `${launch.kind === 'start' ? 'train' : 'resume'} ${path.basename(runDir)}`;
  deps.log(`starting the training task: ${[command, ...args].join(' ')}`);
  const folder = workspaceFolders()[0];
  await deps.tasks.start({ runDir, name, command, args, env: trainEnv(settings), cwd: folder });
  deps.status.watch(runDir);
  deps.runs.refresh();
  void openWhenWritten(deps, runDir, launch.kind === 'start');
}

/** The run view, once the launcher wrote the run's first event (a resumed run's view opens at once). */
async function openWhenWritten(deps: TrainingDeps, runDir: string, fresh: boolean): Promise<void> {
  const events = path.join(runDir, EVENTS_FILE);
  const task = deps.tasks.get(runDir);
  const until = Date.now() + RUN_DIR_WAIT_MS;
  while (fresh && !fs.existsSync(events)) {
    if (Date.now() > until || (task && !deps.tasks.get(runDir))) return; // the task ended before writing anything
    await new Promise((r) => setTimeout(r, 500));
  }
  deps.runs.refresh();
  deps.webviews.openRunView(runDir);
}

/** What the end of a training task says. */
function reportEnd(deps: TrainingDeps, e: { runDir: string; name: string; exitCode: number | undefined }): void {
  const name = safeLine(path.basename(e.runDir), 80);
  deps.runs.refresh();
  if (e.exitCode === 0) void vscode.window.showInformationMessage(`TraceLift: training ${name} completed.`);
  else if (e.exitCode === 130)
    void vscode.window.showInformationMessage(`TraceLift: training ${name} stopped; its last checkpoint can be resumed.`);
  else {
    void errorMessage(
      `training ${name} failed${e.exitCode === undefined ? '' : ` (exit code ${e.exitCode})`} — its terminal and trainer.log say why.`,
      'Open Run',
    ).then((c) => {
      if (c && fs.existsSync(path.join(e.runDir, EVENTS_FILE))) deps.webviews.openRunView(e.runDir);
    });
  }
}

// ------------------------------------------------------------------ stop

async function pickTask(tasks: TrainingTask[], title: string): Promise<TrainingTask | undefined> {
  if (tasks.length <= 1) return tasks[0];
  const chosen = await vscode.window.showQuickPick(
    tasks.map((t) => ({ label: safeLine(path.basename(t.runDir), 80), description: safeLine(t.runDir, 200), value: t })),
    { title },
  );
  return chosen?.value;
}

function runDirArg(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (typeof arg === 'object' && arg !== null) {
    const a = arg as { type?: unknown; run?: { dir?: unknown }; runDir?: unknown };
    if (a.type === 'run' && typeof a.run?.dir === 'string') return a.run.dir;
    if (typeof a.runDir === 'string') return a.runDir;
  }
  return undefined;
}

async function stopTraining(deps: TrainingDeps, arg: unknown): Promise<void> {
  const dir = runDirArg(arg);
  const running = deps.tasks.running().filter((t) => !t.stopping);
  const target = dir ? deps.tasks.get(dir) : await pickTask(running, 'TraceLift: Stop Training — which run?');
  if (!target) {
    void vscode.window.showInformationMessage(
      running.length || !dir
        ? 'TraceLift: no training task of this window is running. A run started in a terminal stops with Ctrl-C there.'
        : `TraceLift: ${safeLine(path.basename(dir ?? ''), 80)} is not a training task of this window (Ctrl-C in its terminal stops it).`,
    );
    return;
  }
  if (!deps.tasks.stop(target)) {
    const choice = await errorMessage(
      `the launcher of ${safeLine(path.basename(target.runDir), 80)} cannot be signalled (started before a window reload?): press Ctrl-C in its terminal to stop it gracefully, or end it now.`,
      'End It Now',
    );
    if (choice) target.execution?.terminate();
    return;
  }
  deps.log(`stopping the training of ${target.runDir} (SIGINT to ${target.pid})`);
  await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `TraceLift: stopping ${safeLine(path.basename(target.runDir), 60)} after the current step…`,
    },
    () => target.ended,
  );
}

// ------------------------------------------------------------------ resume, attach

/** A checkpoint TRL can resume from (checkpoints/checkpoint-<step>/). */
function hasCheckpoint(runDir: string): boolean {
  try {
    return fs.readdirSync(path.join(runDir, 'checkpoints')).some((n) => /^checkpoint-\d+$/.test(n));
  } catch {
    return false;
  }
}

async function resumeTraining(context: vscode.ExtensionContext, deps: TrainingDeps, arg: unknown): Promise<void> {
  let runDir = runDirArg(arg);
  if (!runDir) {
    const candidates = deps.runs
      .runs()
      .filter((r: RunInfo) => r.kind === 'train' && !r.live && !deps.tasks.get(r.dir) && hasCheckpoint(r.dir));
    if (!candidates.length) {
      void vscode.window.showInformationMessage(
        'TraceLift: no training run to resume (a stopped or ended training run with a checkpoint, in the runs folder).',
      );
      return;
    }
    const chosen = await vscode.window.showQuickPick(
      candidates.map((r) => ({ label: safeLine(r.name, 80), description: `${r.status} · ${safeLine(r.dir, 160)}`, value: r.dir })),
      { title: 'TraceLift: Resume Training (1/2)', placeHolder: 'Continue which run from its last checkpoint?' },
    );
    runDir = chosen?.value;
  }
  if (!runDir) return;
  if (!(await requireTrust('Training'))) return;
  if (!fs.existsSync(path.join(runDir, CONFIG_FILE)) || !hasCheckpoint(runDir)) {
    void errorMessage(`${safeLine(runDir, 200)} has no training config and checkpoint to resume from.`);
    return;
  }
  const steps = await vscode.window.showInputBox({
    title: 'TraceLift: Resume Training (2/2)',
    prompt: "Train until which step? Empty: the run's max_steps",
    ignoreFocusOut: true,
    validateInput: (v) => (!v.trim() || /^[1-9]\d*$/.test(v.trim()) ? null : 'a positive whole number, or empty'),
  });
  if (steps === undefined) return;
  await runTrainTask(context, deps, { kind: 'resume', runDir: path.resolve(runDir) }, steps.trim() ? Number(steps.trim()) : null);
}

async function attachTrainingRun(deps: TrainingDeps, arg: unknown): Promise<void> {
  let dir = runDirArg(arg);
  if (!dir) {
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: false,
      openLabel: 'Attach',
      title: 'TraceLift: Attach to Training Run — a run directory (config.json, events.jsonl)',
    });
    dir = picked?.[0]?.fsPath;
  }
  if (!dir) return;
  if (!fs.existsSync(path.join(dir, EVENTS_FILE)) && !fs.existsSync(path.join(dir, CONFIG_FILE))) {
    void errorMessage(`${safeLine(dir, 200)} is not a run directory (no ${EVENTS_FILE} or ${CONFIG_FILE}).`);
    return;
  }
  deps.log(`attached to ${dir} (read-only)`);
  deps.status.watch(dir);
  deps.webviews.openRunView(path.resolve(dir));
}

// ------------------------------------------------------------------ registration

export function registerTrainingCommands(context: vscode.ExtensionContext, deps: TrainingDeps): void {
  const guarded =
    (name: string, fn: (...args: unknown[]) => unknown) =>
    async (...args: unknown[]) => {
      try {
        await fn(...args);
      } catch (err) {
        deps.log(`${name}: ${(err as Error).stack ?? (err as Error).message}`);
        void errorMessage(`${name} failed — ${safeLine((err as Error).message, 300)}`, 'Show Log').then((c) => {
          if (c) deps.output.show(true);
        });
      }
    };
  const commands: Record<string, (...args: unknown[]) => unknown> = {
    'tracelift.startTraining': () => startTraining(context, deps),
    'tracelift.launchTraining': (arg) => launchTraining(context, deps, arg),
    'tracelift.stopTraining': (arg) => stopTraining(deps, arg),
    'tracelift.resumeTraining': (arg) => resumeTraining(context, deps, arg),
    'tracelift.attachTrainingRun': (arg) => attachTrainingRun(deps, arg),
  };
  for (const [id, fn] of Object.entries(commands)) {
    context.subscriptions.push(vscode.commands.registerCommand(id, guarded(id.replace(/^tracelift\./, ''), fn)));
  }
  context.subscriptions.push(deps.tasks.onDidEnd((e) => reportEnd(deps, e)));
}
