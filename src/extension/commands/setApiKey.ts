/** "TraceLift: Set API Key": which endpoint, then the key (stored in secret storage, empty removes it). */
import * as vscode from 'vscode';
import type { ApiKeys, KeyTarget } from '../services/apiKeys';

export async function setApiKeyCommand(keys: ApiKeys): Promise<void> {
  const pick = await vscode.window.showQuickPick(
    [
      { label: 'Executor endpoint', description: 'tracelift.executor.url', target: 'executor' as KeyTarget },
      { label: 'Planner endpoint', description: 'tracelift.planner.url', target: 'planner' as KeyTarget },
      { label: 'Judge endpoint', description: 'tracelift.judge.url (reward mode llm_judge)', target: 'judge' as KeyTarget },
    ],
    { title: 'TraceLift: Set API Key', placeHolder: 'Which endpoint is the key for?' },
  );
  if (!pick) return;
  const key = await vscode.window.showInputBox({
    title: `TraceLift: API key for the ${pick.label.toLowerCase()}`,
    prompt: "Stored in VS Code's secret storage, never in settings or run files. Leave empty to remove the stored key.",
    password: true,
    ignoreFocusOut: true,
  });
  if (key === undefined) return;
  if (!key.trim()) {
    await keys.clear(pick.target);
    void vscode.window.showInformationMessage(`TraceLift: removed the stored API key for the ${pick.label.toLowerCase()}.`);
    return;
  }
  await keys.set(pick.target, key.trim());
  void vscode.window.showInformationMessage(`TraceLift: API key for the ${pick.label.toLowerCase()} stored in secret storage.`);
}
