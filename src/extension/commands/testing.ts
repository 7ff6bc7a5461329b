/**
 * The benchmarks in VS Code's Testing view: one item per benchmark of the
 * task registry, its problems as children (resolved when expanded, the first
 * MAX_PROBLEM_ITEMS of the default split). Run, re-run failed and cancel come
 * from the Testing view; a run evaluates the chosen problems with the
 * engine's eval (one normal run directory per contiguous range of problems:
 * the embedded executor, traces from the configured planner or, without one,
 * the executor's own server) and reports per problem pass/fail with and
 * without the trace and the uplift; a failure links to its sample.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { loadRun } from '../../engine/analysis/loadRun';
import { defaultRunDirName, type TraceSourceRequest } from '../../engine/eval/buildConfig';
import { assembleRun, type AssembledRun } from '../../engine/eval/runComponents';
import { runEval } from '../../engine/eval/runEval';
import { EVENTS_FILE } from '../../engine/run/runDir';
import { resolveDataDir } from '../../engine/tasks/dataDir';
import { getTask, listTasks } from '../../engine/tasks/registry';
import { safeLine } from '../../shared/safeText';
import { primaryRunsFolder, readSettings, type TraceLiftSettings } from '../services/settings';
import { BENCHMARK_RUN_PROBLEMS, MAX_PROBLEM_ITEMS, outcomeText, problemOutcome, problemRanges } from '../services/testExplorer';
import { requireTrust, type EvalDeps } from './evalFlow';
import { offerDataDownload, offerEmbeddedSetup } from './setup';

export const TEST_CONTROLLER_ID = 'tracelift.benchmarks';

interface ProblemRef {
  task: string;
  index: number;
  problemId: string;
}

function dataDirOf(settings: TraceLiftSettings): string | null {
  try {
    return settings.dataDir ?? resolveDataDir();
  } catch {
    return null;
  }
}

export function registerTestExplorer(
  context: vscode.ExtensionContext,
  deps: Pick<EvalDeps, 'log' | 'keys' | 'active' | 'runs'>,
): vscode.TestController {
  const ctrl = vscode.tests.createTestController(TEST_CONTROLLER_ID, 'TraceLift benchmarks');
  context.subscriptions.push(ctrl);
  const problems = new WeakMap<vscode.TestItem, ProblemRef>();

  const loadChildren = (item: vscode.TestItem) => {
    const task = getTask(item.id);
    const dataDir = dataDirOf(readSettings());
    try {
      if (!dataDir) throw new Error('not downloaded yet: run the benchmark to download it (or TraceLift: Download Benchmark Data…)');
      const all = task.load(dataDir, task.defaultSplit);
      const items = all.slice(0, MAX_PROBLEM_ITEMS).map((p, index) => {
        const child = ctrl.createTestItem(`${task.name}/${p.id}`, safeLine(p.id, 80));
        child.description = `#${index + 1}`;
        problems.set(child, { task: task.name, index, problemId: p.id });
        return child;
      });
      item.children.replace(items);
      item.description = `${task.kind} · ${all.length > MAX_PROBLEM_ITEMS ? `first ${MAX_PROBLEM_ITEMS} of ${all.length}` : all.length} problems`;
      item.error = undefined;
    } catch (err) {
      item.error = safeLine((err as Error).message, 300);
    }
  };

  ctrl.resolveHandler = async (item) => {
    if (!item) {
      ctrl.items.replace(
        listTasks().map((t) => {
          const it = ctrl.createTestItem(t.name, t.name);
          it.description = t.kind;
          it.canResolveChildren = true;
          return it;
        }),
      );
      return;
    }
    if (!problems.has(item)) loadChildren(item);
  };

  const runHandler = async (request: vscode.TestRunRequest, token: vscode.CancellationToken) => {
    const run = ctrl.createTestRun(request);
    const finished = new Set<vscode.TestItem>();
    try {
      if (!(await requireTrust('running benchmark problems'))) return;
      // As Run Eval does: a fresh machine is offered the embedded executor's set-up instead of a failure.
      if (!(await offerEmbeddedSetup())) return;
      const excluded = new Set(request.exclude ?? []);
      const chosen: vscode.TestItem[] = [];
      const roots: vscode.TestItem[] = [];
      ctrl.items.forEach((i) => roots.push(i));
      for (const item of request.include ?? roots) {
        if (excluded.has(item)) continue;
        if (problems.has(item)) chosen.push(item);
        else {
          if (!item.children.size) loadChildren(item);
          // A benchmark run by name whose files are not here: offer the download (not for "run all": one question per benchmark).
          if (!item.children.size && item.error && request.include && (await offerDataDownload(item.id))) loadChildren(item);
          const kids: vscode.TestItem[] = [];
          item.children.forEach((c) => kids.push(c));
          chosen.push(...kids.filter((c) => !excluded.has(c)).slice(0, BENCHMARK_RUN_PROBLEMS));
        }
      }
      const byTask = new Map<string, vscode.TestItem[]>();
      for (const item of chosen) {
        const ref = problems.get(item)!;
        byTask.set(ref.task, [...(byTask.get(ref.task) ?? []), item]);
        run.enqueued(item);
      }
      for (const [task, items] of byTask) {
        for (const range of problemRanges(items.map((i) => problems.get(i)!.index))) {
          if (token.isCancellationRequested) break;
          const inRange = items.filter((i) => {
            const ix = problems.get(i)!.index;
            return ix >= range.offset && ix < range.offset + range.limit;
          });
          await evaluateRange(task, range, inRange);
        }
      }
      // Cancelled: what never got a result is skipped.
      if (token.isCancellationRequested) for (const item of chosen) if (!finished.has(item)) run.skipped(item);
    } finally {
      run.end();
      deps.runs.refresh();
    }

    async function evaluateRange(task: string, range: { offset: number; limit: number }, items: vscode.TestItem[]): Promise<void> {
      const settings = readSettings();
      const runsFolder = primaryRunsFolder(settings);
      const dataDir = dataDirOf(settings);
      if (!runsFolder || !dataDir) {
        const why = !runsFolder
          ? 'open a folder first: runs are written under its runs folder'
          : 'the benchmark data is not here: TraceLift: Download Benchmark Data…, or set tracelift.dataDir';
        for (const i of items) {
          run.errored(i, new vscode.TestMessage(why));
          finished.add(i);
        }
        return;
      }
      for (const i of items) run.started(i);
      let runDir = path.join(runsFolder, defaultRunDirName(`test-${task}`));
      for (let n = 2; fs.existsSync(runDir); n++) runDir = path.join(runsFolder, `${defaultRunDirName(`test-${task}`)}-${n}`);
      const abort = new AbortController();
      const cancel = token.onCancellationRequested(() => abort.abort());
      const plannerKey = await deps.keys.lease('planner');
      let assembled: AssembledRun | null = null;
      deps.active.add(runDir, `Test ${task} #${range.offset + 1}–${range.offset + range.limit}`, abort);
      try {
        const traces: TraceSourceRequest =
          settings.planner.url && settings.planner.model
            ? {
                kind: 'planner',
                url: settings.planner.url,
                model: settings.planner.model,
                api: settings.planner.api ?? undefined,
                apiKeyEnv: plannerKey.env,
                tracesPerProblem: settings.planner.tracesPerProblem,
              }
            : { kind: 'executor_planner', tracesPerProblem: settings.planner.tracesPerProblem };
        run.appendOutput(`${task}: problems ${range.offset + 1}–${range.offset + range.limit} → ${runDir}\r\n`);
        assembled = await assembleRun({
          config: {
            task,
            split: getTask(task).defaultSplit,
            offset: range.offset,
            limit: range.limit,
            traceSource: traces,
            protocol: settings.protocol,
            e2e: settings.e2e,
            rmUrl: settings.rmUrl,
            dataDir,
            cacheDir: settings.cacheDir,
          },
          executor: {
            url: null,
            model: null,
            api: settings.executor.api ?? undefined,
            apiKeyEnv: null,
            concurrency: settings.concurrency,
            pythonPath: settings.pythonPath ?? undefined,
            modelPath: settings.embeddedModelPath ?? undefined,
          },
          verifierOptions: { pythonPath: settings.pythonPath ?? undefined, allowUnsandboxed: settings.allowUnsandboxed },
          log: deps.log,
        });
        if (abort.signal.aborted) return;
        await runEval({
          run: assembled,
          outDir: runDir,
          signal: abort.signal,
          log: deps.log,
          onProgress: (p) => deps.active.progress(runDir, p.done, p.total),
        });
        report(runDir, items);
      } catch (err) {
        const message = safeLine((err as Error).message, 400);
        deps.log(`test run ${task} failed: ${message}`);
        for (const i of items) {
          run.errored(i, new vscode.TestMessage(message));
          finished.add(i);
        }
      } finally {
        cancel.dispose();
        plannerKey.release();
        await assembled?.close().catch(() => {});
        if (!fs.existsSync(path.join(runDir, EVENTS_FILE))) fs.rmSync(runDir, { recursive: true, force: true });
        deps.active.remove(runDir);
      }
    }

    /** Each item's result from the run directory's scored groups. */
    function report(runDir: string, items: vscode.TestItem[]): void {
      const groups = new Map(loadRun(runDir).groups.map((g) => [g.problem_id, g]));
      for (const item of items) {
        const ref = problems.get(item)!;
        const group = groups.get(ref.problemId);
        if (group || !token.isCancellationRequested) finished.add(item);
        if (!group) {
          // Cancelled before it was scored: skipped when the run ends.
          if (!token.isCancellationRequested)
            run.errored(item, new vscode.TestMessage(`no scored group for ${safeLine(ref.problemId, 80)} in ${runDir}`));
          continue;
        }
        const o = problemOutcome(group);
        const text = outcomeText(o);
        run.appendOutput(`${safeLine(ref.problemId, 80)}: ${o.passed ? 'passed' : 'failed'} — ${text}\r\n`, undefined, item);
        if (o.passed) {
          run.passed(item);
          continue;
        }
        const md = new vscode.MarkdownString(`Failed: ${text}.`);
        if (o.sampleId) {
          const args = encodeURIComponent(JSON.stringify([{ runDir, problemId: ref.problemId, sampleId: o.sampleId }]));
          md.appendMarkdown(` [Open the sample in the inspector](command:tracelift.inspectSample?${args})`);
          md.isTrusted = { enabledCommands: ['tracelift.inspectSample'] };
        }
        run.failed(item, new vscode.TestMessage(md));
      }
    }
  };

  ctrl.createRunProfile('Run with traces', vscode.TestRunProfileKind.Run, runHandler, true);
  ctrl.refreshHandler = async () => {
    ctrl.items.replace([]);
    await ctrl.resolveHandler?.(undefined);
  };
  return ctrl;
}
