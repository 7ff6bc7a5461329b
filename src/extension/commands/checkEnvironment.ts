/**
 * "TraceLift: Check Training Environment": the `tracelift doctor` report
 * (src/engine/train/doctor.ts) for the Python, data and executor this
 * window's settings name, shown as a Markdown preview (formatDoctorMarkdown:
 * every piece of machine text through safeLine, Markdown escaped).
 */
import * as vscode from 'vscode';
import { runDoctor, type DoctorReport } from '../../engine/train/doctor';
import { formatDoctorMarkdown } from '../../engine/train/doctorMarkdown';
import { safeLine } from '../../shared/safeText';
import type { ApiKeys } from '../services/apiKeys';
import { readSettings } from '../services/settings';

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

async function checkTrainingEnvironment(deps: CheckEnvironmentDeps): Promise<void> {
  const settings = readSettings();
  const key = settings.executor.url && deps.keys ? await deps.keys.lease('executor') : null;
  let report: DoctorReport;
  try {
    report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'TraceLift: checking the training environment…' },
      () =>
        runDoctor({
          pythonPath: settings.pythonPath,
          executorUrl: settings.executor.url,
          executorModel: settings.executor.model,
          executorKeyEnv: key?.env ?? null,
          dataDir: settings.dataDir,
          modelPath: settings.embeddedModelPath,
        }),
    );
  } finally {
    key?.release();
  }
  deps.log(
    `training environment: CPU training ${report.cpu_training ? 'possible' : 'not possible'}, GPU ${report.gpu_training ? 'yes' : 'no'}`,
  );
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: formatDoctorMarkdown(report) });
  await vscode.commands.executeCommand('markdown.showPreview', doc.uri);
}
