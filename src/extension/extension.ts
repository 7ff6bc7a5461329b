/**
 * VS Code extension entry: the engine's log in the "TraceLift" output
 * channel, the explorer (runs, trace & data files), inline annotations of
 * trace files, the webview panels, the status-bar item for live runs and
 * the commands that tie them together.
 *
 * Folders by role; imports go one way only — commands → views → services →
 * engine, never back:
 *   services/  state and I/O with no UI (run store, run scan, active runs,
 *              API keys, settings, data-file detection, pure annotation);
 *   views/     trees, annotation provider, status bar, webview panels;
 *   commands/  command handlers (quick picks, input boxes) calling the above.
 */
import * as vscode from 'vscode';
import { ENGINE_VERSION } from '../engine/eval/runEval';
import { AnnotationProvider } from './views/annotations';
import { ActiveRuns } from './services/activeRuns';
import { ApiKeys } from './services/apiKeys';
import { RunStoreRegistry } from './services/runs/runStore';
import { registerCommands } from './commands';
import { loadWebviews } from './views/webviewApi';
import { registerExplorer } from './views/explorer';
import { LiveRunsStatusBar } from './views/statusBar';
import { TrainingTasks } from './services/trainingTasks';
import { TrainingStatusBar } from './views/trainingStatusBar';
import { registerTrainingCommands } from './commands/training';
import { registerCheckEnvironmentCommand, registerEngineInfo } from './commands/checkEnvironment';
import { registerSetupCommands } from './commands/setup';
import { useManagedStorage } from './services/managedEnv';
import { registerRmCommands } from './commands/rm';
import { registerGroupsBuildCommand } from './commands/groupsBuild';
import { RM_TASK_TYPE } from './services/trainingTasks';
import { RmGroupScoreIndex } from './services/rmGroupScores';
import { registerReportAndTests } from './commands/report';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('TraceLift');
  const log = (line: string) => output.appendLine(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
  context.subscriptions.push(output);
  // The managed Python and model (Set Up Embedded Executor) live here; settings fall back to them.
  useManagedStorage(context.globalStorageUri.fsPath);

  const active = new ActiveRuns();
  context.subscriptions.push(active);
  // One index per run, shared by the explorer, the annotations and the webviews.
  const stores = new RunStoreRegistry();
  context.subscriptions.push(stores);
  const webviews = loadWebviews(context, output, stores);
  const explorer = registerExplorer(context, active, log, stores);
  const statusBar = new LiveRunsStatusBar(explorer.runs, active);
  const rmScores = new RmGroupScoreIndex();
  const annotations = new AnnotationProvider(explorer.runs, rmScores);
  context.subscriptions.push(statusBar, annotations, rmScores);
  const keys = new ApiKeys(context.secrets);
  registerCommands(context, {
    log,
    output,
    webviews,
    active,
    keys,
    dataFiles: explorer.dataFiles,
    runs: explorer.runs,
    runsTree: explorer.runsTree,
    statusBar,
  });
  // Training: `tracelift train` as VS Code tasks, their progress in the status bar.
  const trainingTasks = new TrainingTasks();
  const trainingStatus = new TrainingStatusBar(explorer.runs, trainingTasks);
  context.subscriptions.push(trainingTasks, trainingStatus);
  registerTrainingCommands(context, { log, output, webviews, runs: explorer.runs, tasks: trainingTasks, status: trainingStatus });
  registerCheckEnvironmentCommand(context, { log, keys });
  const setup = registerSetupCommands(context, { log, extensionPath: context.extensionPath });
  registerEngineInfo(context, { log, keys, output, setup, runs: explorer.runs });
  // The Reason RM: training runs and servers as tasks of their own type.
  const rmTasks = new TrainingTasks(RM_TASK_TYPE);
  context.subscriptions.push(rmTasks);
  registerRmCommands(context, { log, webviews, runs: explorer.runs, dataFiles: explorer.dataFiles, tasks: rmTasks, rmScores });
  registerGroupsBuildCommand(context, { log });
  registerReportAndTests(context, { log, keys, active, runs: explorer.runs, webviews });
  log(`TraceLift ${ENGINE_VERSION} activated${vscode.workspace.isTrusted ? '' : ' (restricted mode: evals need a trusted workspace)'}`);
}

export function deactivate(): void {}
