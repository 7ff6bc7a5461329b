/** The TraceLift activity-bar container: the Runs view and the Trace & Data Files view. */
import * as vscode from 'vscode';
import type { ActiveRuns } from '../services/activeRuns';
import type { RunStoreRegistry } from '../services/runs/runStore';
import { DataFileIndex } from '../services/dataFiles';
import { DataFilesTreeProvider } from './dataFilesTree';
import { RunsModel } from '../services/runsModel';
import { RunsTreeProvider } from './runsTree';

export const RUNS_VIEW = 'tracelift.runs';
export const DATA_FILES_VIEW = 'tracelift.dataFiles';

export interface Explorer {
  runs: RunsModel;
  runsTree: RunsTreeProvider;
  dataFiles: DataFileIndex;
}

/** `stores` are the run indexes shared with the webviews. */
export function registerExplorer(
  context: vscode.ExtensionContext,
  active: ActiveRuns,
  log: (line: string) => void,
  stores: RunStoreRegistry,
): Explorer {
  const runs = new RunsModel(active, log, stores);
  const runsTree = new RunsTreeProvider(runs);
  const dataFiles = new DataFileIndex(log);
  const dataTree = new DataFilesTreeProvider(dataFiles);
  const runsView = vscode.window.createTreeView(RUNS_VIEW, { treeDataProvider: runsTree, showCollapseAll: true, canSelectMany: true });
  const dataView = vscode.window.createTreeView(DATA_FILES_VIEW, { treeDataProvider: dataTree, showCollapseAll: true });
  const badge = () => {
    const live = runs.live().length;
    runsView.badge = live ? { value: live, tooltip: `${live} live run${live > 1 ? 's' : ''}` } : undefined;
  };
  // A collapsed run no longer needs its index (the webviews keep theirs).
  const collapsed = runsView.onDidCollapseElement((e) => {
    if (e.element.type === 'run') runs.release(e.element.run.dir);
  });
  context.subscriptions.push(runs, runsTree, dataFiles, dataTree, runsView, dataView, collapsed, runs.onDidChange(badge));
  return { runs, runsTree, dataFiles };
}
