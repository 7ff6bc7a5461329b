/**
 * *TraceLift: Set Up Embedded Executor* and *TraceLift: Download Benchmark
 * Data*: the engine's own set-up (src/engine/setup, the code behind
 * `tracelift setup`) into the extension's global storage, and its data fetch
 * (src/engine/data) into the folder the task loader reads — each with a
 * cancellable progress notification naming the step, a log, and a message
 * that says what to do when it fails. The eval flow asks `offerEmbeddedSetup`
 * before it needs an interpreter or the model.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { PythonExtension } from '@vscode/python-extension';
import { DataChecksumError, DataDownloadError, DataFetchCancelledError, type FetchProgress } from '../../engine/data/fetch';
import { dataStatus, fetchTaskData, sourcesForTasks } from '../../engine/data/taskData';
import { SetupCancelledError } from '../../engine/setup/commandRunner';
import { runPythonSetup, type SetupProgress } from '../../engine/setup/pythonSetup';
import { findOnPath, MissingSystemPackageError } from '../../engine/setup/systemPackages';
import { listTasks } from '../../engine/tasks/registry';
import { safeLine } from '../../shared/safeText';
import { PYTHON_ENV, pythonPathFor } from '../../engine/util/python';
import { dataDownloadDir, embeddedExecutorGaps, managedHasTraining, managedPaths, managedPython } from '../services/managedEnv';
import { onSettingsChanged, openSettings, readSettings, SECTION, type TraceLiftSettings } from '../services/settings';
import { EMBEDDED_MODEL_ENV } from '../services/trainingLaunch';

export const SETUP_EXECUTOR_COMMAND = 'tracelift.setupExecutor';
export const DOWNLOAD_DATA_COMMAND = 'tracelift.downloadData';
/** Context keys the walkthrough's steps complete on (set once the thing is really there). */
export const EXECUTOR_READY_CONTEXT = 'tracelift.executorReady';
export const DATA_READY_CONTEXT = 'tracelift.dataReady';
/** The mirror the download uses instead of the published URLs (as `tracelift data fetch` reads it). */
export const DATA_MIRROR_ENV = 'TRACELIFT_DATA_MIRROR';
const PYTHON_EXTENSION_ID = 'ms-python.python';

/** What the training stack weighs: PyPI's torch for Linux x86_64 is the CUDA build, with its nvidia-* packages. */
const TRAINING_STACK_SIZE = 'about 1 GB with a CPU build of torch, several GB with the CUDA build PyPI serves on Linux';

/** Arguments the commands take when run from a button (the doctor view, the walkthrough) rather than the palette. */
export interface SetupArgs {
  withTraining?: boolean;
  basePython?: string;
}
export interface DownloadArgs {
  tasks?: string[];
}

export interface SetupCommandsDeps {
  log: (line: string) => void;
  /** The extension's folder: backend/requirements*.txt ship in it. */
  extensionPath: string;
}

export interface SetupCommands {
  /** Fires after a set-up or a download ended (successfully or not): views re-check. */
  readonly onDidChange: vscode.Event<void>;
  runSetup(args?: SetupArgs): Promise<boolean>;
  downloadData(args?: DownloadArgs): Promise<boolean>;
  /** Re-reads what is there and sets the walkthrough's context keys. */
  refreshContext(): Promise<void>;
}

let instance: SetupCommands | null = null;

/**
 * A setting or an environment variable that names a Python (or a model) wins over the managed
 * environment; when the one it names is missing, the set-up cannot help: the user is told which.
 */
function brokenOverrides(settings: TraceLiftSettings): string[] {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const out: string[] = [];
  const python = pythonPathFor(settings.pythonPath);
  if (!fs.existsSync(python)) {
    if (cfg.get<string>('pythonPath')?.trim()) out.push(`tracelift.pythonPath names ${python}, which is not there`);
    else if (process.env[PYTHON_ENV]?.trim()) out.push(`$${PYTHON_ENV} names ${python}, which is not there`);
  }
  const modelSetting = cfg.get<string>('embeddedModelPath')?.trim();
  const modelEnv = process.env[EMBEDDED_MODEL_ENV]?.trim();
  // The setting as the engine reads it (relative to the workspace, ~ expanded), not as typed.
  const model = modelSetting ? (settings.embeddedModelPath ?? modelSetting) : modelEnv;
  if (model && !fs.existsSync(model)) {
    out.push(`${modelSetting ? 'tracelift.embeddedModelPath' : `$${EMBEDDED_MODEL_ENV}`} names ${model}, which is not there`);
  }
  return out;
}

/** Says which setting or variable stands in the set-up's way; false (the run does not start). */
async function reportOverrides(broken: string[]): Promise<false> {
  const open = 'Open Settings';
  const choice = await vscode.window.showErrorMessage(
    `TraceLift: ${safeLine(broken.join('; '), 400)}. Fix it, or clear it to use the environment TraceLift sets up itself.`,
    open,
  );
  if (choice === open) await openSettings('pythonPath');
  return false;
}

const executorGapsNow = () => {
  const settings = readSettings();
  return embeddedExecutorGaps(settings.pythonPath, settings.embeddedModelPath);
};

interface SetupOffer {
  /** Whether what the run needs is there: checked before, and again after a set-up. */
  ready: () => boolean;
  message: () => string;
  withTraining?: boolean;
  /** A second answer besides the set-up, and what it does (the run does not start). */
  alternative?: { label: string; run: () => Thenable<unknown> };
}

/**
 * The one shape of every offer: nothing to do when ready; a setting or variable in the way is named
 * (the set-up cannot help); else a modal question, and the set-up when accepted. False: do not start.
 */
async function offerSetup(offer: SetupOffer): Promise<boolean> {
  if (offer.ready()) return true;
  const broken = brokenOverrides(readSettings());
  if (broken.length) return reportOverrides(broken);
  const setUp = 'Set Up Now';
  const answers = offer.alternative ? [setUp, offer.alternative.label] : [setUp];
  const choice = await vscode.window.showWarningMessage(offer.message(), { modal: true }, ...answers);
  if (offer.alternative && choice === offer.alternative.label) {
    await offer.alternative.run();
    return false;
  }
  if (choice !== setUp || !instance) return false;
  // Checked again, not taken from the answer: a set-up already running answers for itself.
  return (await instance.runSetup({ withTraining: offer.withTraining })) && offer.ready();
}

/** Before a run that needs the embedded executor: true when it is there, else offers the set-up. */
export function offerEmbeddedSetup(): Promise<boolean> {
  return offerSetup({
    ready: () => executorGapsNow().length === 0,
    message: () =>
      `TraceLift: the embedded executor is not set up here (${executorGapsNow().join('; ')}). Set it up now? It creates a Python ` +
      'environment in the extension storage and fetches a 100 MB model (a few minutes).',
    alternative: { label: 'Use an Endpoint Instead', run: () => openSettings('executor.url') },
  });
}

/**
 * Before a run that needs the engine's Python without the embedded executor (an endpoint's eval of
 * MATH-500, whose answers math-verify checks): true when that Python is there, else offers the set-up.
 */
export function offerPythonSetup(why: string): Promise<boolean> {
  return offerSetup({
    ready: () => fs.existsSync(pythonPathFor(readSettings().pythonPath)),
    message: () => `TraceLift: ${why} needs TraceLift's Python environment, which is not set up here. Set it up now? (a few minutes)`,
  });
}

/**
 * Before a training run: true when the Python it will use can train — a Python of the user's (or the
 * repository's .venv) is taken as it is, the doctor says what it lacks; the managed environment must
 * have been set up with the training stack. Else offers that set-up.
 */
export function offerTrainingSetup(): Promise<boolean> {
  return offerSetup({
    ready: () => {
      const python = pythonPathFor(readSettings().pythonPath);
      const managed = managedPython();
      return managed !== null && python === managed ? managedHasTraining() : fs.existsSync(python);
    },
    message: () =>
      managedPython()
        ? `TraceLift: training needs torch, TRL, transformers and peft, which TraceLift's environment does not have yet. Add them now? (${TRAINING_STACK_SIZE}, a few minutes)`
        : `TraceLift: training needs a Python environment with torch, TRL, transformers and peft. Set it up now in the extension storage? (${TRAINING_STACK_SIZE}, a few minutes)`,
    withTraining: true,
  });
}

/** Offers the download when a task's files are missing; true when they are there afterwards. */
export async function offerDataDownload(task: string): Promise<boolean> {
  const download = 'Download';
  const choice = await vscode.window.showWarningMessage(
    `TraceLift: the ${task} benchmark files are not here yet. Download them from their published source (checked against pinned sha256 sums)?`,
    { modal: true },
    download,
  );
  if (choice !== download || !instance) return false;
  if (!(await instance.downloadData({ tasks: [task] }))) return false;
  // Checked again: a download already running (of other tasks) answers for itself.
  return (await dataStatus(readSettings().dataDir)).tasks.some((t) => t.task === task && t.ready);
}

interface InterpreterItem extends vscode.QuickPickItem {
  python: string;
}

/** The Python extension's interpreters (when it is installed), then python3 on PATH. */
async function interpreterChoices(log: (line: string) => void): Promise<InterpreterItem[]> {
  const items: InterpreterItem[] = [];
  if (vscode.extensions.getExtension(PYTHON_EXTENSION_ID)) {
    try {
      const api = await PythonExtension.api();
      for (const env of api.environments.known) {
        const exe = env.executable.uri?.fsPath;
        const v = env.version;
        if (!exe || (v?.major !== undefined && (v.major < 3 || (v.major === 3 && (v.minor ?? 0) < 10)))) continue;
        items.push({
          label: env.environment?.name ?? path.basename(path.dirname(path.dirname(exe))),
          description: v?.major !== undefined ? `Python ${v.major}.${v.minor ?? '?'}` : undefined,
          detail: exe,
          python: exe,
        });
      }
    } catch (err) {
      log(`set-up: the Python extension's interpreters are not available: ${(err as Error).message}`);
    }
  }
  const onPath = findOnPath('python3') ?? findOnPath('python');
  if (onPath && !items.some((i) => i.python === onPath)) {
    items.unshift({ label: 'python3 on PATH', detail: onPath, python: onPath });
  }
  return items;
}

function stepMessage(e: SetupProgress): string {
  const head = `(${e.index}/${e.count}) ${e.title}`;
  return e.detail && e.state === 'running' ? `${head} — ${safeLine(e.detail, 100)}` : head;
}

function formatBytes(n: number): string {
  return n >= 1024 ** 2 ? `${(n / 1024 ** 2).toFixed(1)} MB` : `${Math.ceil(n / 1024)} kB`;
}

export function registerSetupCommands(context: vscode.ExtensionContext, deps: SetupCommandsDeps): SetupCommands {
  const channel = vscode.window.createOutputChannel('TraceLift Set-up');
  const changed = new vscode.EventEmitter<void>();
  context.subscriptions.push(channel, changed);

  const refreshContext = async () => {
    const settings = readSettings();
    const executorReady = embeddedExecutorGaps(settings.pythonPath, settings.embeddedModelPath).length === 0;
    let dataReady = false;
    try {
      dataReady = (await dataStatus(settings.dataDir)).tasks.some((t) => t.ready);
    } catch (err) {
      deps.log(`data status: ${(err as Error).message}`);
    }
    deps.log(`walkthrough: executor ${executorReady ? 'ready' : 'not set up'}, data ${dataReady ? 'here' : 'not here'}`);
    await vscode.commands.executeCommand('setContext', EXECUTOR_READY_CONTEXT, executorReady);
    await vscode.commands.executeCommand('setContext', DATA_READY_CONTEXT, dataReady);
  };

  const setup = async (args: SetupArgs = {}): Promise<boolean> => {
    const paths = managedPaths();
    if (!paths) throw new Error('the extension has no global storage folder');
    let basePython = args.basePython;
    if (!basePython) {
      const choices = await interpreterChoices(deps.log);
      if (choices.length === 0) {
        void vscode.window.showErrorMessage(
          'TraceLift: no Python 3.10+ found (python3 is not on PATH and the Python extension lists none). Install Python 3, then run the set-up again.',
        );
        return false;
      }
      const picked =
        choices.length === 1
          ? choices[0]
          : await vscode.window.showQuickPick(choices, {
              title: 'TraceLift set-up: the Python to build the environment from',
              ignoreFocusOut: true,
            });
      if (!picked) return false;
      basePython = picked.python;
    }
    // A run into an environment that exists (adding the training stack) cannot take it away again on failure.
    const existed = fs.existsSync(paths.envDir);
    fs.mkdirSync(paths.workDir, { recursive: true });
    channel.appendLine(`=== ${new Date().toISOString()} set-up into ${paths.envDir} from ${basePython}`);
    const started = Date.now();
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'TraceLift: setting up the embedded executor', cancellable: true },
        async (progress, token) => {
          const abort = new AbortController();
          const sub = token.onCancellationRequested(() => abort.abort());
          let lastStep = '';
          try {
            return await runPythonSetup({
              envDir: paths.envDir,
              basePython,
              requirementsDir: path.join(deps.extensionPath, 'backend'),
              workDir: paths.workDir,
              logFile: paths.logFile,
              modelDir: paths.modelDir,
              withTraining: args.withTraining === true,
              signal: abort.signal,
              onProgress: (e) => {
                if (e.state === 'running' && e.detail === undefined) channel.appendLine(`--- ${e.title}`);
                else if (e.detail) channel.appendLine(`${e.state === 'running' ? '    ' : `${e.state}: `}${e.detail}`);
                if (e.state === 'running') {
                  const message = stepMessage(e);
                  if (message !== lastStep) progress.report({ message });
                  lastStep = message;
                }
              },
            });
          } finally {
            sub.dispose();
          }
        },
      );
      const seconds = Math.round((Date.now() - started) / 1000);
      channel.appendLine(`ready in ${seconds} s: ${result.python}; model ${result.modelPath ?? '(none)'}`);
      deps.log(`set-up finished in ${seconds} s: ${result.python}`);
      void vscode.window.showInformationMessage(
        `TraceLift: the embedded executor is set up (${seconds} s)${args.withTraining ? ', with the training stack' : ''}. Evals find it without a setting.`,
      );
      return true;
    } catch (err) {
      // Not awaited: the message's buttons wait for the user, and a retry must not wait for them.
      void reportSetupError(err, paths.logFile, channel, existed);
      return false;
    } finally {
      changed.fire();
      await refreshContext();
    }
  };

  const download = async (args: DownloadArgs = {}): Promise<boolean> => {
    const settings = readSettings();
    let tasks = args.tasks;
    if (!tasks || tasks.length === 0) {
      const status = await dataStatus(settings.dataDir);
      const items = status.tasks.map((t) => {
        const bytes = sourcesForTasks([t.task]).reduce((n, s) => n + s.size, 0);
        return {
          label: t.task,
          description: t.ready ? 'already here' : formatBytes(bytes),
          detail: listTasks().find((m) => m.name === t.task)?.description,
          picked: !t.ready && t.task === 'gsm8k',
        };
      });
      const picked = await vscode.window.showQuickPick(items, {
        title: 'TraceLift: benchmarks to download',
        canPickMany: true,
        ignoreFocusOut: true,
      });
      if (!picked || picked.length === 0) return false;
      tasks = picked.map((p) => p.label);
    }
    const dataDir = dataDownloadDir(settings.dataDir);
    const mirror = process.env[DATA_MIRROR_ENV]?.trim() || undefined;
    const total = sourcesForTasks(tasks).reduce((n, s) => n + s.size, 0);
    channel.appendLine(`=== ${new Date().toISOString()} download ${tasks.join(', ')} into ${dataDir}${mirror ? ` from ${mirror}` : ''}`);
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'TraceLift: downloading benchmark data', cancellable: true },
        async (progress, token) => {
          const abort = new AbortController();
          const sub = token.onCancellationRequested(() => abort.abort());
          const perFile = new Map<string, number>();
          let reported = 0;
          const onProgress = (p: FetchProgress) => {
            perFile.set(p.path, p.received);
            const sum = [...perFile.values()].reduce((a, b) => a + b, 0);
            const pct = total ? (100 * sum) / total : 0;
            const what = p.phase === 'verifying' ? 'checking' : p.phase === 'present' ? 'already here' : p.phase;
            progress.report({ message: `${p.path} (${what}) — ${formatBytes(sum)} of ${formatBytes(total)}`, increment: pct - reported });
            reported = pct;
            if (p.phase === 'done' || p.phase === 'present')
              channel.appendLine(`${p.path}: ${what === 'done' ? 'downloaded, sha256 ok' : what}`);
          };
          try {
            return await fetchTaskData({ tasks, dataDir, mirror, signal: abort.signal, onProgress, log: (l) => channel.appendLine(l) });
          } finally {
            sub.dispose();
          }
        },
      );
      deps.log(`data: ${result.files.length} file(s) in ${result.dataDir}`);
      void vscode.window.showInformationMessage(
        `TraceLift: ${tasks.join(', ')} ready (${result.files.length} file(s) in ${result.dataDir}).`,
      );
      return true;
    } catch (err) {
      void reportDownloadError(err, dataDir, channel);
      return false;
    } finally {
      changed.fire();
      await refreshContext();
    }
  };

  // One set-up and one download at a time (each its own): a second request of the same kind waits
  // for the running one's answer, which the callers check again against what they need.
  const once = <A>(what: string, fn: (a?: A) => Promise<boolean>) => {
    let busy: Promise<boolean> | null = null;
    return (a?: A): Promise<boolean> => {
      if (busy) {
        void vscode.window.showInformationMessage(`TraceLift: a ${what} is already running.`);
        return busy;
      }
      busy = fn(a).finally(() => (busy = null));
      return busy;
    };
  };
  const api: SetupCommands = {
    onDidChange: changed.event,
    runSetup: once('set-up', setup),
    downloadData: once('download', download),
    refreshContext,
  };
  instance = api;
  context.subscriptions.push(
    vscode.commands.registerCommand(SETUP_EXECUTOR_COMMAND, async (args?: SetupArgs) => {
      let opts = args;
      if (!opts) {
        const choice = await vscode.window.showQuickPick(
          [
            {
              label: 'Embedded executor',
              detail: 'The llama.cpp server, math-verify and the embedded model: evals on this machine.',
              training: false,
            },
            {
              label: 'Embedded executor and CPU training',
              detail: `Also torch, TRL, transformers and peft: ${TRAINING_STACK_SIZE}.`,
              training: true,
            },
          ],
          { title: 'TraceLift: set up', ignoreFocusOut: true },
        );
        if (!choice) return false;
        opts = { withTraining: choice.training };
      }
      return api.runSetup(opts);
    }),
    vscode.commands.registerCommand(DOWNLOAD_DATA_COMMAND, (args?: DownloadArgs) => api.downloadData(args)),
    vscode.commands.registerCommand('tracelift.showSetupLog', () => channel.show(true)),
  );
  context.subscriptions.push(
    { dispose: () => (instance = null) },
    // A Python, model or data folder named (or cleared) in the settings changes what is there.
    onSettingsChanged(() => {
      void refreshContext();
      changed.fire();
    }),
  );
  void refreshContext();
  return api;
}

async function reportSetupError(err: unknown, logFile: string, channel: vscode.OutputChannel, existed: boolean): Promise<void> {
  const message = (err as Error).message;
  channel.appendLine(message);
  if (err instanceof SetupCancelledError) {
    void vscode.window.showInformationMessage(
      existed
        ? 'TraceLift: set-up cancelled. The environment from before is kept; packages this run was installing may be partly there: run the set-up again to complete them.'
        : 'TraceLift: set-up cancelled. The environment it had started was removed; built wheels stay for the next try.',
    );
    return;
  }
  const showLog = 'Show Log';
  if (err instanceof MissingSystemPackageError) {
    const install = 'Install in Terminal';
    const choice = await vscode.window.showErrorMessage(
      `TraceLift: ${safeLine(message.replace(/\n\s*/g, ' '), 500)}`,
      ...(err.installCommand ? [install] : []),
      showLog,
    );
    if (choice === install && err.installCommand) {
      const term = vscode.window.createTerminal('TraceLift: system packages');
      term.show();
      // Typed, not run: the user reads the sudo command and presses Enter.
      term.sendText(err.installCommand, false);
    } else if (choice === showLog) channel.show(true);
    return;
  }
  const choice = await vscode.window.showErrorMessage(
    `TraceLift: the set-up failed — ${safeLine(message.split('\n')[0] ?? message, 300)} ${
      existed
        ? 'The environment from before is kept and still works for what it did; run the set-up again to complete it.'
        : 'The environment it had started was removed.'
    } (log: ${logFile})`,
    showLog,
  );
  if (choice === showLog) channel.show(true);
}

async function reportDownloadError(err: unknown, dataDir: string, channel: vscode.OutputChannel): Promise<void> {
  const message = (err as Error).message;
  channel.appendLine(message);
  if (err instanceof DataFetchCancelledError) {
    void vscode.window.showInformationMessage(`TraceLift: download cancelled. ${safeLine(message, 300)}`);
    return;
  }
  const showLog = 'Show Log';
  if (err instanceof DataDownloadError) {
    const reveal = 'Open Data Folder';
    const choice = await vscode.window.showErrorMessage(
      `TraceLift: the download failed — is this machine offline? ${safeLine(message.replace(/\n\s*/g, ' '), 600)}`,
      reveal,
      showLog,
    );
    if (choice === reveal) {
      fs.mkdirSync(dataDir, { recursive: true });
      await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(dataDir));
    } else if (choice === showLog) channel.show(true);
    return;
  }
  const kind = err instanceof DataChecksumError ? 'the file is not the published one' : 'the download failed';
  const choice = await vscode.window.showErrorMessage(`TraceLift: ${kind} — ${safeLine(message, 500)}`, showLog);
  if (choice === showLog) channel.show(true);
}
