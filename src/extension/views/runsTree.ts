/**
 * The "Runs" view: runs and evals of the workspace's runs folder(s), newest
 * first, live ones marked; each expands to its problems (a page at a time)
 * and each problem to its scored traces. Expanding a run reads it into its
 * run index (shared with the webviews); listing runs does not.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EVENTS_FILE } from '../../engine/run/runReader';
import type { ProblemSamples } from '../services/runs/runIndex';
import type { RunRow } from '../services/runs/runRows';
import { describeRun, pct, signed, type RunInfo } from '../services/runScan';
import type { RunsModel } from '../services/runsModel';
import { readSettings } from '../services/settings';
import { escapeMarkdown } from '../services/annotate';
import { hoverMarkdown, safeMarkdown } from './markdown';

export type RunsNode =
  | { type: 'run'; run: RunInfo }
  | { type: 'problem'; runDir: string; problem: ProblemSamples }
  | { type: 'sample'; runDir: string; sample: RunRow }
  | { type: 'more'; runDir: string; shown: number; total: number }
  | { type: 'message'; text: string; detail?: string; icon: string; runDir?: string; line?: number };

const STATUS_ICONS: Record<RunInfo['status'], [string, string | undefined]> = {
  running: ['sync~spin', 'charts.blue'],
  completed: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  cancelled: ['circle-slash', undefined],
  interrupted: ['debug-pause', 'list.warningForeground'],
  unknown: ['question', undefined],
};

/** "reference" for "gsm8k/test/0#reference" under its problem. */
export function sampleLabel(s: RunRow): string {
  return s.sampleId.startsWith(`${s.problemId}#`) ? s.sampleId.slice(s.problemId.length + 1) : s.sampleId;
}

export function describeSample(s: RunRow): string {
  const parts = [`uplift ${signed(s.uplift)}`, `reward ${s.reward === null ? 'n/a' : s.reward.toFixed(3)}`, `${s.k}/${s.K}`];
  if (s.label && s.label !== sampleLabel(s)) parts.push(s.label);
  if (s.errorCount) parts.push('⚠'); // sample errors or failed calls
  return parts.join(' · ');
}

function describeProblem(p: ProblemSamples): string {
  const ups = p.samples.map((s) => s.uplift).filter((u): u is number => u !== null);
  const base = p.samples[0];
  const parts = [`${p.samples.length} trace${p.samples.length === 1 ? '' : 's'}`];
  if (base) parts.push(`base ${pct(base.baselineRate)}`);
  if (ups.length) parts.push(`best ${signed(Math.max(...ups))}`);
  return parts.join(' · ');
}

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  /** Problems shown per run (grows with "Show more"). */
  private readonly shown = new Map<string, number>();
  private readonly sub: vscode.Disposable;

  constructor(private readonly model: RunsModel) {
    this.sub = model.onDidChange(() => this.emitter.fire(undefined));
  }

  showMore(runDir: string): void {
    const page = readSettings().problemsPageSize;
    this.shown.set(runDir, (this.shown.get(runDir) ?? page) + page);
    this.emitter.fire(undefined);
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    switch (node.type) {
      case 'run': {
        const r = node.run;
        const item = new vscode.TreeItem(r.name, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `run:${r.dir}`;
        item.description = describeRun(r);
        const [icon, color] = r.live ? STATUS_ICONS.running : STATUS_ICONS[r.status];
        item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
        item.contextValue = r.live ? 'tracelift.run.live' : 'tracelift.run';
        item.resourceUri = vscode.Uri.file(r.dir);
        item.tooltip = runTooltip(r);
        return item;
      }
      case 'problem': {
        const item = new vscode.TreeItem(node.problem.problemId, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `problem:${node.runDir}:${node.problem.task}:${node.problem.problemId}`;
        item.description = describeProblem(node.problem);
        item.iconPath = new vscode.ThemeIcon('symbol-field');
        item.contextValue = 'tracelift.problem';
        return item;
      }
      case 'sample': {
        const s = node.sample;
        const item = new vscode.TreeItem(sampleLabel(s), vscode.TreeItemCollapsibleState.None);
        item.id = `sample:${node.runDir}:${s.line}:${s.sampleId}`;
        item.description = describeSample(s);
        const icon = s.uplift === null ? 'circle-outline' : s.uplift > 0 ? 'arrow-up' : s.uplift < 0 ? 'arrow-down' : 'dash';
        const color = s.uplift === null ? undefined : s.uplift > 0 ? 'testing.iconPassed' : s.uplift < 0 ? 'testing.iconFailed' : undefined;
        item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
        item.contextValue = 'tracelift.sample';
        item.tooltip = safeMarkdown(
          [
            `**${escapeMarkdown(s.sampleId)}**`,
            '',
            escapeMarkdown(`${s.source}${s.label ? ` (${s.label})` : ''}`),
            '',
            escapeMarkdown(describeSample(s)),
          ].join('\n'),
        );
        item.command = { command: 'tracelift.inspectSample', title: 'Inspect Sample', arguments: [node] };
        return item;
      }
      case 'more': {
        const item = new vscode.TreeItem(`Show more problems (${node.shown} of ${node.total})`, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.command = { command: 'tracelift.explorer.showMore', title: 'Show More', arguments: [node.runDir] };
        item.contextValue = 'tracelift.more';
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon(node.icon);
        if (node.detail) item.tooltip = node.detail;
        if (node.runDir && node.line !== undefined) {
          item.command = {
            command: 'vscode.open',
            title: 'Open',
            arguments: [
              vscode.Uri.file(path.join(node.runDir, EVENTS_FILE)),
              { selection: new vscode.Range(node.line - 1, 0, node.line - 1, 0) },
            ],
          };
        }
        item.contextValue = 'tracelift.message';
        return item;
      }
    }
  }

  async getChildren(node?: RunsNode): Promise<RunsNode[]> {
    if (!node) return this.model.runs().map((run) => ({ type: 'run', run }));
    if (node.type === 'run') return this.runChildren(node.run);
    if (node.type === 'problem') return node.problem.samples.map((sample) => ({ type: 'sample', runDir: node.runDir, sample }));
    return [];
  }

  getParent(node: RunsNode): RunsNode | undefined {
    if (node.type === 'problem' || node.type === 'more') {
      const run = this.model.run(node.runDir);
      return run ? { type: 'run', run } : undefined;
    }
    return undefined;
  }

  private async runChildren(run: RunInfo): Promise<RunsNode[]> {
    const out: RunsNode[] = [];
    for (const issue of run.issues) out.push({ type: 'message', text: issue, icon: 'warning' });
    const index = await this.model.index(run.dir);
    if (index.readError) out.push({ type: 'message', text: index.readError, icon: 'error' });
    if (index.issueCount) {
      const first = index.recentIssues[0];
      out.push({
        type: 'message',
        text: `${index.issueCount} malformed line${index.issueCount > 1 ? 's' : ''} skipped`,
        detail: index.recentIssues.map((i) => `line ${i.line}: ${i.message}`).join('\n'),
        icon: 'warning',
        runDir: run.dir,
        line: first?.line ?? undefined,
      });
    }
    const total = index.problemCount;
    if (!total) {
      out.push({
        type: 'message',
        text: run.live ? 'Waiting for the first scored problem…' : 'No scored problems',
        icon: run.live ? 'loading~spin' : 'info',
      });
      return out;
    }
    const limit = this.shown.get(run.dir) ?? readSettings().problemsPageSize;
    for (const problem of index.problems(0, limit)) out.push({ type: 'problem', runDir: run.dir, problem });
    if (total > limit) out.push({ type: 'more', runDir: run.dir, shown: limit, total });
    return out;
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
  }
}

function runTooltip(r: RunInfo): vscode.MarkdownString {
  const rows: Array<[string, string]> = [
    ['folder', r.dir],
    ['status', r.live ? `live (${r.status})` : r.status],
    ['kind', r.kind ?? 'unknown'],
    ['task', [r.task, r.split].filter(Boolean).join(' / ') || 'n/a'],
    ['traces', r.traceSource ?? 'n/a'],
    ['updated', r.updatedMs ? new Date(r.updatedMs).toLocaleString() : 'n/a'],
  ];
  const s = r.summary;
  if (s) {
    rows.push(
      ['problems / traces', `${s.micro.problems} / ${s.micro.traces}`],
      ['with-trace success', pct(s.with_trace_success)],
      ['no-trace success', pct(s.no_trace_success)],
      ['mean uplift', signed(s.mean_uplift)],
      ['mean reward', s.mean_reward === null ? 'n/a' : s.mean_reward.toFixed(3)],
      ['failed calls', String(s.micro.failed_calls)],
    );
  }
  return hoverMarkdown({ title: r.name, rows, notes: [] });
}
