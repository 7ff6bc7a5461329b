/**
 * Every TraceLift command. Each accepts what its menus pass (tree nodes, a
 * file URI and line from a CodeLens) and otherwise asks with quick picks, so
 * the same command works from the palette, the explorer and the editor.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { streamGroupRecords } from '../../engine/groups';
import { safeLine } from '../../shared/safeText';
import { readCapped, type DataFileEntry } from '../services/dataFiles';
import type { DataNode } from '../views/dataFilesTree';
import { detectText, type DataKind } from '../services/detect';
import type { RunIndex } from '../services/runs/runIndex';
import type { RunRow } from '../services/runs/runRows';
import type { RunInfo } from '../services/runScan';
import type { RunsNode, RunsTreeProvider } from '../views/runsTree';
import { dataFilePick, runPick, sampleName, samplePick } from '../views/labels';
import type { LiveRunsStatusBar } from '../views/statusBar';
import { setApiKeyCommand } from './setApiKey';
import { groupRecordAt, measureUpliftCommand, runEvalCommand, type EvalDeps } from './evalFlow';
import { listTraces, TRACE_KINDS, type TraceItem } from '../services/traceItems';
import type { TraceSampleRow } from '../../engine/contract';

export interface CommandDeps extends EvalDeps {
  runsTree: RunsTreeProvider;
  statusBar: LiveRunsStatusBar;
}

type Item<T> = vscode.QuickPickItem & { value: T };

function isRunsNode(x: unknown): x is RunsNode {
  return (
    typeof x === 'object' && x !== null && 'type' in x && ['run', 'problem', 'sample', 'more', 'message'].includes((x as RunsNode).type)
  );
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
    runs.map((r) => ({ ...runPick(r), value: r })),
    { title: 'TraceLift: runs', placeHolder, matchOnDescription: true },
  );
  return chosen?.value.dir;
}

function requireDir(dir: string): boolean {
  if (fs.existsSync(dir)) return true;
  void vscode.window.showErrorMessage(`TraceLift: the run folder ${safeLine(dir, 200)} no longer exists.`);
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
    items.push({ ...samplePick(s), value: { problemId: s.problemId, sampleId: s.sampleId } });
  }
  if (!items.length) {
    void vscode.window.showInformationMessage(`TraceLift: ${safeLine(path.basename(runDir))} has no scored samples yet.`);
    return;
  }
  const chosen = await vscode.window.showQuickPick(items, {
    title: 'TraceLift: Inspect Sample',
    placeHolder: 'Which sample?',
    matchOnDescription: true,
    matchOnDetail: true,
  });
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
    entries.map((e) => ({ ...dataFilePick(e, e.detection), value: e })),
    { title: 'TraceLift: trace files', placeHolder, matchOnDescription: true },
  );
  return chosen?.value;
}

/** A trace to pick for a diff: safe texts for the pick, the trace read when picked. */
interface TracePick {
  label: string;
  description: string;
  detail: string;
  load: () => { title: string; text: string; meta: Record<string, string | number | null> } | null;
}

const MAX_PICKS = 5000;

/** The traces of a file (by its detected kind). */
async function tracesOfFile(file: string): Promise<{ picks: TracePick[]; skipped: number }> {
  const { text, capped } = await readCapped(file);
  const kind = detectText(text, file, { capped }).kind;
  if (!TRACE_KINDS.includes(kind)) return { picks: [], skipped: 0 };
  const { items, skipped } = listTraces(text, kind, MAX_PICKS);
  const picks = items.map((t: TraceItem) => ({
    label: t.label,
    description: t.description,
    detail: safeLine(t.text, 120),
    load: () => ({ title: t.title, text: t.text, meta: t.meta }),
  }));
  return { picks, skipped };
}

/** The samples of a run, from its shared index (traces read back from events.jsonl when picked). */
function tracesOfRun(index: RunIndex): TracePick[] {
  const picks: TracePick[] = [];
  for (let i = 0; i < index.rowCount && picks.length < MAX_PICKS; i++) {
    if (index.isSuperseded(i)) continue; // a later group of the same (step, problem) replaced it
    const row = index.row(i);
    picks.push({
      ...samplePick(row),
      load: () => {
        const full = fullSample(index, row);
        return full && { title: `${row.problemId} · ${sampleName(row)}`, text: full.trace, meta: sampleMeta(full) };
      },
    });
  }
  return picks;
}

async function diffTraces(deps: CommandDeps, arg: unknown): Promise<void> {
  const runDir = isRunsNode(arg) ? runDirOf(arg) : undefined;
  let picks: TracePick[];
  let source: string;
  if (runDir) {
    if (!requireDir(runDir)) return;
    source = path.basename(runDir);
    picks = tracesOfRun(await deps.runs.index(runDir));
  } else {
    const file = fileOf(arg) ?? (await pickDataFile(deps, TRACE_KINDS, 'Diff two traces of which file?'))?.fsPath;
    if (!file) return;
    source = path.basename(file);
    try {
      const read = await tracesOfFile(file);
      if (read.skipped) deps.log(`${file}: ${read.skipped} malformed line(s) skipped`);
      picks = read.picks;
    } catch (err) {
      void vscode.window.showErrorMessage(`TraceLift: cannot read ${safeLine(file, 200)}: ${safeLine((err as Error).message, 200)}`);
      return;
    }
  }
  if (picks.length < 2) {
    void vscode.window.showInformationMessage(`TraceLift: ${safeLine(source)} holds ${picks.length} readable trace(s); a diff needs two.`);
    return;
  }
  const items = picks.map((p) => ({ label: p.label, description: p.description, detail: p.detail, value: p }));
  const left = await vscode.window.showQuickPick(items, {
    title: 'TraceLift: Diff Two Traces (1/2)',
    placeHolder: 'Left trace',
    matchOnDescription: true,
  });
  if (!left) return;
  const right = await vscode.window.showQuickPick(
    items.filter((i) => i !== left),
    { title: 'TraceLift: Diff Two Traces (2/2)', placeHolder: `Right trace (left: ${left.label})`, matchOnDescription: true },
  );
  if (!right) return;
  const [l, r] = [left.value.load(), right.value.load()];
  if (!l || !r) {
    void vscode.window.showErrorMessage('TraceLift: could not read the traces back from events.jsonl (was the file rewritten?).');
    return;
  }
  deps.webviews.openTraceDiff(l, r);
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
    void vscode.window.showInformationMessage(
      `TraceLift: problem ${safeLine(sample.problemId)} has no other reference trace in this run to diff against.`,
    );
    return;
  }
  const [left, right] = [fullSample(index, ref), fullSample(index, sample)];
  if (!left || !right) {
    void vscode.window.showErrorMessage('TraceLift: could not read the traces back from events.jsonl (was the file rewritten?).');
    return;
  }
  deps.webviews.openTraceDiff(
    { title: `${sampleName(ref)} (reference)`, text: left.trace, meta: sampleMeta(left) },
    { title: sampleName(arg.sample), text: right.trace, meta: sampleMeta(right) },
  );
}

function sampleMeta(r: TraceSampleRow): Record<string, string | number | null> {
  return {
    sample_id: r.sample_id,
    source: r.source,
    label: r.label,
    uplift: r.uplift,
    reward: r.reward?.value ?? null,
    k: r.with_trace_successes,
    K: r.with_trace_valid,
    // The row keeps the baseline as a rate over its valid samples: back to a count for b/M.
    baseline_successes: r.baseline_rate === null ? null : Math.round(r.baseline_rate * r.baseline_valid),
    baseline_valid: r.baseline_valid,
  };
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

/** Groups records offered in one pick (a quick pick stays usable up to about this many items). */
const MAX_GROUP_PICKS = 100_000;

/**
 * A record of a groups file: from CodeLens arguments (file and 0-based line),
 * or picked from every record of the file. The file is streamed (a large
 * file gets no CodeLens, so this pick is how its groups are reached), with a
 * cancellable progress notification.
 */
async function groupLine(
  deps: CommandDeps,
  args: unknown[],
  action: string,
): Promise<{ uri: vscode.Uri; line: number; index?: number } | undefined> {
  const [a, b] = args;
  if (a instanceof vscode.Uri && typeof b === 'number') return { uri: a, line: b };
  const file = fileOf(a) ?? (await pickDataFile(deps, ['groups'], `${action}: which groups file?`))?.fsPath;
  if (!file) return undefined;
  const name = safeLine(path.basename(file));
  let items: Array<Item<{ line: number; index: number }>>;
  let skipped = 0;
  try {
    items = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `TraceLift: reading the groups of ${name}`, cancellable: true },
      async (progress, token) => {
        const out: Array<Item<{ line: number; index: number }>> = [];
        for await (const { record, line, index } of streamGroupRecords(file, { onIssue: () => skipped++ })) {
          if (token.isCancellationRequested || out.length >= MAX_GROUP_PICKS) break;
          out.push({
            label: safeLine(record.problem_id, 80),
            description: `${record.positive_pool.length} pos · ${record.negative_bank.length} neg · line ${line}`,
            detail: safeLine(record.problem, 120),
            value: { line: line - 1, index },
          });
          if (out.length % 1000 === 0) progress.report({ message: `${out.length} groups…` });
        }
        return out;
      },
    );
  } catch (err) {
    void vscode.window.showErrorMessage(`TraceLift: cannot read ${safeLine(file, 200)}: ${safeLine((err as Error).message, 200)}`);
    return undefined;
  }
  if (skipped) deps.log(`${file}: ${skipped} malformed line(s) skipped`);
  if (!items.length) {
    void vscode.window.showErrorMessage(`TraceLift: ${name} has no valid groups record.`);
    return undefined;
  }
  const chosen = await vscode.window.showQuickPick(items, {
    title: `TraceLift: ${action} (${items.length}${items.length >= MAX_GROUP_PICKS ? '+' : ''} groups)`,
    placeHolder: 'Which group? (type to filter by problem id or text)',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  return chosen ? { uri: vscode.Uri.file(file), ...chosen.value } : undefined;
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
    const chosen = await vscode.window.showQuickPick(
      dirs.map((d) => ({ label: safeLine(path.basename(d)), description: safeLine(d, 200), value: d })),
      { title: 'TraceLift: live runs' },
    );
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
      : (
          await vscode.window.showQuickPick(
            active.map((r) => ({ label: safeLine(r.title), description: `${r.done}/${r.total ?? '?'} problems`, value: r })),
            { title: 'TraceLift: cancel which eval?' },
          )
        )?.value);
  if (!target) {
    if (!active.length) void vscode.window.showInformationMessage('TraceLift: no eval is running in this window.');
    return;
  }
  target.abort.abort();
  void vscode.window.showInformationMessage(`TraceLift: stopping ${safeLine(target.title)} after the groups in flight.`);
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
  vscode.window.setStatusBarMessage(`TraceLift: copied ${safeLine(p, 120)}`, 3000);
}

export function registerCommands(context: vscode.ExtensionContext, deps: CommandDeps): void {
  const run =
    (name: string, fn: (...args: unknown[]) => unknown) =>
    async (...args: unknown[]) => {
      try {
        await fn(...args);
      } catch (err) {
        deps.log(`${name}: ${(err as Error).stack ?? (err as Error).message}`);
        void vscode.window
          .showErrorMessage(`TraceLift: ${name} failed — ${safeLine((err as Error).message, 300)}`, 'Show Log')
          .then((c) => {
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
      // Picked from the streamed file: its record index is known (no need to open a large file as a document).
      if (at.index !== undefined) return deps.webviews.openGroupDiff(at.uri.fsPath, at.index);
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
  for (const [id, fn] of Object.entries(commands))
    context.subscriptions.push(vscode.commands.registerCommand(id, run(id.replace(/^tracelift\./, ''), fn)));
}
