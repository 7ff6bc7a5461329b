/** The "Trace & Data Files" tree: the data-file index by category, with each file's malformed lines. */
import * as vscode from 'vscode';
import { CATEGORY_LABELS, categoryOf, type DataCategory, type DataFileEntry, type DataFileIndex } from '../services/dataFiles';
import { safeLine } from '../../shared/safeText';
import { dataFileItem, malformedText } from './labels';
import { hoverMarkdown } from './markdown';

export type DataNode =
  | { type: 'category'; category: DataCategory; entries: DataFileEntry[] }
  | { type: 'file'; entry: DataFileEntry }
  | { type: 'issue'; entry: DataFileEntry; line: number | null; text: string }
  | { type: 'message'; text: string };

export class DataFilesTreeProvider implements vscode.TreeDataProvider<DataNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<DataNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly sub: vscode.Disposable;

  constructor(private readonly index: DataFileIndex) {
    this.sub = index.onDidChange(() => this.emitter.fire(undefined));
  }

  getTreeItem(node: DataNode): vscode.TreeItem {
    switch (node.type) {
      case 'category': {
        const item = new vscode.TreeItem(CATEGORY_LABELS[node.category], vscode.TreeItemCollapsibleState.Expanded);
        item.id = `category:${node.category}`;
        item.description = `${node.entries.length}`;
        item.contextValue = `tracelift.dataCategory.${node.category}`;
        item.iconPath = new vscode.ThemeIcon(
          node.category === 'benchmark' ? 'database' : node.category === 'results' ? 'graph' : 'list-tree',
        );
        return item;
      }
      case 'file': {
        const d = node.entry.detection;
        const issues = d.malformedCount > 0;
        const text = dataFileItem(node.entry, d);
        const item = new vscode.TreeItem(
          text.label,
          issues ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
        );
        item.id = `file:${node.entry.fsPath}`;
        item.description = text.description;
        item.resourceUri = node.entry.uri;
        item.iconPath = issues ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')) : vscode.ThemeIcon.File;
        item.contextValue = `tracelift.dataFile.${d.kind}`;
        item.command = { command: 'vscode.open', title: 'Open', arguments: [node.entry.uri] };
        item.tooltip = hoverMarkdown(text.tooltip);
        return item;
      }
      case 'issue': {
        // The message may quote the file (field names, values).
        const item = new vscode.TreeItem(safeLine(node.text, 160), vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon('warning');
        item.tooltip = safeLine(node.text, 1000);
        item.contextValue = 'tracelift.dataIssue';
        const line = Math.max(0, (node.line ?? 1) - 1);
        item.command = {
          command: 'vscode.open',
          title: 'Open',
          arguments: [node.entry.uri, { selection: new vscode.Range(line, 0, line, 0) }],
        };
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon('loading~spin');
        return item;
      }
    }
  }

  getChildren(node?: DataNode): DataNode[] {
    if (!node) {
      const entries = this.index.entries();
      if (!entries.length && !this.index.scanned) return [{ type: 'message', text: 'Scanning the workspace for trace and data files…' }];
      const out: DataNode[] = [];
      for (const category of Object.keys(CATEGORY_LABELS) as DataCategory[]) {
        const inCat = entries.filter((e) => categoryOf(e.detection.kind) === category);
        if (inCat.length) out.push({ type: 'category', category, entries: inCat });
      }
      return out;
    }
    if (node.type === 'category') return node.entries.map((entry) => ({ type: 'file', entry }));
    if (node.type === 'file') {
      const d = node.entry.detection;
      const issues: DataNode[] = d.malformed.map((m) => ({
        type: 'issue',
        entry: node.entry,
        line: m.line,
        text: malformedText(m),
      }));
      if (d.malformedCount > d.malformed.length) {
        issues.push({
          type: 'issue',
          entry: node.entry,
          line: null,
          text: `… and ${d.malformedCount - d.malformed.length} more malformed lines`,
        });
      }
      return issues;
    }
    return [];
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
  }
}
