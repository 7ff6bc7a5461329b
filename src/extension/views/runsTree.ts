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
import type { RunInfo } from '../services/runScan';
import type { RunsModel } from '../services/runsModel';
import { readSettings } from '../services/settings';
import { safeLine } from '../../shared/safeText';
import { problemItem, runItem, sampleItem, type ItemText } from './labels';
import { hoverMarkdown } from './markdown';

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
        const item = treeItem(runItem(r), vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `run:${r.dir}`;
        const [icon, color] = r.live ? STATUS_ICONS.running : STATUS_ICONS[r.status];
        item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
        item.contextValue = r.live ? 'tracelift.run.live' : r.kind === 'rm_train' ? 'tracelift.run.rm' : 'tracelift.run';
        item.resourceUri = vscode.Uri.file(r.dir);
        return item;
      }
      case 'problem': {
        const item = treeItem(problemItem(node.problem), vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `problem:${node.runDir}:${node.problem.task}:${node.problem.problemId}`;
        item.iconPath = new vscode.ThemeIcon('symbol-field');
        item.contextValue = 'tracelift.problem';
        return item;
      }
      case 'sample': {
        const s = node.sample;
        const item = treeItem(sampleItem(s), vscode.TreeItemCollapsibleState.None);
        item.id = `sample:${node.runDir}:${s.line}:${s.sampleId}`;
        const icon = s.uplift === null ? 'circle-outline' : s.uplift > 0 ? 'arrow-up' : s.uplift < 0 ? 'arrow-down' : 'dash';
        const color = s.uplift === null ? undefined : s.uplift > 0 ? 'testing.iconPassed' : s.uplift < 0 ? 'testing.iconFailed' : undefined;
        item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
        item.contextValue = 'tracelift.sample';
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
        // Messages quote the run's files (malformed lines, read errors).
        const item = new vscode.TreeItem(safeLine(node.text, 160), vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon(node.icon);
        if (node.detail) item.tooltip = hoverMarkdown({ title: node.text, rows: [], notes: node.detail.split('\n') });
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

/** A tree item from safe texts (see labels.ts). */
function treeItem(t: ItemText, state: vscode.TreeItemCollapsibleState): vscode.TreeItem {
  const item = new vscode.TreeItem(t.label, state);
  item.description = t.description;
  item.tooltip = hoverMarkdown(t.tooltip);
  return item;
}
