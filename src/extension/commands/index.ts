/**
 * Every TraceLift command. Each accepts what its menus pass (tree nodes, a
 * file URI and line from a CodeLens) and otherwise asks with quick picks, so
 * the same command works from the palette, the explorer and the editor.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { GroupRecordSchema } from '../../engine/contract';
import { SAMPLES_FILE } from '../../engine/run/runDir';
import { flat } from '../services/annotate';
import { readCapped, type DataFileEntry } from '../services/dataFiles';
import type { DataNode } from '../views/dataFilesTree';
import { describeCounts, detectText, type DataKind } from '../services/detect';
import type { RunIndex } from '../services/runs/runIndex';
import type { RunRow } from '../services/runs/runRows';
import { describeRun, type RunInfo } from '../services/runScan';
import type { RunsNode, RunsTreeProvider } from '../views/runsTree';
import { describeSample, sampleLabel } from '../views/runsTree';
import type { LiveRunsStatusBar } from '../views/statusBar';
import { setApiKeyCommand } from './setApiKey';
import { groupRecordAt, measureUpliftCommand, runEvalCommand, type EvalDeps } from './evalFlow';
import { listTraces, TRACE_KINDS, type TraceItem } from '../services/traceItems';

export interface CommandDeps extends EvalDeps {
  runsTree: RunsTreeProvider;
  statusBar: LiveRunsStatusBar;
}

type Item<T> = vscode.QuickPickItem & { value: T };

function isRunsNode(x: unknown): x is RunsNode {
  return typeof x === 'object' && x !== null && 'type' in x && ['run', 'problem', 'sample', 'more', 'message'].includes((x as RunsNode).type);
}

function isDataFileNode(x: unknown): x is Extract<DataNode, { type: 'file' }> {
  return typeof x === 'object' && x !== null && (x as DataNode).type === 'file' && 'entry' in x;
}

/** A run directory from whatever a menu passed: a run/problem/sample node, a URI or a path. */
function runDirOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (isRunsNode(arg)) {
    if (arg.type === 'run') return arg.run.dir;
    if ('runDir' in arg && arg.runDir) return arg.runDir;
  }
  return undefined;
}

/** A file path from a data-file node, a URI or a path. */
function fileOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (isDataFileNode(arg)) return arg.entry.fsPath;
  return undefined;
}

async function pickRun(deps: CommandDeps, placeHolder: string, exclude?: string): Promise<string | undefined> {
  const runs = deps.runs.runs().filter((r) => !exclude || path.resolve(r.dir) !== path.resolve(exclude));
  if (!runs.length) {
    const folders = deps.runs.folders();
    const choice = await vscode.window.showInformationMessage(
      `TraceLift: no runs${exclude ? ' to compare with' : ''} in ${folders.join(', ') || 'this window (open a folder)'}. Start one with "Run Eval on Workspace".`,
      'Run Eval on Workspace',
    );
    if (choice) void vscode.commands.executeCommand('tracelift.runEval');
    return undefined;
  }
  const chosen = await vscode.window.showQuickPick<Item<RunInfo>>(
    runs.map((r) => ({ label: `${r.live ? '$(sync~spin) ' : ''}${r.name}`, description: describeRun(r), detail: r.dir, value: r })),
    { title: 'TraceLift: runs', placeHolder, matchOnDescription: true },
  );
  return chosen?.value.dir;
}

function requireDir(dir: string): boolean {
  if (fs.existsSync(dir)) return true;
  void vscode.window.showErrorMessage(`TraceLift: the run folder ${dir} no longer exists.`);
  return false;
}

async function inspectSample(deps: CommandDeps, arg: unknown): Promise<void> {
  // From a CodeLens: {runDir, problemId, sampleId}.
  if (typeof arg === 'object' && arg !== null && 'sampleId' in arg && 'runDir' in arg) {
    const a = arg as { runDir: string; problemId: string; sampleId: string };
    deps.webviews.openInspector(a.runDir, a.problemId, a.sampleId);
    return;
  }
  if (isRunsNode(arg) && arg.type === 'sample') {
    deps.webviews.openInspector(arg.runDir, arg.sample.problemId, arg.sample.sampleId);
    return;
  }
  const runDir = runDirOf(arg) ?? (await pickRun(deps, 'Inspect a sample of which run?'));
  if (!runDir || !requireDir(runDir)) return;
  const MAX_ITEMS = 5000;
  const problems = isRunsNode(arg) && arg.type === 'problem' ? [arg.problem] : (await deps.runs.index(runDir)).problems(0, MAX_ITEMS);
  const items: Item<{ problemId: string; sampleId: string }>[] = [];
  for (const s of problems.flatMap((p) => p.samples).slice(0, MAX_ITEMS)) {
    items.push({ label: `${s.problemId} · ${sampleLabel(s)}`, description: describeSample(s), value: { problemId: s.problemId, sampleId: s.sampleId } });
  }
  if (!items.length) {
    void vscode.window.showInformationMessage(`TraceLift: ${path.basename(runDir)} has no scored samples yet.`);
    return;
  }
  const chosen = await vscode.window.showQuickPick(items, { title: 'TraceLift: Inspect Sample', placeHolder: 'Which sample?', matchOnDescription: true });
  if (chosen) deps.webviews.openInspector(runDir, chosen.value.problemId, chosen.value.sampleId);
}

async function pickDataFile(deps: CommandDeps, kinds: readonly DataKind[], placeHolder: string): Promise<DataFileEntry | undefined> {
  await deps.dataFiles.ready();
  const entries = deps.dataFiles.entries(kinds);
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active?.scheme === 'file') {
    const e = await deps.dataFiles.entryFor(active.fsPath);
    if (e && kinds.includes(e.detection.kind) && !entries.includes(e)) entries.unshift(e);
  }
  if (!entries.length) {
    void vscode.window.showInformationMessage(`TraceLift: no ${kinds.join(' / ')} files detected in this workspace.`);
    return undefined;
  }
  const chosen = await vscode.window.showQuickPick<Item<DataFileEntry>>(
    entries.map((e) => ({ label: path.basename(e.fsPath), description: e.rel, detail: `${e.detection.label} · ${describeCounts(e.detection)}`, value: e })),
    { title: 'TraceLift: trace files', placeHolder, matchOnDescription: true },
  );
  return chosen?.value;
}

/** The traces of a file (by its detected kind). */
async function tracesOf(file: string): Promise<{ items: TraceItem[]; skipped: number; kind: DataKind }> {
  const { text, capped } = await readCapped(file);
  const kind = detectText(text, file, { capped }).kind;
  if (!TRACE_KINDS.includes(kind)) return { items: [], skipped: 0, kind };
  return { ...listTraces(text, kind), kind };
}

async function diffTraces(deps: CommandDeps, arg: unknown): Promise<void> {
  let file = fileOf(arg);
  const runDir = isRunsNode(arg) ? runDirOf(arg) : undefined;
  if (runDir) file = path.join(runDir, SAMPLES_FILE);
  if (!file) file = (await pickDataFile(deps, TRACE_KINDS, 'Diff two traces of which file?'))?.fsPath;
  if (!file) return;
  let traces: Awaited<ReturnType<typeof tracesOf>>;
  try {
    traces = await tracesOf(file);
  } catch (err) {
    void vscode.window.showErrorMessage(`TraceLift: cannot read ${file}: ${(err as Error).message}`);
    return;
  }
  if (traces.items.length < 2) {
    void vscode.window.showInformationMessage(`TraceLift: ${path.basename(file)} holds ${traces.items.length} readable trace(s); a diff needs two.`);
    return;
  }
  if (traces.skipped) deps.log(`${file}: ${traces.skipped} malformed line(s) skipped`);
  const items = traces.items.map((t) => ({ label: t.label, description: t.description, detail: flat(t.text, 120), value: t }));
  const left = await vscode.window.showQuickPick(items, { title: 'TraceLift: Diff Two Traces (1/2)', placeHolder: 'Left trace', matchOnDescription: true });
  if (!left) return;
  const right = await vscode.window.showQuickPick(
    items.filter((i) => i !== left),
    { title: 'TraceLift: Diff Two Traces (2/2)', placeHolder: `Right trace (left: ${left.label})`, matchOnDescription: true },
  );
  if (!right) return;
  deps.webviews.openTraceDiff(
    { title: left.value.label, text: left.value.text, meta: left.value.meta },
    { title: right.value.label, text: right.value.text, meta: right.value.meta },
  );
}

/** Diff of a run's sample against its problem's reference (or first positive) trace. */
async function diffSampleVsReference(deps: CommandDeps, arg: unknown): Promise<void> {
  if (!isRunsNode(arg) || arg.type !== 'sample') {
    await diffTraces(deps, arg);
    return;
  }
  const sample = arg.sample;
  const index = await deps.runs.index(arg.runDir);
  const problem = index.problemsWithId(sample.problemId).find((p) => p.task === sample.task);
  const ref = problem?.samples.find((s) => s.source === 'reference' || s.source === 'positive');
  if (!ref || ref.sampleId === sample.sampleId) {
    void vscode.window.showInformationMessage(`TraceLift: problem ${sample.problemId} has no other reference trace in this run to diff against.`);
    return;
  }
  const [left, right] = [fullSample(index, ref), fullSample(index, sample)];
  if (!left || !right) {
    void vscode.window.showErrorMessage('TraceLift: could not read the traces back from events.jsonl (was the file rewritten?).');
    return;
  }
  const meta = (r: typeof left) => ({ sample_id: r.sample_id, uplift: r.uplift, reward: r.reward?.value ?? null, label: r.label });
  deps.webviews.openTraceDiff(
    { title: `${sampleLabel(ref)} (reference)`, text: left.trace, meta: meta(left) },
    { title: sampleLabel(arg.sample), text: right.trace, meta: meta(right) },
  );
}

/** A sample's whole row (with its trace), re-read from its group; null when the run changed under the index. */
function fullSample(index: RunIndex, row: RunRow) {
  const id = index.findSample(row.problemId, row.sampleId, row.line);
  if (id < 0) return null;
  try {
    return index.sampleRow(id);
  } catch {
    return null;
  }
}

/** A record of a groups file, as its line number: from CodeLens arguments, or picked. */
async function groupLine(deps: CommandDeps, args: unknown[], action: string): Promise<{ uri: vscode.Uri; line: number } | undefined> {
  const [a, b] = args;
  if (a instanceof vscode.Uri && typeof b === 'number') return { uri: a, line: b };
  let file = fileOf(a);
  if (!file) file = (await pickDataFile(deps, ['groups'], `${action}: which groups file?`))?.fsPath;
  if (!file) return undefined;
  let text: string;
  try {
    text = (await readCapped(file)).text;
  } catch (err) {
    void vscode.window.showErrorMessage(`TraceLift: cannot read ${file}: ${(err as Error).message}`);
    return undefined;
  }
  const items: Item<number>[] = [];
  text.split('\n').forEach((raw, line) => {
    if (!raw.trim() || items.length >= 5000) return;
    try {
      const g = GroupRecordSchema.safeParse(JSON.parse(raw));
      if (g.success) {
        items.push({
          label: flat(g.data.problem_id, 80),
          description: `${g.data.positive_pool.length} pos · ${g.data.negative_bank.length} neg · line ${line + 1}`,
          detail: flat(g.data.problem, 120),
          value: line,
        });
      }
    } catch {
      // malformed lines are shown in the explorer and as diagnostics; not pickable here
    }
  });
  if (!items.length) {
    void vscode.window.showErrorMessage(`TraceLift: ${path.basename(file)} has no valid groups record.`);
    return undefined;
  }
  const chosen = await vscode.window.showQuickPick(items, { title: `TraceLift: ${action}`, placeHolder: 'Which group?', matchOnDescription: true, matchOnDetail: true });
  return chosen ? { uri: vscode.Uri.file(file), line: chosen.value } : undefined;
}

async function compareRuns(deps: CommandDeps, arg: unknown, selected: unknown): Promise<void> {
  const picked = Array.isArray(selected) ? selected.map(runDirOf).filter((d): d is string => !!d) : [];
  if (picked.length === 2) {
    deps.webviews.openCompareRuns(picked[0]!, picked[1]!);
    return;
  }
  const a = runDirOf(arg) ?? (await pickRun(deps, 'Compare which run (A)…'));
  if (!a) return;
  const b = await pickRun(deps, `…with which run (B)? A: ${path.basename(a)}`, a);
  if (b) deps.webviews.openCompareRuns(a, b);
}

async function openLiveRun(deps: CommandDeps): Promise<void> {
  const dirs = deps.statusBar.liveDirs();
  if (dirs.length === 1) deps.webviews.openRunView(dirs[0]!);
  else if (dirs.length) {
    const chosen = await vscode.window.showQuickPick(dirs.map((d) => ({ label: path.basename(d), description: d, value: d })), { title: 'TraceLift: live runs' });
    if (chosen) deps.webviews.openRunView(chosen.value);
  } else await vscode.commands.executeCommand('tracelift.openRun');
}

async function cancelEval(deps: CommandDeps, arg: unknown): Promise<void> {
  const active = deps.active.list();
  const dir = runDirOf(arg);
  const target =
    (dir ? deps.active.get(dir) : undefined) ??
    (active.length === 1
      ? active[0]
      : (await vscode.window.showQuickPick(active.map((r) => ({ label: r.title, description: `${r.done}/${r.total ?? '?'} problems`, value: r })), { title: 'TraceLift: cancel which eval?' }))?.value);
  if (!target) {
    if (!active.length) void vscode.window.showInformationMessage('TraceLift: no eval is running in this window.');
    return;
  }
  target.abort.abort();
  void vscode.window.showInformationMessage(`TraceLift: stopping ${target.title} after the groups in flight.`);
}

async function reveal(arg: unknown): Promise<void> {
  const p = runDirOf(arg) ?? fileOf(arg);
  if (!p) return;
  const uri = vscode.Uri.file(p);
  await vscode.commands.executeCommand(vscode.workspace.getWorkspaceFolder(uri) ? 'revealInExplorer' : 'revealFileInOS', uri);
}

async function copyPath(arg: unknown): Promise<void> {
  const p = runDirOf(arg) ?? fileOf(arg);
  if (!p) return;
  await vscode.env.clipboard.writeText(p);
  vscode.window.setStatusBarMessage(`TraceLift: copied ${p}`, 3000);
}

export function registerCommands(context: vscode.ExtensionContext, deps: CommandDeps): void {
  const run =
    (name: string, fn: (...args: unknown[]) => unknown) =>
    async (...args: unknown[]) => {
      try {
        await fn(...args);
      } catch (err) {
        deps.log(`${name}: ${(err as Error).stack ?? (err as Error).message}`);
        void vscode.window.showErrorMessage(`TraceLift: ${name} failed — ${(err as Error).message}`, 'Show Log').then((c) => {
          if (c) deps.output.show(true);
        });
      }
    };
  const commands: Record<string, (...args: unknown[]) => unknown> = {
    'tracelift.runEval': (arg) => runEvalCommand(deps, { file: fileOf(arg) }),
    'tracelift.runEvalOnFile': (arg) => runEvalCommand(deps, { file: fileOf(arg) ?? vscode.window.activeTextEditor?.document.uri.fsPath }),
    'tracelift.cancelEval': (arg) => cancelEval(deps, arg),
    'tracelift.openRun': async (arg) => {
      const dir = runDirOf(arg) ?? (await pickRun(deps, 'Open the run view of which run?'));
      if (dir && requireDir(dir)) deps.webviews.openRunView(dir);
    },
    'tracelift.openLiveRun': () => openLiveRun(deps),
    'tracelift.inspectSample': (arg) => inspectSample(deps, arg),
    'tracelift.diffTraces': (arg) => diffTraces(deps, arg),
    'tracelift.diffSampleVsReference': (arg) => diffSampleVsReference(deps, arg),
    'tracelift.diffGroupVsReference': async (...args) => {
      const at = await groupLine(deps, args, 'Diff Group vs Reference');
      if (!at) return;
      const rec = await groupRecordAt(at.uri, at.line);
      if (rec) deps.webviews.openGroupDiff(at.uri.fsPath, rec.index);
    },
    'tracelift.measureUplift': async (...args) => {
      const at = await groupLine(deps, args, 'Measure Uplift');
      if (at) await measureUpliftCommand(deps, at.uri, at.line);
    },
    'tracelift.compareRuns': (arg, selected) => compareRuns(deps, arg, selected),
    'tracelift.setApiKey': () => setApiKeyCommand(deps.keys),
    'tracelift.showLog': () => deps.output.show(true),
    'tracelift.refreshExplorer': async () => {
      deps.runs.refresh();
      await deps.dataFiles.rescan();
    },
    'tracelift.revealInExplorer': (arg) => reveal(arg),
    'tracelift.copyPath': (arg) => copyPath(arg),
    'tracelift.openDataFile': (arg) => {
      const f = fileOf(arg);
      if (f) return vscode.commands.executeCommand('vscode.open', vscode.Uri.file(f));
    },
    'tracelift.explorer.showMore': (arg) => {
      if (typeof arg === 'string') deps.runsTree.showMore(arg);
    },
  };
  for (const [id, fn] of Object.entries(commands)) context.subscriptions.push(vscode.commands.registerCommand(id, run(id.replace(/^tracelift\./, ''), fn)));
}
