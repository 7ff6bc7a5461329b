/**
 * The Reason RM from the editor:
 *   Train Reason RM…   groups files of the workspace + an RM recipe → `tracelift
 *                      rm train` as a VS Code task; its run (run_kind rm_train,
 *                      loss and dev metrics per step) shows in the runs tree and
 *                      run view like any other run;
 *   Start RM Server…   an RM (a finished RM training run, or a folder) →
 *                      `tracelift rm serve` on a free loopback port as a task;
 *                      once /health answers, its URL can become this
 *                      workspace's tracelift.rmUrl, so evals score with it;
 *   Stop RM Server     SIGINT to the server's task.
 * Both run the extension's CLI bundle with the host's Node (no shell).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { offerTrainingSetup } from './setup';
import { looksLikeGroupsFile } from '../../engine/groups';
import { scoreGroupsFile } from '../../engine/rm/groupScores';
import { safeLine } from '../../shared/safeText';
import type { DataFileIndex } from '../services/dataFiles';
import type { RunsModel } from '../services/runsModel';
import type { RmGroupScoreIndex } from '../services/rmGroupScores';
import { readSettings } from '../services/settings';
import { trainEnv } from '../services/trainingLaunch';
import type { TrainingTasks } from '../services/trainingTasks';
import type { WebviewApi } from '../views/webviewApi';

export interface RmCommandDeps {
  log: (line: string) => void;
  webviews: WebviewApi;
  runs: RunsModel;
  dataFiles: DataFileIndex;
  /** Tasks of type tracelift-rm: RM training runs keyed by run directory, servers by model directory. */
  tasks: TrainingTasks;
  rmScores: RmGroupScoreIndex;
}

/** Scoring URLs of the RM servers this window started, by model directory. */
const servedUrls = new Map<string, string>();

type Item<T> = vscode.QuickPickItem & { value: T };

const RM_CONFIG_FILE = 'rm_config.json';
/** How long Start RM Server waits for the model to load and /health to answer. */
const SERVER_WAIT_MS = 5 * 60_000;

function workspaceFolder(): string | undefined {
  return (vscode.workspace.workspaceFolders ?? []).find((f) => f.uri.scheme === 'file')?.uri.fsPath;
}

function cliScript(context: vscode.ExtensionContext): string | null {
  const script = path.join(context.extensionPath, 'dist', 'cli.js');
  if (fs.existsSync(script)) return script;
  void vscode.window.showErrorMessage(`TraceLift: the CLI is missing at ${safeLine(script, 200)} (build the extension: npm run build).`);
  return null;
}

/** The RM a directory holds: itself, or an `rm train` run's model/. */
export function rmModelDirOf(dir: string): string | null {
  if (fs.existsSync(path.join(dir, RM_CONFIG_FILE))) return dir;
  const model = path.join(dir, 'model');
  return fs.existsSync(path.join(model, RM_CONFIG_FILE)) ? model : null;
}

/** RM recipes: the workspace's recipes/rm/ first, then the extension's. */
function rmRecipes(context: vscode.ExtensionContext): { file: string; origin: string }[] {
  const dirs = [workspaceFolder(), context.extensionPath].filter((d): d is string => !!d).map((d) => path.join(d, 'recipes', 'rm'));
  const seen = new Set<string>();
  const out: { file: string; origin: string }[] = [];
  for (const [i, dir] of dirs.entries()) {
    if (!fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.json'))) {
      const file = path.join(dir, name);
      if (seen.has(fs.realpathSync(file))) continue;
      seen.add(fs.realpathSync(file));
      out.push({ file, origin: i === 0 && dirs.length > 1 ? 'workspace' : 'TraceLift' });
    }
  }
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

// ------------------------------------------------------------------ train

async function trainRm(context: vscode.ExtensionContext, deps: RmCommandDeps, arg?: unknown): Promise<void> {
  const folder = workspaceFolder();
  if (!folder) {
    void vscode.window.showErrorMessage('TraceLift: open a folder first: the RM training run is written into it.');
    return;
  }
  if (!(await offerTrainingSetup())) return; // RM training runs on torch, transformers and peft
  const script = cliScript(context);
  if (!script) return;
  // Groups files: the one a menu passed, else a pick among the workspace's.
  let groups: string[];
  const fromMenu =
    arg instanceof vscode.Uri
      ? arg.fsPath
      : arg && typeof arg === 'object' && 'entry' in arg
        ? (arg as { entry: { fsPath: string } }).entry.fsPath
        : null;
  if (fromMenu) groups = [fromMenu];
  else {
    const found = deps.dataFiles.entries(['groups']);
    if (!found.length) {
      void vscode.window.showErrorMessage(
        'TraceLift: no TraceLift-Groups file in this workspace. Build one with `tracelift groups build` (docs/groups.md).',
      );
      return;
    }
    const picked = await vscode.window.showQuickPick<Item<string>>(
      found.map((e) => ({ label: safeLine(e.rel, 120), description: `${(e.size / 1024).toFixed(0)} KiB`, value: e.fsPath })),
      { title: 'TraceLift: Train Reason RM — groups files to train on', canPickMany: true },
    );
    if (!picked?.length) return;
    groups = picked.map((p) => p.value);
  }
  const recipes = rmRecipes(context);
  const recipe =
    recipes.length <= 1
      ? recipes[0]
      : (
          await vscode.window.showQuickPick<Item<{ file: string; origin: string }>>(
            recipes.map((r) => ({ label: path.basename(r.file, '.json'), description: r.origin, value: r })),
            { title: 'TraceLift: Train Reason RM — recipe', placeHolder: 'cpu-smollm2: the embedded CPU default' },
          )
        )?.value;
  if (!recipe) {
    if (!recipes.length) void vscode.window.showErrorMessage('TraceLift: no RM recipe found (recipes/rm/*.json).');
    return;
  }
  const runDir = path.join(folder, '.tracelift', 'runs', `rm-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const settings = readSettings();
  const args = [script, 'rm', 'train', '--recipe', recipe.file, '--groups', ...groups, '--out', runDir];
  if (settings.pythonPath) args.push('--python', settings.pythonPath);
  deps.log(`starting the RM training task: ${[process.execPath, ...args].join(' ')}`);
  await deps.tasks.start({
    runDir,
    name: `rm train ${path.basename(runDir)}`,
    command: process.execPath,
    args,
    env: trainEnv(settings),
    cwd: folder,
  });
  deps.runs.refresh();
  // The run view once the trainer wrote the run's first event.
  const until = Date.now() + 10 * 60_000;
  while (!fs.existsSync(path.join(runDir, 'events.jsonl'))) {
    if (Date.now() > until || !deps.tasks.get(runDir)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  deps.runs.refresh();
  deps.webviews.openRunView(runDir);
}

// ------------------------------------------------------------------ serve

async function pickRm(deps: RmCommandDeps, arg?: unknown): Promise<string | undefined> {
  if (arg instanceof vscode.Uri) return rmModelDirOf(arg.fsPath) ?? undefined;
  if (arg && typeof arg === 'object' && 'run' in arg) {
    const dir = (arg as { run: { dir: string } }).run.dir;
    return rmModelDirOf(dir) ?? undefined;
  }
  const trained = deps.runs
    .runs()
    .filter((r) => r.kind === 'rm_train' && !r.live)
    .map((r) => ({ run: r, model: rmModelDirOf(r.dir) }))
    .filter((x): x is { run: (typeof x)['run']; model: string } => x.model !== null);
  const BROWSE = '';
  const chosen = await vscode.window.showQuickPick<Item<string>>(
    [
      ...trained.map((t) => ({
        label: safeLine(path.basename(t.run.dir), 120),
        description: t.run.status,
        detail: safeLine(t.model, 200),
        value: t.model,
      })),
      { label: '$(folder) Choose an RM folder…', value: BROWSE },
    ],
    { title: 'TraceLift: Start RM Server — which Reason RM?' },
  );
  if (!chosen) return undefined;
  if (chosen.value !== BROWSE) return chosen.value;
  const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Serve this RM' });
  if (!picked?.[0]) return undefined;
  const dir = rmModelDirOf(picked[0].fsPath);
  if (!dir) void vscode.window.showErrorMessage(`TraceLift: ${safeLine(picked[0].fsPath, 200)} holds no Reason RM (no ${RM_CONFIG_FILE}).`);
  return dir ?? undefined;
}

async function waitForHealth(baseUrl: string, alive: () => boolean, token: vscode.CancellationToken): Promise<boolean> {
  const until = Date.now() + SERVER_WAIT_MS;
  while (Date.now() < until && alive() && !token.isCancellationRequested) {
    try {
      const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

async function startRmServer(context: vscode.ExtensionContext, deps: RmCommandDeps, arg?: unknown): Promise<void> {
  const script = cliScript(context);
  if (!script) return;
  const modelDir = await pickRm(deps, arg);
  if (!modelDir) return;
  if (!(await offerTrainingSetup())) return; // the RM is served by torch and transformers
  if (deps.tasks.get(modelDir)) {
    void vscode.window.showInformationMessage(`TraceLift: an RM server of this window already serves ${safeLine(modelDir, 200)}.`);
    return;
  }
  const port = await freePort();
  const settings = readSettings();
  const args = [script, 'rm', 'serve', '--model', modelDir, '--host', '127.0.0.1', '--port', String(port)];
  if (settings.pythonPath) args.push('--python', settings.pythonPath);
  deps.log(`starting the RM server task: ${[process.execPath, ...args].join(' ')}`);
  await deps.tasks.start({
    runDir: modelDir,
    name: `rm serve ${path.basename(path.dirname(modelDir))}`,
    command: process.execPath,
    args,
    env: trainEnv(settings),
    cwd: workspaceFolder(),
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const ready = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'TraceLift: loading the Reason RM…', cancellable: true },
    (_p, token) => waitForHealth(baseUrl, () => !!deps.tasks.get(modelDir), token),
  );
  if (!ready) {
    if (deps.tasks.get(modelDir)) return; // cancelled while loading: the task keeps running, its terminal shows it
    void vscode.window.showErrorMessage('TraceLift: the RM server ended before it answered; its terminal says why.');
    return;
  }
  const scoreUrl = `${baseUrl}/score`;
  servedUrls.set(modelDir, scoreUrl);
  void deps.tasks.get(modelDir)?.ended.then(() => servedUrls.delete(modelDir));
  const USE = 'Use for Evals in This Workspace';
  const choice = await vscode.window.showInformationMessage(`TraceLift: Reason RM server ready at ${scoreUrl}`, USE, 'Copy URL');
  if (choice === USE) {
    await vscode.workspace.getConfiguration('tracelift').update('rmUrl', scoreUrl, vscode.ConfigurationTarget.Workspace);
    void vscode.window.showInformationMessage(`TraceLift: tracelift.rmUrl = ${scoreUrl} (this workspace); evals now score with this RM.`);
  } else if (choice === 'Copy URL') await vscode.env.clipboard.writeText(scoreUrl);
}

async function stopRmServer(deps: RmCommandDeps): Promise<void> {
  const servers = deps.tasks.running().filter((t) => t.name.startsWith('rm serve'));
  if (!servers.length) {
    void vscode.window.showInformationMessage('TraceLift: no RM server of this window is running.');
    return;
  }
  const target =
    servers.length === 1
      ? servers[0]
      : (
          await vscode.window.showQuickPick(
            servers.map((t) => ({ label: safeLine(t.name, 120), description: safeLine(t.runDir, 200), value: t })),
            { title: 'TraceLift: Stop RM Server — which?' },
          )
        )?.value;
  if (!target) return;
  if (!deps.tasks.stop(target)) target.execution?.terminate();
}

// ------------------------------------------------------------------ score a groups file

function groupsFileOf(arg: unknown): string | null {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (arg && typeof arg === 'object' && 'entry' in arg) return (arg as { entry: { fsPath: string } }).entry.fsPath;
  const doc = vscode.window.activeTextEditor?.document;
  return doc?.uri.scheme === 'file' && looksLikeGroupsFile(doc.uri.fsPath) ? doc.uri.fsPath : null;
}

async function pickRmEndpoint(): Promise<string | undefined> {
  const configured = readSettings().rmUrl;
  const items: Item<string>[] = [
    ...[...servedUrls].map(([dir, url]) => ({
      label: url,
      description: 'RM server of this window',
      detail: safeLine(dir, 200),
      value: url,
    })),
    ...(configured ? [{ label: safeLine(configured, 200), description: 'tracelift.rmUrl', value: configured }] : []),
    { label: '$(edit) Enter a scoring URL…', value: '' },
  ];
  const chosen =
    items.length === 1 ? items[0] : await vscode.window.showQuickPick(items, { title: 'TraceLift: Score Groups File with RM — which RM?' });
  if (!chosen) return undefined;
  if (chosen.value) return chosen.value;
  return vscode.window.showInputBox({
    title: 'TraceLift: Reason RM scoring URL (official /score protocol)',
    placeHolder: 'http://127.0.0.1:8001/score',
    validateInput: (v) => {
      try {
        const u = new URL(v);
        return u.protocol === 'http:' || u.protocol === 'https:' ? null : 'an http(s) URL';
      } catch {
        return 'not a URL';
      }
    },
  });
}

async function scoreGroupsWithRm(deps: RmCommandDeps, arg?: unknown): Promise<void> {
  let file = groupsFileOf(arg);
  if (!file) {
    const found = deps.dataFiles.entries(['groups']);
    const picked = await vscode.window.showQuickPick<Item<string>>(
      found.map((e) => ({ label: safeLine(e.rel, 120), value: e.fsPath })),
      { title: 'TraceLift: Score Groups File with RM — which groups file?' },
    );
    file = picked?.value ?? null;
  }
  if (!file) return;
  const url = await pickRmEndpoint();
  if (!url) return;
  const groupsFile = file;
  const controller = new AbortController();
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `TraceLift: RM scoring ${path.basename(groupsFile)}`, cancellable: true },
      (progress, token) => {
        token.onCancellationRequested(() => controller.abort());
        let last = 0;
        return scoreGroupsFile({
          groupsFile,
          scoresDir: deps.rmScores.scoresDir(groupsFile),
          endpoint: { url, apiKey: null },
          rmName: url,
          signal: controller.signal,
          onProgress: ({ scored, total }) => {
            const pct = total ? (100 * scored) / total : 100;
            progress.report({ message: `${scored}/${total} traces`, increment: pct - last });
            last = pct;
          },
        });
      },
    );
    deps.rmScores.invalidate();
    await vscode.window.showTextDocument(vscode.Uri.file(groupsFile), { preview: false });
    void vscode.window.showInformationMessage(
      `TraceLift: ${controller.signal.aborted ? 'stopped — ' : ''}${result.scored} traces scored (${result.skipped} already were); each record now shows RM vs gold totals.`,
    );
  } catch (err) {
    deps.rmScores.invalidate(); // what was scored before the failure is kept and shown
    if (controller.signal.aborted) return;
    void vscode.window.showErrorMessage(`TraceLift: RM scoring failed: ${safeLine((err as Error).message, 400)}`);
  }
}

export function registerRmCommands(context: vscode.ExtensionContext, deps: RmCommandDeps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('tracelift.trainRm', (arg?: unknown) => trainRm(context, deps, arg)),
    vscode.commands.registerCommand('tracelift.startRmServer', (arg?: unknown) => startRmServer(context, deps, arg)),
    vscode.commands.registerCommand('tracelift.stopRmServer', () => stopRmServer(deps)),
    vscode.commands.registerCommand('tracelift.scoreGroupsWithRm', (arg?: unknown) => scoreGroupsWithRm(deps, arg)),
    deps.tasks.onDidEnd((e) => {
      deps.runs.refresh();
      if (e.name.startsWith('rm train')) {
        const name = safeLine(path.basename(e.runDir), 80);
        if (e.exitCode === 0) void vscode.window.showInformationMessage(`TraceLift: RM training ${name} completed.`);
        else if (e.exitCode === 130) void vscode.window.showInformationMessage(`TraceLift: RM training ${name} stopped.`);
        else void vscode.window.showErrorMessage(`TraceLift: RM training ${name} failed — its terminal says why.`);
      }
    }),
  );
}
