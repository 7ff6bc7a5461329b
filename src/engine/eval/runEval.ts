/**
 * An eval: trace source → executor → verifier over a task, written as a run
 * directory (config.json, events.jsonl, samples.jsonl, summary.json).
 * Re-running into the same directory resumes it: problems whose group is
 * already in events.jsonl are skipped.
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import pLimit from 'p-limit';
import { EvalConfigSchema, type EvalConfig, type Problem, type RolloutGroup, type RunSummary } from '../contract';
import { ExecutorClient } from '../executor/client';
import type { PromptSet } from '../prompts/templates';
import { getTask } from '../tasks/registry';
import type { OutputVerifier } from '../verify';
import { RunWriter } from '../run/runDir';
import { SummaryBuilder } from '../run/summary';
import { buildRunComponents, type RunComponents } from './runComponents';
import { plannerTraces, referenceTraces, tracesFromFile, tracesFromGroups, type ProblemWithTraces } from './traceSources';

export const ENGINE_VERSION = '0.1.0';

export interface EvalProgress {
  done: number;
  total: number;
  skipped: number;
  group: RolloutGroup | null;
}

/** The run's parts from buildRunComponents / assembleRun (config, client, verifier, cache, scorer). */
export interface RunEvalParts {
  run: RunComponents;
}

/** Without assembled parts: they are built here from the config (the caller still owns the verifier). */
export interface RunEvalConfigParts {
  config: EvalConfig;
  /** Stable executor identity for the baseline cache. */
  executorIdentity: string;
  verifier: OutputVerifier;
  prompts?: PromptSet;
  /** Use no on-disk baseline cache (each run samples its own baselines). */
  noCache?: boolean;
}

export type RunEvalOptions = (RunEvalParts | RunEvalConfigParts) & {
  outDir: string;
  /** Groups scored at once; executor calls are bounded separately by the endpoint. */
  groupConcurrency?: number;
  signal?: AbortSignal;
  onProgress?: (p: EvalProgress) => void;
  log?: (line: string) => void;
};

export interface EvalResult {
  runDir: string;
  summary: RunSummary;
  status: RunSummary['status'];
}

export async function runEval(opts: RunEvalOptions): Promise<EvalResult> {
  const log = opts.log ?? (() => {});
  const run =
    'run' in opts
      ? opts.run
      : buildRunComponents(EvalConfigSchema.parse(opts.config), {
          executorIdentity: opts.executorIdentity,
          verifier: opts.verifier,
          prompts: opts.prompts,
          noCache: opts.noCache,
          log,
        });
  const { config, prompts, scorer } = run;
  const runDir = path.resolve(opts.outDir);
  const { writer, previous, issues } = RunWriter.open(runDir);
  for (const issue of issues) log(`warning: ${issue.file}:${issue.line}: ${issue.message} (line skipped)`);

  const summary = new SummaryBuilder();
  const done = new Set<string>();
  let runId: string = randomUUID();
  for (const e of previous) {
    if (e.type === 'run_started') runId = e.run_id;
    if (e.type === 'rollout_group') {
      done.add(e.problem_id);
      summary.add(e);
    }
  }
  const resumed = previous.some((e) => e.type === 'run_started');
  writer.writeConfig(config);
  writer.append({
    time: new Date().toISOString(),
    type: 'run_started',
    run_id: runId,
    run_kind: 'eval',
    engine_version: ENGINE_VERSION,
    resumed,
    config: config as unknown as Record<string, unknown>,
  });

  let status: RunSummary['status'] = 'completed';
  let message: string | null = null;
  try {
    const work = await loadWork(config, prompts, log);
    const todo = work.filter((w) => !done.has(w.problem.id));
    const skipped = work.length - todo.length;
    if (skipped) log(`resuming: ${skipped} problem(s) already scored in ${runDir}`);
    let finished = skipped;
    opts.onProgress?.({ done: finished, total: work.length, skipped, group: null });

    const limit = pLimit(opts.groupConcurrency ?? Math.max(2, config.executor.concurrency));
    const indexOf = new Map(work.map((w, i) => [w.problem.id, i]));
    await Promise.all(
      todo.map((item) =>
        limit(async () => {
          if (opts.signal?.aborted) return;
          const group = await scorer.scoreGroup(item.problem, item.traces, { groupIndex: indexOf.get(item.problem.id)! });
          if (opts.signal?.aborted) return;
          const written = writer.append(group) as RolloutGroup;
          writer.appendSampleRows(written);
          summary.add(written);
          summary.generations = scorer.generations;
          writer.writeSummary(summary.build(runId, 'running'));
          finished++;
          opts.onProgress?.({ done: finished, total: work.length, skipped, group: written });
        }),
      ),
    );
    if (opts.signal?.aborted) {
      status = 'cancelled';
      message = 'cancelled by the user';
    }
  } catch (err) {
    status = 'failed';
    message = (err as Error).message;
    writer.append({ time: new Date().toISOString(), type: 'error', message, where: 'eval', problem_id: null, fatal: true });
  }
  summary.generations = scorer.generations;
  const final = summary.build(runId, status);
  writer.writeSummary(final);
  writer.append({ time: new Date().toISOString(), type: 'run_ended', status, message });
  if (status === 'failed') throw Object.assign(new Error(message ?? 'eval failed'), { runDir, summary: final });
  return { runDir, summary: final, status };
}

/** The items of a run's window: `offset` skipped, at most `limit` kept. */
export function configWindow<T>(config: Pick<EvalConfig, 'offset' | 'limit'>, items: T[]): T[] {
  return items.slice(config.offset, config.limit ? config.offset + config.limit : undefined);
}

async function loadWork(config: EvalConfig, prompts: PromptSet, log: (l: string) => void): Promise<ProblemWithTraces[]> {
  const task = getTask(config.task);
  const source = config.trace_source;
  const window = <T>(items: T[]): T[] => configWindow(config, items);

  if (source.kind === 'file' && source.format === 'groups') {
    if (task.kind !== 'math') throw new Error('Groups files are scored as math problems; pick a math task for their verifier.');
    return window(tracesFromGroups(source.path, task.name));
  }
  const problems: Problem[] = task.load(config.data_dir, config.split);
  if (source.kind === 'reference') return window(referenceTraces(problems, task.name));
  if (source.kind === 'file') {
    const { items, unmatched } = tracesFromFile(source.path, problems);
    if (unmatched.length)
      log(`warning: ${unmatched.length} trace(s) name problems not in ${task.name}/${config.split}: ${unmatched.slice(0, 5).join(', ')}`);
    if (!items.length)
      throw new Error(
        `${source.path}: no trace matches a problem id of ${task.name}/${config.split} (ids look like "${problems[0]?.id}").`,
      );
    return window(items);
  }
  const planner = new ExecutorClient(source.endpoint, { log });
  const { items, failures } = await plannerTraces(window(problems), planner, source.sampling, prompts, source.traces_per_problem);
  for (const f of failures) log(`warning: ${f}`);
  return items;
}
