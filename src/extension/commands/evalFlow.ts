/**
 * "Run Eval on Workspace" and "Measure Uplift": quick picks for what to run,
 * then the engine's eval in-process (runEval) with a cancellable progress
 * notification. The run directory goes under the runs folder, the run view
 * opens on it once the run has started and fills as groups are scored.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  AUTO_REWARD_MODE,
  defaultRewardMode,
  EXEC_STYLES,
  ExecStyleSchema,
  REWARD_MODE_ENDPOINT,
  REWARD_MODES,
  RewardModeSchema,
  type ExecStyle,
  type RewardMode,
  type TaskKind,
} from '../../engine/contract';
import { defaultRunDirName, type TraceSourceRequest } from '../../engine/eval/buildConfig';
import { assembleRun, type AssembledRun } from '../../engine/eval/runComponents';
import { missingRewardEndpoint, runEval } from '../../engine/eval/runEval';
import { groupMathProblem, parseGroupLine, recordIndexAtLine, taskForGroupSource, type GroupRecord } from '../../engine/groups';
import { EVENTS_FILE } from '../../engine/run/runDir';
import { requireTaskFile, resolveDataDir } from '../../engine/tasks/dataDir';
import { getTask, listTasks } from '../../engine/tasks/registry';
import type { DataFileEntry, DataFileIndex } from '../services/dataFiles';
import { describeCounts } from '../services/detect';
import { pct, signed, type RunOrigin } from '../services/runScan';
import { writeOrigin } from '../services/measuredUplift';
import type { RunsModel } from '../services/runsModel';
import { openSettings, primaryRunsFolder, readSettings, type TraceLiftSettings } from '../services/settings';
import type { ActiveRuns } from '../services/activeRuns';
import type { ApiKeys, KeyTarget } from '../services/apiKeys';
import { probeEndpoint, stageProblemFile } from '../services/evalPrep';
import { dataFilePick } from '../views/labels';
import { offerDataDownload, offerEmbeddedSetup, offerPythonSetup } from './setup';
import { LATEX_TASKS } from '../../engine/verify/math';
import type { WebviewApi } from '../views/webviewApi';
import { safeLine } from '../../shared/safeText';

export interface EvalDeps {
  log: (line: string) => void;
  output: vscode.OutputChannel;
  webviews: WebviewApi;
  active: ActiveRuns;
  keys: ApiKeys;
  dataFiles: DataFileIndex;
  runs: RunsModel;
}

export type ProblemChoice =
  | { kind: 'task'; task: string; split: string }
  /** A benchmark file of the workspace in its published format. */
  | { kind: 'file'; file: string; task: string }
  /** A TraceLift-Groups file: its records are the problems and carry their traces. */
  | { kind: 'groups'; file: string; task: string };

export interface EvalPlan {
  problems: ProblemChoice;
  traces: TraceSourceRequest;
  executor: 'embedded' | 'endpoint';
  k: number;
  m: number;
  limit: number | null;
  /** Null: the contract's default rule (tracelift with an RM endpoint, llm_judge with a judge, else exec_only). */
  rewardMode: RewardMode | null;
  execStyle: ExecStyle;
  title: string;
  /** Measure Uplift: the one groups line to score (written into the run directory) and where it came from. */
  group?: { line: string; origin: RunOrigin };
}

const TITLE = 'TraceLift: Run Eval on Workspace';

/** Running an eval starts a model server and (code tasks) runs model-written programs: trusted workspaces only. */
export async function requireTrust(action: string): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const pick = await vscode.window.showWarningMessage(
    `TraceLift: ${action} needs a trusted workspace — it starts a local model server and runs the verifiers (for code tasks, programs the model wrote). ` +
      'Browsing runs, trace files and annotations works without trust.',
    'Manage Workspace Trust',
  );
  if (pick) void vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}

type Item<T> = vscode.QuickPickItem & { value?: T };

/**
 * Steps of the flow: problems, traces, executor, K, M, limit; then the reward
 * mode when an RM or judge endpoint gives a choice, and the exec style for code tasks.
 */
interface Steps {
  total: number;
}
function stepsFor(settings: TraceLiftSettings, kind: TaskKind | null): Steps {
  return { total: 6 + (offersRewardChoice(settings) ? 1 : 0) + (kind === 'code' ? 1 : 0) };
}
const offersRewardChoice = (settings: TraceLiftSettings) => settings.rmUrl !== null || settings.judge.url !== null;

async function pick<T>(items: Item<T>[], step: number, steps: Steps, placeHolder: string): Promise<T | undefined> {
  const chosen = await vscode.window.showQuickPick(items, {
    title: `${TITLE} (${step}/${steps.total})`,
    placeHolder,
    matchOnDescription: true,
    matchOnDetail: true,
    ignoreFocusOut: true,
  });
  return chosen?.value;
}

async function askInt(
  step: number,
  steps: Steps,
  prompt: string,
  value: number | null,
  opts: { allowEmpty?: boolean } = {},
): Promise<number | null | undefined> {
  const text = await vscode.window.showInputBox({
    title: `${TITLE} (${step}/${steps.total})`,
    prompt,
    value: value === null ? '' : String(value),
    ignoreFocusOut: true,
    validateInput: (v) => {
      if (!v.trim()) return opts.allowEmpty ? null : 'Enter a positive whole number.';
      return /^\d+$/.test(v.trim()) && Number(v) > 0 ? null : 'Enter a positive whole number.';
    },
  });
  if (text === undefined) return undefined;
  return text.trim() ? Number(text.trim()) : null;
}

function dataDirFor(settings: TraceLiftSettings): string | null {
  try {
    return settings.dataDir ?? resolveDataDir();
  } catch {
    return null;
  }
}

function taskItems(settings: TraceLiftSettings): Item<ProblemChoice>[] {
  const dataDir = dataDirFor(settings);
  const items: Item<ProblemChoice>[] = [{ label: 'Benchmarks', kind: vscode.QuickPickItemKind.Separator }];
  for (const task of listTasks()) {
    for (const split of [task.defaultSplit, ...task.splits.filter((s) => s !== task.defaultSplit)]) {
      let missing: string | null = null;
      // Not an error: picking a task whose files are not here offers their download (offerMissingSetup).
      if (!dataDir) missing = 'not downloaded yet: picking it offers the download';
      else {
        try {
          requireTaskFile(task, dataDir, split);
        } catch {
          const file = safeLine(path.join(dataDir, task.files.find((f) => f.split === split)?.path ?? ''), 120);
          missing = `not downloaded yet (${file}): picking it offers the download`;
        }
      }
      items.push({
        label: `${task.name} / ${split}`,
        description: missing ? `$(warning) ${missing}` : task.kind,
        detail: task.description,
        value: { kind: 'task', task: task.name, split },
      });
    }
  }
  return items;
}

const mathTaskNames = () =>
  listTasks()
    .filter((t) => t.kind === 'math')
    .map((t) => t.name);

function fileChoice(e: DataFileEntry): ProblemChoice | null {
  const d = e.detection;
  if (d.kind === 'groups') return { kind: 'groups', file: e.fsPath, task: taskForGroupSource(d.sources[0], mathTaskNames()) };
  if (d.kind === 'benchmark' && d.task && listTasks().some((t) => t.name === d.task)) return { kind: 'file', file: e.fsPath, task: d.task };
  return null;
}

function fileItems(entries: DataFileEntry[]): Item<ProblemChoice>[] {
  const items: Item<ProblemChoice>[] = [];
  for (const e of entries) {
    const choice = fileChoice(e);
    if (!choice) continue;
    const shown = dataFilePick(e, e.detection);
    items.push({
      label: `$(file) ${shown.label}`,
      description: shown.description,
      detail: `${e.detection.label}${choice.kind === 'groups' ? ' (problems with their own traces)' : ''} · ${describeCounts(e.detection)} · task ${choice.task}`,
      value: choice,
    });
  }
  return items.length ? [{ label: 'Problem files in this workspace', kind: vscode.QuickPickItemKind.Separator }, ...items] : [];
}

/** Asks for everything an eval needs; `preset` skips the questions it answers. */
export async function pickEvalPlan(deps: EvalDeps, preset: { file?: string } = {}): Promise<EvalPlan | undefined> {
  const settings = readSettings();
  await deps.dataFiles.ready();

  // 1. Problems.
  let problems: ProblemChoice | undefined;
  if (preset.file) {
    const entry = await deps.dataFiles.entryFor(preset.file);
    if (entry?.detection.kind === 'traces') {
      // A traces file: the problems come from a benchmark; the file is the trace source.
      problems = await pick(
        taskItems(settings),
        1,
        stepsFor(settings, null),
        `Which benchmark do the traces of ${safeLine(path.basename(preset.file))} belong to?`,
      );
      if (!problems) return undefined;
      return finishPlan(settings, problems, { kind: 'file', path: entry.fsPath, format: 'traces' });
    }
    problems = entry ? (fileChoice(entry) ?? undefined) : undefined;
    if (!problems) {
      void vscode.window.showErrorMessage(
        `TraceLift: ${safeLine(path.basename(preset.file))} is not a benchmark, groups or traces file TraceLift can evaluate (${entry ? describeCounts(entry.detection) : 'unreadable'}).`,
      );
      return undefined;
    }
  } else {
    problems = await pick(
      [...taskItems(settings), ...fileItems(deps.dataFiles.entries(['benchmark', 'groups']))],
      1,
      stepsFor(settings, null),
      'Problems: a benchmark, or a problem / groups file of this workspace',
    );
    if (!problems) return undefined;
  }

  // 2. Trace source (a groups file brings its own traces).
  if (problems.kind === 'groups') return finishPlan(settings, problems, { kind: 'file', path: problems.file, format: 'groups' });
  const task = getTask(problems.task);
  const traceItems: Item<TraceSourceRequest | 'configure'>[] = [];
  if (task.hasReferenceTraces) {
    traceItems.push({ label: 'Reference traces', description: "the dataset's worked solutions", value: { kind: 'reference' } });
  }
  const p = settings.planner;
  traceItems.push(
    p.url && p.model
      ? {
          label: 'Planner endpoint',
          description: `${safeLine(p.model)} at ${safeLine(p.url, 120)}`,
          value: { kind: 'planner', url: p.url, model: p.model, api: p.api, tracesPerProblem: p.tracesPerProblem },
        }
      : {
          label: 'Planner endpoint',
          description: '$(gear) not configured: set tracelift.planner.url and tracelift.planner.model',
          value: 'configure',
        },
  );
  const traceFiles = deps.dataFiles.entries(['traces', 'groups']);
  if (traceFiles.length) traceItems.push({ label: 'Trace files in this workspace', kind: vscode.QuickPickItemKind.Separator });
  for (const e of traceFiles) {
    const shown = dataFilePick(e, e.detection);
    traceItems.push({
      label: `$(file) ${shown.label}`,
      description: shown.description,
      detail: shown.detail,
      value: { kind: 'file', path: e.fsPath, format: e.detection.kind === 'groups' ? 'groups' : 'traces' },
    });
  }
  const traces = await pick(traceItems, 2, stepsFor(settings, task.kind), `Trace source for ${task.name}`);
  if (!traces) return undefined;
  if (traces === 'configure') {
    void openSettings('planner');
    return undefined;
  }
  if (traces.kind === 'file' && traces.format === 'groups') {
    if (task.kind !== 'math') {
      void vscode.window.showErrorMessage('TraceLift: groups files are scored as math problems; pick a math benchmark for their verifier.');
      return undefined;
    }
  }
  return finishPlan(settings, problems, traces);
}

async function finishPlan(settings: TraceLiftSettings, problems: ProblemChoice, traces: TraceSourceRequest): Promise<EvalPlan | undefined> {
  const taskKind = getTask(problems.task).kind;
  const steps = stepsFor(settings, taskKind);
  // 3. Executor.
  const e = settings.executor;
  const executor = await pick<'embedded' | 'endpoint' | 'configure'>(
    [
      { label: 'Embedded executor', description: 'SmolLM2-135M-Instruct on this machine (llama.cpp)', value: 'embedded' },
      e.url && e.model
        ? {
            label: 'Executor endpoint from settings',
            description: `${safeLine(e.model)} at ${safeLine(e.url, 120)} (${e.api ?? `${settings.protocol.preset} preset's API`})`,
            value: 'endpoint',
          }
        : {
            label: 'Executor endpoint from settings',
            description: '$(gear) not configured: set tracelift.executor.url and tracelift.executor.model',
            value: 'configure',
          },
    ],
    3,
    steps,
    'Executor: the frozen model that turns problem + trace into an answer',
  );
  if (!executor) return undefined;
  if (executor === 'configure') {
    void openSettings('executor');
    return undefined;
  }
  // 4–6. K, M, limit.
  const k = await askInt(4, steps, 'K: with-trace executor samples per trace', settings.k);
  if (k === undefined || k === null) return undefined;
  const m = await askInt(5, steps, 'M: no-trace baseline samples per problem (estimated once, cached)', settings.baselineSamples);
  if (m === undefined || m === null) return undefined;
  const limit = await askInt(6, steps, 'Limit: at most this many problems (empty: all)', settings.limit, { allowEmpty: true });
  if (limit === undefined) return undefined;
  // 7. Reward mode: a choice only when an RM or judge endpoint is configured (else exec_only is the one that runs).
  let rewardMode = settingsRewardMode(settings);
  if (offersRewardChoice(settings)) {
    const chosen = await pick(rewardModeItems(settings), 7, steps, 'Reward: how each trace is scored');
    if (!chosen) return undefined;
    if (chosen.startsWith('configure:')) {
      void openSettings(chosen.slice('configure:'.length));
      return undefined;
    }
    rewardMode = chosen as RewardMode;
  }
  // 8. Exec style (code tasks): how test results become the execution reward.
  let execStyle = settings.execStyle;
  if (taskKind === 'code') {
    const ordered = [execStyle, ...ExecStyleSchema.options.filter((s) => s !== execStyle)];
    const chosen = await pick(
      ordered.map((value) => ({
        label: value,
        description: value === execStyle ? 'from settings' : '',
        detail: EXEC_STYLES[value],
        value,
      })),
      offersRewardChoice(settings) ? 8 : 7,
      steps,
      'Exec style: how a program’s test results become its execution reward',
    );
    if (!chosen) return undefined;
    execStyle = chosen;
  }
  const what = problems.kind === 'task' ? `${problems.task}/${problems.split}` : path.basename(problems.file);
  return { problems, traces, executor, k, m, limit, rewardMode, execStyle, title: `eval ${what}` };
}

/** The reward mode of the settings; null for "auto" (the contract's default rule). */
function settingsRewardMode(settings: TraceLiftSettings): RewardMode | null {
  return settings.rewardMode === AUTO_REWARD_MODE ? null : settings.rewardMode;
}

/** Reward modes with their descriptions, the effective one first; a mode whose endpoint is missing opens its setting. */
function rewardModeItems(settings: TraceLiftSettings): Item<string>[] {
  const current = settingsRewardMode(settings) ?? defaultRewardMode({ rmUrl: settings.rmUrl, judgeUrl: settings.judge.url });
  const missing = (mode: RewardMode): string | null => {
    const endpoint = REWARD_MODE_ENDPOINT[mode];
    if (endpoint === 'rm' && !settings.rmUrl) return 'rmUrl';
    if (endpoint === 'judge' && !settings.judge.url) return 'judge.url';
    return null;
  };
  const ordered = [current, ...RewardModeSchema.options.filter((m) => m !== current)];
  return ordered.map((mode) => {
    const setting = missing(mode);
    return {
      label: mode,
      description: setting ? `$(gear) needs tracelift.${setting}` : mode === current ? 'from settings' : '',
      detail: REWARD_MODES[mode],
      value: setting ? `configure:${setting}` : mode,
    };
  });
}

/**
 * On a fresh machine the first eval offers what it lacks — the embedded executor's set-up, the
 * benchmark's download — instead of failing on it. False: the user declined, or it did not finish.
 */
async function offerMissingSetup(plan: EvalPlan): Promise<boolean> {
  const taskName = plan.problems.task;
  if (plan.executor === 'embedded') {
    if (!(await offerEmbeddedSetup())) return false;
  } else if (LATEX_TASKS.has(taskName) && !(await offerPythonSetup(`checking ${taskName} answers with math-verify`))) {
    return false; // an endpoint executes, but LaTeX answers are checked by math-verify in Python
  }
  if (plan.problems.kind !== 'task' || plan.group) return true;
  const task = getTask(plan.problems.task);
  const dataDir = dataDirFor(readSettings());
  try {
    if (dataDir) {
      requireTaskFile(task, dataDir, plan.problems.split);
      return true;
    }
  } catch {
    // missing: offered below
  }
  return offerDataDownload(task.name);
}

/** Runs a plan: run directory, executor, verifier, runEval with progress; opens the run view. */
export async function executePlan(plan: EvalPlan, deps: EvalDeps): Promise<void> {
  // Before any set-up: minutes of set-up, then "open a folder first", would waste them.
  const runsFolder = primaryRunsFolder(readSettings());
  if (!runsFolder) {
    void vscode.window.showErrorMessage('TraceLift: open a folder first — runs are written under its runs folder (tracelift.runsFolder).');
    return;
  }
  if (!(await offerMissingSetup(plan))) return;
  const settings = readSettings(); // after the set-up: the settings fall back to what it made
  // A reward mode without its endpoint fails now, naming the setting, before any server is started.
  const rewardMode = plan.rewardMode ?? defaultRewardMode({ rmUrl: settings.rmUrl, judgeUrl: settings.judge.url });
  const noEndpoint = missingRewardEndpoint({ mode: rewardMode, rm_url: settings.rmUrl, judge: settings.judge.url });
  if (noEndpoint) {
    const setting = REWARD_MODE_ENDPOINT[rewardMode] === 'rm' ? 'rmUrl' : 'judge.url';
    void vscode.window.showErrorMessage(`TraceLift: ${noEndpoint}.`, 'Open Settings').then((c) => {
      if (c) void openSettings(setting);
    });
    return;
  }
  /** The plan's title holds file names or a problem id: shown as one safe line. */
  const shownTitle = safeLine(plan.title, 120);
  const task = getTask(plan.problems.task);
  const name = plan.group ? `uplift-${plan.group.origin.problem_id.replace(/[^\w.-]+/g, '_').slice(0, 40)}` : task.name;
  let runDir = path.join(runsFolder, defaultRunDirName(name));
  for (let i = 2; fs.existsSync(runDir); i++) runDir = path.join(runsFolder, `${defaultRunDirName(name)}-${i}`);

  // Executor / planner endpoints must answer before anything is started.
  const endpoints: Array<{ what: string; url: string; key: KeyTarget | null; setting: string }> = [];
  if (plan.executor === 'endpoint' && settings.executor.url)
    endpoints.push({ what: 'executor', url: settings.executor.url, key: 'executor', setting: 'executor.url' });
  if (plan.traces.kind === 'planner') endpoints.push({ what: 'planner', url: plan.traces.url, key: 'planner', setting: 'planner.url' });
  if (REWARD_MODE_ENDPOINT[rewardMode] === 'judge' && settings.judge.url)
    endpoints.push({ what: 'judge', url: settings.judge.url, key: 'judge', setting: 'judge.url' });
  for (const ep of endpoints) {
    const probe = await probeEndpoint(ep.url, { apiKey: ep.key ? await deps.keys.get(ep.key) : undefined });
    if (!probe.reachable) {
      deps.log(`${ep.what} endpoint ${ep.url} unreachable: ${probe.error}`);
      const choice = await vscode.window.showErrorMessage(
        `TraceLift: the ${ep.what} endpoint ${safeLine(ep.url, 120)} is unreachable (${safeLine(probe.error, 200)}). Start the server or fix tracelift.${ep.setting}.`,
        'Open Settings',
        'Run Anyway',
      );
      if (choice === 'Open Settings') void openSettings(ep.setting);
      if (choice !== 'Run Anyway') return;
    }
  }

  const problems = plan.problems;
  let traces = plan.traces;
  let split = problems.kind === 'task' ? problems.split : task.defaultSplit;
  let dataDir = dataDirFor(settings) ?? runDir;
  try {
    fs.mkdirSync(runDir, { recursive: true });
    if (plan.group) {
      const groupsFile = path.join(runDir, 'group.jsonl');
      fs.writeFileSync(groupsFile, plan.group.line.trim() + '\n');
      await writeOrigin(runDir, plan.group.origin); // keyed by the groups file's content hash: survives moving the workspace
      traces = { kind: 'file', path: groupsFile, format: 'groups' };
    } else if (problems.kind === 'file') {
      dataDir = path.join(runDir, 'data');
      split = stageProblemFile(problems.file, task, dataDir);
    } else if (problems.kind === 'task') {
      if (!dataDirFor(settings)) {
        throw new Error(
          'No benchmark data here: TraceLift: Download Benchmark Data… fetches it, or set tracelift.dataDir (or TRACELIFT_DATA_DIR) to a folder with gsm8k/test.jsonl, math500/test.jsonl, …',
        );
      }
      requireTaskFile(task, dataDir, split); // a missing benchmark file is named with where it comes from
    }
  } catch (err) {
    fs.rmSync(runDir, { recursive: true, force: true }); // nothing was run: leave no empty run behind
    void vscode.window.showErrorMessage(`TraceLift: ${safeLine((err as Error).message, 400)}`);
    return;
  }

  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `TraceLift: ${shownTitle}`, cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      const cancel = token.onCancellationRequested(() => abort.abort());
      const executorKey = await deps.keys.lease('executor');
      const plannerKey = await deps.keys.lease('planner');
      const judgeKey = await deps.keys.lease('judge');
      let run: AssembledRun | null = null;
      deps.active.add(runDir, plan.title, abort);
      try {
        progress.report({ message: plan.executor === 'embedded' ? 'starting the embedded executor…' : 'connecting to the executor…' });
        run = await assembleRun({
          config: {
            task: task.name,
            split,
            limit: plan.limit,
            k: plan.k,
            m: plan.m,
            traceSource: traces.kind === 'planner' ? { ...traces, apiKeyEnv: plannerKey.env } : traces,
            rewardMode: plan.rewardMode,
            execStyle: plan.execStyle,
            e2e: settings.e2e,
            protocol: settings.protocol,
            maxTokens: settings.executor.maxTokens,
            topP: settings.executor.topP,
            rmUrl: settings.rmUrl,
            judgeUrl: settings.judge.url,
            judgeModel: settings.judge.model,
            judgeKeyEnv: judgeKey.env,
            dataDir,
            cacheDir: settings.cacheDir,
          },
          executor: {
            url: plan.executor === 'endpoint' ? settings.executor.url : null,
            model: plan.executor === 'endpoint' ? settings.executor.model : null,
            // Unset: the protocol preset's API (assembleRun applies it).
            api: settings.executor.api ?? undefined,
            apiKeyEnv: plan.executor === 'endpoint' ? executorKey.env : null,
            concurrency: settings.concurrency,
            timeoutMs: settings.executor.timeoutS === null ? undefined : Math.round(settings.executor.timeoutS * 1000),
            maxRetries: settings.executor.retries,
            downAfterFailures: settings.executor.downAfterFailures,
            pythonPath: settings.pythonPath ?? undefined,
            modelPath: settings.embeddedModelPath ?? undefined,
          },
          verifierOptions: { pythonPath: settings.pythonPath ?? undefined, allowUnsandboxed: settings.allowUnsandboxed },
          log: deps.log,
        });
        if (abort.signal.aborted) return;
        const { config, executor } = run;
        deps.log(
          `eval ${task.name}/${split} → ${runDir} (executor: ${executor.origin} ${executor.endpoint.model}, K=${config.k}, M=${config.baseline_samples}, reward ${config.reward.mode})`,
        );
        progress.report({ message: 'loading problems and traces…' });
        let reported = 0;
        const running = runEval({
          run,
          outDir: runDir,
          signal: abort.signal,
          log: deps.log,
          onProgress: (p) => {
            deps.active.progress(runDir, p.done, p.total);
            const pctDone = p.total ? (100 * p.done) / p.total : 0;
            progress.report({ message: `${p.done}/${p.total} problems`, increment: pctDone - reported });
            reported = pctDone;
          },
        });
        // runEval has written config.json and run_started before its first await.
        try {
          deps.webviews.openRunView(runDir);
        } catch (err) {
          deps.log(`opening the run view: ${(err as Error).message}`);
        }
        const result = await running;
        const s = result.summary;
        const failed = s.micro.failed_calls ? ` ${s.micro.failed_calls} executor call(s) failed — see the log.` : '';
        const text = `TraceLift: ${shownTitle} ${result.status} — ${s.micro.problems} problems, ${s.micro.traces} traces, uplift ${signed(s.mean_uplift)}, with-trace ${pct(s.with_trace_success)} vs no-trace ${pct(s.no_trace_success)}.${failed}`;
        const show = failed ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
        void show(text, 'Open Run', 'Show Log').then((c) => {
          if (c === 'Open Run') deps.webviews.openRunView(runDir);
          if (c === 'Show Log') deps.output.show(true);
        });
      } catch (err) {
        const message = (err as Error).message;
        deps.log(`eval failed: ${message}`);
        void vscode.window.showErrorMessage(`TraceLift: ${shownTitle} failed — ${safeLine(message, 400)}`, 'Show Log').then((c) => {
          if (c) deps.output.show(true);
        });
      } finally {
        cancel.dispose();
        executorKey.release();
        plannerKey.release();
        judgeKey.release();
        await run?.close().catch(() => {});
        // Stopped before the run started (executor start failed, cancelled): no run to keep.
        if (!fs.existsSync(path.join(runDir, EVENTS_FILE))) fs.rmSync(runDir, { recursive: true, force: true });
        deps.active.remove(runDir);
        deps.runs.refresh();
      }
    },
  );
}

export async function runEvalCommand(deps: EvalDeps, preset: { file?: string } = {}): Promise<void> {
  if (!(await requireTrust('running an eval'))) return;
  const plan = await pickEvalPlan(deps, preset);
  if (plan) await executePlan(plan, deps);
}

/** The groups record on `line` of a file: validated, with its record index; errors name the field. */
export async function groupRecordAt(
  uri: vscode.Uri,
  line: number,
): Promise<{ text: string; index: number; record: GroupRecord } | undefined> {
  let doc: vscode.TextDocument;
  try {
    doc = await vscode.workspace.openTextDocument(uri);
  } catch (err) {
    void vscode.window.showErrorMessage(`TraceLift: cannot open ${safeLine(uri.fsPath, 200)}: ${safeLine((err as Error).message, 400)}`);
    return undefined;
  }
  if (line < 0 || line >= doc.lineCount) {
    void vscode.window.showErrorMessage(`TraceLift: ${safeLine(path.basename(uri.fsPath))} has no line ${line + 1}.`);
    return undefined;
  }
  const text = doc.lineAt(line).text;
  try {
    return { text, index: recordIndexAtLine(doc.getText(), line), record: parseGroupLine(text, path.basename(uri.fsPath), line + 1) };
  } catch (err) {
    void vscode.window.showErrorMessage(`TraceLift: ${safeLine((err as Error).message, 400)}.`);
    return undefined;
  }
}

/** "Measure Uplift": an eval of one groups record, with the K and M of the settings. */
export async function measureUpliftCommand(deps: EvalDeps, uri: vscode.Uri, line: number): Promise<void> {
  if (!(await requireTrust('measuring uplift'))) return;
  const rec = await groupRecordAt(uri, line);
  if (!rec) return;
  const g = rec.record;
  const task = taskForGroupSource(g.source, mathTaskNames());
  if (!groupMathProblem(g, task)) {
    void vscode.window.showErrorMessage(
      `TraceLift: group ${safeLine(g.problem_id)} has no reference_solution (its gold answer), so its traces cannot be scored.`,
    );
    return;
  }
  const settings = readSettings();
  await executePlan(
    {
      problems: { kind: 'groups', file: uri.fsPath, task },
      traces: { kind: 'file', path: uri.fsPath, format: 'groups' },
      executor: settings.executor.url && settings.executor.model ? 'endpoint' : 'embedded',
      k: settings.k,
      m: settings.baselineSamples,
      limit: null,
      rewardMode: settingsRewardMode(settings),
      execStyle: settings.execStyle,
      title: `measure uplift of ${g.problem_id}`,
      group: { line: rec.text, origin: { groups_file: path.resolve(uri.fsPath), record_index: rec.index, problem_id: g.problem_id } },
    },
    deps,
  );
}
