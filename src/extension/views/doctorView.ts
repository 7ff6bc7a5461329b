/**
 * The "Environment" view (*TraceLift: Show Engine Info*): the doctor's
 * checks — Python, packages, the embedded model, data per task, bubblewrap,
 * the endpoints, the GPU — one row each, what is missing marked, and on each
 * fixable row an inline button (the fix itself is run by the command that
 * owns the view). Every detail is machine text: shown through safeLine.
 */
import * as vscode from 'vscode';
import type { DoctorCheck, DoctorReport } from '../../engine/train/doctor';
import { safeLine } from '../../shared/safeText';
import { doctorSummary, fixForCheck } from '../services/doctorFixes';

export const DOCTOR_VIEW_ID = 'tracelift.environment';
/** The inline button's command; its argument is the row (a DoctorNode). */
export const FIX_CHECK_COMMAND = 'tracelift.environment.fix';

export type DoctorNode =
  { type: 'summary'; text: string; ok: boolean } | { type: 'check'; check: DoctorCheck } | { type: 'message'; text: string; icon: string };

const ICONS: Record<DoctorCheck['status'], [string, string | undefined]> = {
  ok: ['pass', 'testing.iconPassed'],
  missing: ['error', 'testing.iconFailed'],
  warning: ['warning', 'list.warningForeground'],
  info: ['info', undefined],
};

export class DoctorTreeProvider implements vscode.TreeDataProvider<DoctorNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<DoctorNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private report: DoctorReport | null = null;
  private error: string | null = null;
  private loading: Promise<void> | null = null;

  constructor(private readonly load: () => Promise<DoctorReport>) {}

  /** Runs the checks again (one at a time; a refresh during a check waits for it, then checks again). */
  async refresh(): Promise<void> {
    while (this.loading) await this.loading;
    this.loading = (async () => {
      this.emitter.fire(undefined);
      try {
        this.report = await this.load();
        this.error = null;
      } catch (err) {
        this.error = (err as Error).message;
      }
    })().finally(() => {
      this.loading = null;
      this.emitter.fire(undefined);
    });
    return this.loading;
  }

  get lastReport(): DoctorReport | null {
    return this.report;
  }

  getChildren(node?: DoctorNode): DoctorNode[] {
    if (node) return [];
    if (this.loading && !this.report) return [{ type: 'message', text: 'Checking the environment…', icon: 'sync~spin' }];
    if (this.error) return [{ type: 'message', text: `The check failed: ${this.error}`, icon: 'error' }];
    if (!this.report) return [];
    const r = this.report;
    const summary: DoctorNode = { type: 'summary', ...doctorSummary(r) };
    return [
      summary,
      ...(this.loading ? [{ type: 'message' as const, text: 'Checking again…', icon: 'sync~spin' }] : []),
      ...r.checks.map((check) => ({ type: 'check' as const, check })),
    ];
  }

  getTreeItem(node: DoctorNode): vscode.TreeItem {
    if (node.type === 'message') {
      const item = new vscode.TreeItem(safeLine(node.text, 200));
      item.iconPath = new vscode.ThemeIcon(node.icon);
      return item;
    }
    if (node.type === 'summary') {
      const item = new vscode.TreeItem(node.text);
      item.iconPath = new vscode.ThemeIcon(node.ok ? 'check-all' : 'tools');
      item.contextValue = 'tracelift.environment.summary';
      return item;
    }
    const c = node.check;
    const item = new vscode.TreeItem(safeLine(c.label, 80));
    item.id = `check:${c.id}`;
    item.description = safeLine(c.detail, 140);
    const [icon, color] = ICONS[c.status];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    const fix = fixForCheck(c);
    const tooltip = new vscode.MarkdownString();
    tooltip.appendText(`${c.label} — ${c.status}\n\n${c.detail}`);
    if (c.fix && c.status !== 'ok') tooltip.appendText(`\n\nTo fix: ${c.fix}`);
    if (fix) tooltip.appendText(`\n\nThe button: ${fix.label}.`);
    item.tooltip = tooltip;
    item.contextValue = fix ? `tracelift.check.fix.${fix.kind}` : 'tracelift.check';
    item.accessibilityInformation = { label: `${c.label}: ${c.status}. ${safeLine(c.detail, 140)}` };
    return item;
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
