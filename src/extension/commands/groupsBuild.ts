/**
 * *TraceLift: Build Groups…*: asks for the task, split, limit, kinds, the
 * positives (code), the perturber and judge endpoints, and a file in the
 * workspace, then runs `tracelift groups build` (the bundled CLI, no shell)
 * with a progress notification read from its `progress i/n` lines. Cancel
 * sends SIGINT: the CLI finishes the current problem and writes its summary
 * (a rerun resumes). The summary opens at the end.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CODE_NEGATIVE_KINDS, MATH_NEGATIVE_KINDS } from '../../engine/contract';
import { summaryPath } from '../../engine/groups/build';
import { listTasks } from '../../engine/tasks/registry';
import { safeLine } from '../../shared/safeText';
import { groupsBuildArgs, parseBuildProgress, type GroupsBuildChoice } from '../services/groupsBuildLine';
import { readSettings } from '../services/settings';
import { trainEnv } from '../services/trainingLaunch';

type Item<T> = vscode.QuickPickItem & { value: T };

function workspaceFolder(): string | undefined {
  return (vscode.workspace.workspaceFolders ?? []).find((f) => f.uri.scheme === 'file')?.uri.fsPath;
}

function validUrl(v: string): string | null {
  if (!v) return null;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:' ? null : 'an http(s) URL';
  } catch {
    return 'not a URL';
  }
}

/** An optional endpoint: empty URL means the default (the embedded server or the prior rubric). */
async function askEndpoint(
  role: string,
  defaultWord: string,
  model: string | null,
): Promise<{ url: string; model: string } | null | undefined> {
  const url = await vscode.window.showInputBox({
    title: `TraceLift: Build Groups — ${role} endpoint (OpenAI-compatible)`,
    prompt: `Leave empty for ${defaultWord}.`,
    placeHolder: 'http://127.0.0.1:8000/v1',
    validateInput: validUrl,
  });
  if (url === undefined) return undefined;
  if (!url) return null;
  const name = await vscode.window.showInputBox({ title: `TraceLift: Build Groups — ${role} model name`, value: model ?? '' });
  if (!name) return undefined;
  return { url, model: name };
}

async function askChoice(): Promise<GroupsBuildChoice | undefined> {
  const folder = workspaceFolder();
  if (!folder) {
    void vscode.window.showErrorMessage('TraceLift: Build Groups writes into the workspace: open a folder first.');
    return undefined;
  }
  const tasks = listTasks().filter((t) => t.kind === 'code' || t.name === 'gsm8k');
  const task = await vscode.window.showQuickPick<Item<(typeof tasks)[number]>>(
    tasks.map((t) => ({ label: t.name, description: t.kind, detail: t.description, value: t })),
    { title: 'TraceLift: Build Groups — which task?' },
  );
  if (!task) return undefined;
  const code = task.value.kind === 'code';
  const defaultSplit = code ? task.value.defaultSplit : 'train';
  const split = await vscode.window.showQuickPick(
    [defaultSplit, ...task.value.splits.filter((s) => s !== defaultSplit)].map((s) => ({ label: s })),
    { title: 'TraceLift: Build Groups — which split?' },
  );
  if (!split) return undefined;
  const limitText = await vscode.window.showInputBox({
    title: 'TraceLift: Build Groups — how many problems? (empty: all)',
    value: '200',
    validateInput: (v) => (!v || /^[1-9]\d*$/.test(v) ? null : 'a positive whole number'),
  });
  if (limitText === undefined) return undefined;
  const allKinds = Object.entries(code ? CODE_NEGATIVE_KINDS : MATH_NEGATIVE_KINDS);
  const kinds = await vscode.window.showQuickPick(
    allKinds.map(([k, what]) => ({ label: k, detail: what, picked: true })),
    { title: 'TraceLift: Build Groups — negative kinds', canPickMany: true },
  );
  if (!kinds?.length) return undefined;
  const settings = readSettings();

  let positives: string | null = null;
  let planner: { url: string; model: string } | null = null;
  if (code) {
    const from = await vscode.window.showQuickPick<Item<'file' | 'planner'>>(
      [
        { label: 'A traces file', detail: '{problem_id, trace} lines: one positive plan per problem', value: 'file' },
        { label: 'A planner', detail: 'plans written by a model, kept only when they lift the executor', value: 'planner' },
      ],
      { title: 'TraceLift: Build Groups — where do the positive plans come from?' },
    );
    if (!from) return undefined;
    if (from.value === 'file') {
      const picked = await vscode.window.showOpenDialog({
        title: 'TraceLift: Build Groups — traces file with the positives',
        defaultUri: vscode.Uri.file(folder),
        filters: { JSONL: ['jsonl'] },
      });
      if (!picked?.[0]) return undefined;
      positives = picked[0].fsPath;
    } else {
      const endpoint = await askEndpoint('planner', 'the embedded model', settings.planner.model);
      if (endpoint === undefined) return undefined;
      planner = endpoint;
    }
  }
  const needsPerturber = kinds.some((k) => k.label in CODE_NEGATIVE_KINDS || ['missing_condition', 'mismatched_units'].includes(k.label));
  const perturber = needsPerturber ? await askEndpoint('perturber (LLM kinds)', 'the embedded model', null) : null;
  if (perturber === undefined) return undefined;
  const judge = await askEndpoint('rubric judge', 'the per-kind prior rubric', settings.judge.model);
  if (judge === undefined) return undefined;
  const measure = await vscode.window.showQuickPick<Item<boolean>>(
    [
      { label: 'Do not measure', value: false },
      { label: 'Measure uplift', detail: 'score every trace on the executor (slow: K samples per trace)', value: true },
    ],
    { title: 'TraceLift: Build Groups — measure each trace’s uplift?' },
  );
  if (!measure) return undefined;
  const target = await vscode.window.showSaveDialog({
    title: 'TraceLift: Build Groups — groups file to write (an existing build resumes)',
    defaultUri: vscode.Uri.file(path.join(folder, 'groups', `${task.value.name}-${split.label}.jsonl`)),
    filters: { JSONL: ['jsonl'] },
  });
  if (!target) return undefined;
  return {
    task: task.value.name,
    split: split.label,
    limit: limitText ? Number(limitText) : null,
    kinds: kinds.length === allKinds.length ? null : kinds.map((k) => k.label),
    out: target.fsPath,
    positives,
    planner,
    perturber,
    judge,
    measure: measure.value,
  };
}

async function buildGroups(context: vscode.ExtensionContext, log: (line: string) => void): Promise<void> {
  const script = path.join(context.extensionPath, 'dist', 'cli.js');
  if (!fs.existsSync(script)) {
    void vscode.window.showErrorMessage(`TraceLift: the CLI is missing at ${safeLine(script, 200)} (build the extension: npm run build).`);
    return;
  }
  const choice = await askChoice();
  if (!choice) return;
  fs.mkdirSync(path.dirname(choice.out), { recursive: true });
  const args = groupsBuildArgs(choice);
  log(`groups build: ${args.join(' ')}`);
  const settings = readSettings();
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `TraceLift: building groups (${choice.task})`, cancellable: true },
    (progress, token) =>
      new Promise<{ code: number | null; tail: string[] }>((resolve, reject) => {
        const child = spawn(process.execPath, [script, ...args], {
          cwd: workspaceFolder(),
          env: { ...process.env, ...trainEnv(settings) },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        token.onCancellationRequested(() => child.kill('SIGINT'));
        const tail: string[] = [];
        let last = 0;
        let pending = '';
        child.stderr.setEncoding('utf8');
        child.stderr.on('data', (chunk: string) => {
          const lines = (pending + chunk).split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) {
            log(line);
            tail.push(line);
            if (tail.length > 20) tail.shift();
            const p = parseBuildProgress(line);
            if (!p) continue;
            const pct = p.total ? (100 * p.done) / p.total : 100;
            progress.report({ message: `${p.done}/${p.total} ${safeLine(p.problemId, 60)}`, increment: pct - last });
            last = pct;
          }
        });
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (chunk: string) => chunk.split('\n').forEach((l) => l && log(l)));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, tail }));
      }),
  );
  const summary = summaryPath(choice.out);
  if (fs.existsSync(summary)) await vscode.window.showTextDocument(vscode.Uri.file(summary), { preview: false });
  if (result.code === 0)
    void vscode.window.showInformationMessage(`TraceLift: groups written to ${safeLine(path.basename(choice.out), 120)}.`);
  else if (result.code === 130)
    void vscode.window.showWarningMessage('TraceLift: groups build stopped; run it again with the same file to resume.');
  else
    void vscode.window.showErrorMessage(
      `TraceLift: groups build failed: ${safeLine(
        result.tail
          .filter((l) => !l.startsWith('progress '))
          .slice(-3)
          .join(' | '),
        400,
      )}`,
    );
}

export function registerGroupsBuildCommand(context: vscode.ExtensionContext, deps: { log: (line: string) => void }): void {
  context.subscriptions.push(vscode.commands.registerCommand('tracelift.buildGroups', () => buildGroups(context, deps.log)));
}
