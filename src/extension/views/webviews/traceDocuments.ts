/**
 * Read-only virtual documents (scheme "tracelift-trace") so any two traces
 * open in VS Code's own diff editor. Documents live in memory (bounded); after
 * a window reload their URIs answer with a short note instead.
 */
import * as vscode from 'vscode';
import { safeDocName } from './html';
import type { TraceText } from './types';

export const TRACE_SCHEME = 'tracelift-trace';
const MAX_DOCS = 200;

export class TraceDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly docs = new Map<string, string>();
  private counter = 0;
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;

  add(trace: TraceText): vscode.Uri {
    const id = `${Date.now().toString(36)}-${++this.counter}`;
    this.docs.set(id, trace.text);
    while (this.docs.size > MAX_DOCS) this.docs.delete(this.docs.keys().next().value!);
    return vscode.Uri.from({ scheme: TRACE_SCHEME, path: `/${id}/${safeDocName(trace.title)}.txt` });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const id = uri.path.split('/')[1] ?? '';
    return this.docs.get(id) ?? '(This trace is no longer in memory — the window was reloaded. Open the diff again from TraceLift.)';
  }

  async openDiff(left: TraceText, right: TraceText): Promise<void> {
    const l = this.add(left);
    const r = this.add(right);
    await vscode.commands.executeCommand('vscode.diff', l, r, `${left.title} ↔ ${right.title}`, { preview: true });
  }

  dispose(): void {
    this.docs.clear();
    this.emitter.dispose();
  }
}
