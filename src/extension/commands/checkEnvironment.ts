/**
 * "TraceLift: Check Training Environment": the `tracelift doctor` report
 * (src/engine/train/doctor.ts) for the Python, data and executor this
 * window's settings name, shown as a Markdown preview (formatDoctorMarkdown:
 * every piece of machine text through safeLine, Markdown escaped).
 * "TraceLift: Show Engine Info": the same checks as the Environment view
 * (views/doctorView.ts), with a button on each missing thing that fixes it.
 */
import * as vscode from 'vscode';
import { ENGINE_VERSION } from '../../engine/eval/runEval';
import { listTasks } from '../../engine/tasks/registry';
import { runDoctor, type DoctorCheck, type DoctorReport } from '../../engine/train/doctor';
import { formatDoctorMarkdown } from '../../engine/train/doctorMarkdown';
import { safeLine } from '../../shared/safeText';
import type { ApiKeys } from '../services/apiKeys';
import { fixForCheck } from '../services/doctorFixes';
import { probeEndpoint } from '../services/evalPrep';
import { managedPython } from '../services/managedEnv';
import type { RunsModel } from '../services/runsModel';
import { openSettings, readSettings, type TraceLiftSettings } from '../services/settings';
import { DOCTOR_VIEW_ID, DoctorTreeProvider, FIX_CHECK_COMMAND, type DoctorNode } from '../views/doctorView';
import { DOWNLOAD_DATA_COMMAND, SETUP_EXECUTOR_COMMAND, type SetupCommands } from './setup';

export const CHECK_ENVIRONMENT_COMMAND = 'tracelift.checkTrainingEnvironment';

export interface CheckEnvironmentDeps {
  log: (line: string) => void;
  /** The executor endpoint's stored key, lent to the probe (optional). */
  keys?: ApiKeys;
}

export function registerCheckEnvironmentCommand(context: vscode.ExtensionContext, deps: CheckEnvironmentDeps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(CHECK_ENVIRONMENT_COMMAND, async () => {
      try {
        await checkTrainingEnvironment(deps);
      } catch (err) {
        deps.log(`checkTrainingEnvironment: ${(err as Error).stack ?? (err as Error).message}`);
        void vscode.window.showErrorMessage(`TraceLift: the environment check failed — ${safeLine((err as Error).message, 300)}`);
      }
    }),
  );
}

/** The doctor's report for this window's settings (the executor's key lent for the probe). */
async function doctorForSettings(settings: TraceLiftSettings, keys?: ApiKeys): Promise<DoctorReport> {
  const key = settings.executor.url && keys ? await keys.lease('executor') : null;
  const managed = settings.pythonPath !== null && settings.pythonPath === managedPython();
  try {
    return await runDoctor({
      pythonPath: settings.pythonPath,
      pythonFoundBy: managed ? 'the set-up in the extension storage (Set Up Embedded Executor)' : 'the setting tracelift.pythonPath',
      executorUrl: settings.executor.url,
      executorModel: settings.executor.model,
      executorKeyEnv: key?.env ?? null,
      dataDir: settings.dataDir,
      modelPath: settings.embeddedModelPath,
    });
  } finally {
    key?.release();
  }
}

async function checkTrainingEnvironment(deps: CheckEnvironmentDeps): Promise<void> {
  const settings = readSettings();
  const report = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'TraceLift: checking the training environment…' },
    () => doctorForSettings(settings, deps.keys),
  );
  deps.log(
    `training environment: CPU training ${report.cpu_training ? 'possible' : 'not possible'}, GPU ${report.gpu_training ? 'yes' : 'no'}`,
  );
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: formatDoctorMarkdown(report) });
  await vscode.commands.executeCommand('markdown.showPreview', doc.uri);
}

/** The planner, judge and RM endpoints the settings name: answering or not (the executor is the doctor's own check). */
async function endpointChecks(settings: TraceLiftSettings): Promise<DoctorCheck[]> {
  const named: Array<[string, string, string | null]> = [
    ['planner.url', 'planner endpoint', settings.planner.url],
    ['judge.url', 'judge endpoint', settings.judge.url],
    ['rmUrl', 'Reason RM endpoint', settings.rmUrl],
  ];
  return Promise.all(
    named
      .filter((n): n is [string, string, string] => n[2] !== null)
      .map(async ([key, label, url]) => {
        const probe = await probeEndpoint(url);
        return {
          id: `endpoint:${key}`,
          label: `${label} ${url}`,
          status: probe.reachable ? ('ok' as const) : ('warning' as const),
          detail: probe.reachable ? `answers (HTTP ${probe.status})` : `no answer: ${probe.error ?? 'unreachable'}`,
          fix: probe.reachable ? null : `start that server, or change tracelift.${key}`,
          needed_for: 'endpoint' as const,
        };
      }),
  );
}

export interface EngineInfoDeps extends CheckEnvironmentDeps {
  output: vscode.OutputChannel;
  setup: SetupCommands;
  runs: RunsModel;
}

/** The walkthrough's "run a first eval" step completes on this key: an eval of the workspace has completed. */
export const EVAL_COMPLETED_CONTEXT = 'tracelift.hasCompletedEval';

/** The Environment view and Show Engine Info, which reveals it and checks again. */
export function registerEngineInfo(context: vscode.ExtensionContext, deps: EngineInfoDeps): DoctorTreeProvider {
  const provider = new DoctorTreeProvider(async () => {
    const settings = readSettings();
    const [report, endpoints] = await Promise.all([doctorForSettings(settings, deps.keys), endpointChecks(settings)]);
    const at = report.checks.findIndex((c) => c.id === 'executor-endpoint');
    report.checks.splice(at < 0 ? report.checks.length : at + 1, 0, ...endpoints);
    return report;
  });
  const view = vscode.window.createTreeView(DOCTOR_VIEW_ID, { treeDataProvider: provider, showCollapseAll: false });
  // Checked when first shown and after a set-up or download; not while hidden (the probe imports torch).
  let stale = true;
  const evalCompleted = () =>
    void vscode.commands.executeCommand(
      'setContext',
      EVAL_COMPLETED_CONTEXT,
      deps.runs.runs().some((r) => r.kind === 'eval' && r.status === 'completed'),
    );
  evalCompleted();
  const refreshIfShown = () => {
    if (view.visible) {
      stale = false;
      void provider.refresh();
    } else stale = true;
  };
  context.subscriptions.push(
    provider,
    view,
    view.onDidChangeVisibility(() => view.visible && stale && refreshIfShown()),
    deps.setup.onDidChange(refreshIfShown),
    deps.runs.onDidChange(evalCompleted),
    vscode.commands.registerCommand('tracelift.showEngineInfo', async () => {
      deps.output.appendLine(
        `TraceLift engine ${ENGINE_VERSION}; tasks: ${listTasks()
          .map((t) => t.name)
          .join(', ')}`,
      );
      deps.output.show(true);
      stale = false; // the view becoming visible must not check a second time
      await vscode.commands.executeCommand(`${DOCTOR_VIEW_ID}.focus`);
      await provider.refresh();
    }),
    vscode.commands.registerCommand('tracelift.environment.refresh', () => provider.refresh()),
    vscode.commands.registerCommand(FIX_CHECK_COMMAND, async (node?: DoctorNode) => {
      if (node?.type !== 'check') return;
      const fix = fixForCheck(node.check);
      if (!fix) return;
      switch (fix.kind) {
        case 'setup':
          await vscode.commands.executeCommand(SETUP_EXECUTOR_COMMAND, { withTraining: fix.withTraining });
          return;
        case 'download':
          await vscode.commands.executeCommand(DOWNLOAD_DATA_COMMAND, fix.tasks.length ? { tasks: fix.tasks } : undefined);
          return;
        case 'setting':
          await openSettings(fix.key);
          return;
        case 'text': {
          const copy = 'Copy';
          const choice = await vscode.window.showInformationMessage(`TraceLift: ${safeLine(fix.text, 600)}`, copy);
          if (choice === copy) await vscode.env.clipboard.writeText(fix.text);
          return;
        }
      }
    }),
  );
  return provider;
}
