/**
 * An eval: trace source → executor → verifier over a task, written as a run
 * directory (config.json, events.jsonl, samples.jsonl, summary.json).
 *
 * Re-running into the same directory resumes it, with the same
 * configuration only (configDiff.ts): problems whose latest group has a
 * valid outcome are skipped; those without one (supersede.ts:
 * noValidOutcome) are scored again, and the new group supersedes the old.
 *
 * The run ends in one of three ways, each written as summary.json and then
 * run_ended: completed; cancelled (the signal: groups in flight are dropped,
 * never written); failed (an executor, planner or judge endpoint marked down
 * by its circuit breaker, or any other error: a fatal `error` event first).
 * No group is written after the run has ended.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import pLimit from 'p-limit';
import {
  EvalConfigSchema,
  REWARD_MODE_ENDPOINT,
  type EvalConfig,
  type Problem,
  type RewardConfig,
  type RolloutGroup,
  type RunSummary,
} from '../contract';
import { ExecutorClient, ExecutorDownError } from '../executor/client';
import type { PromptSet } from '../prompts/templates';
import { getTask } from '../tasks/registry';
import type { OutputVerifier } from '../verify';
import { ConfigMismatchError, configDifferences, freshRunDir, readStoredConfig } from '../run/configDiff';
import type { ExitGuard } from '../run/exitGuard';
import { CONFIG_FILE, EVENTS_FILE, readEvents, RunWriter } from '../run/runDir';
import { sha256OfFile } from '../data/fetch';
import { SummaryBuilder } from '../run/summary';
import { latestGroups, noValidOutcome } from '../run/supersede';
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
  /** Cancels the run: groups in flight are not written, the run ends "cancelled". */
  signal?: AbortSignal;
  onProgress?: (p: EvalProgress) => void;
  log?: (line: string) => void;
  /** When outDir already holds a run: start a fresh one next to it (`<outDir>-2`, `-3`…) instead of resuming it. */
  newRun?: boolean;
  /** Where the run registers its last words for a process that exits without unwinding (CLI: second signal, uncaught error). */
  exitGuard?: ExitGuard;
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
          clientOptions: opts.signal ? { signal: opts.signal } : undefined,
          log,
        });
  const { config, prompts, scorer } = run;
  // The traces file's content identifies what was measured (the editor finds measurements by it).
  if (config.trace_source.kind === 'file' && !config.trace_source.sha256 && fs.existsSync(config.trace_source.path))
    config.trace_source.sha256 = await sha256OfFile(config.trace_source.path);

  // Everything that can be checked is checked before a file is written or a call is made.
  const missing = missingRewardEndpoint(config.reward);
  if (missing) throw new Error(missing);
  let runDir = path.resolve(opts.outDir);
  if (opts.newRun) runDir = freshRunDir(runDir, holdsRun);
  const stored = readStoredConfig(path.join(runDir, CONFIG_FILE));
  if (stored) {
    const differences = configDifferences(stored, config);
    if (differences.length) throw new ConfigMismatchError(runDir, differences);
  }
  const work = loadWork(config, log);

  const { writer, previous, issues, repairs } = RunWriter.open(runDir);
  for (const issue of issues) log(`warning: ${issue.file}:${issue.line}: ${issue.message} (line skipped)`);
  for (const repair of repairs) log(`repaired: ${repair}`);

  const summary = SummaryBuilder.fromEvents(previous);
  const done = new Set<string>();
  const rescore: string[] = [];
  /** Problems with a group in the log already: writing another supersedes it. */
  const scored = new Set<string>();
  let supersededNow = false;
  let runId: string = randomUUID();
  for (const e of previous) if (e.type === 'run_started') runId = e.run_id;
  for (const g of latestGroups(previous)) {
    if (g.step !== null) continue;
    scored.add(g.problem_id);
    const why = noValidOutcome(g, config.reward.mode);
    if (why) rescore.push(`${g.problem_id} (${why})`);
    else done.add(g.problem_id);
  }
  const resumed = previous.some((e) => e.type === 'run_started');
  if (!stored) writer.writeConfig(config);
  writer.append({
    time: new Date().toISOString(),
    type: 'run_started',
    run_id: runId,
    run_kind: 'eval',
    engine_version: ENGINE_VERSION,
    resumed,
    config: config as unknown as Record<string, unknown>,
  });

  // The end of the run, written once; later writes of groups still in flight are refused.
  const generationsAtStart = scorer.generations;
  let counted = generationsAtStart;
  const newGenerations = () => {
    const n = scorer.generations - counted;
    counted = scorer.generations;
    summary.generations += n;
    return n;
  };
  let ended: RunSummary | null = null;
  const end = (status: RunSummary['status'] & ('completed' | 'failed' | 'cancelled'), message: string | null, where: string | null) => {
    if (ended) return ended;
    if (status === 'failed') {
      writer.append({
        time: new Date().toISOString(),
        type: 'error',
        message: message ?? 'eval failed',
        where,
        problem_id: null,
        fatal: true,
      });
    }
    const executorGenerations = newGenerations();
    ended = summary.build(runId, status);
    writer.writeSummary(ended);
    writer.append({ time: new Date().toISOString(), type: 'run_ended', status, message, executor_generations: executorGenerations });
    // Rows of groups superseded in this invocation leave samples.jsonl now (one rewrite, not one per group).
    if (supersededNow) writer.rederiveSamples(latestGroups(readEventsSafe(writer)));
    unregister?.();
    return ended;
  };
  const unregister = opts.exitGuard?.register((status, message) => end(status, message, status === 'failed' ? 'process' : null));
  writer.writeSummary(summary.build(runId, 'running'));

  // The first fatal error or the cancel stops the run: no group starts or is written after it.
  let fatal: { message: string; where: string } | null = null;
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const onAbort = () => stop();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const fail = (err: unknown) => {
    if (fatal) return;
    fatal = describeFatal(err, config);
    stop();
  };
  const halted = () => fatal !== null || opts.signal?.aborted === true || ended !== null;

  try {
    if (opts.signal?.aborted) stop();
    let items: ProblemWithTraces[];
    if (work.kind === 'ready') items = work.items;
    else {
      // Planner traces only for the problems still to score.
      const wanted = work.problems.filter((p) => !done.has(p.id));
      const planner = new ExecutorClient(work.source.endpoint, { log, signal: opts.signal });
      const planned = await Promise.race([
        plannerTraces(wanted, planner, work.source.sampling, prompts, work.source.traces_per_problem, config.protocol.truncation),
        stopped.then(() => null),
      ]);
      items = planned?.items ?? [];
      for (const f of planned?.failures ?? []) log(`warning: ${f}`);
      if (planned && planned.items.length < wanted.length)
        log(`${wanted.length - planned.items.length} problem(s) got no planner trace; a resume tries them again`);
    }
    const total = work.kind === 'ready' ? work.items.length : work.problems.length;
    const todo = items.filter((w) => !done.has(w.problem.id));
    const skipped = work.kind === 'ready' ? items.length - todo.length : work.problems.filter((p) => done.has(p.id)).length;
    if (skipped) log(`resuming: ${skipped} problem(s) already scored in ${runDir}`);
    if (rescore.length)
      log(
        `re-scoring ${rescore.length} problem(s) with no valid outcome: ${rescore.slice(0, 5).join('; ')}${rescore.length > 5 ? ' …' : ''}`,
      );
    let finished = skipped;
    opts.onProgress?.({ done: finished, total, skipped, group: null });

    const limit = pLimit(opts.groupConcurrency ?? Math.max(2, config.executor.concurrency));
    const indexOf = new Map(items.map((w, i) => [w.problem.id, i]));
    const tasks = todo.map((item) =>
      limit(async () => {
        if (halted()) return;
        let group: RolloutGroup;
        try {
          group = await scorer.scoreGroup(item.problem, item.traces, { groupIndex: indexOf.get(item.problem.id)! });
        } catch (err) {
          fail(err);
          return;
        }
        if (halted()) return;
        const written = writer.append({ ...group, executor_generations: newGenerations() }) as RolloutGroup;
        writer.appendSampleRows(written);
        if (scored.has(written.problem_id)) supersededNow = true;
        summary.add(written);
        writer.writeSummary(summary.build(runId, 'running'));
        finished++;
        opts.onProgress?.({ done: finished, total, skipped, group: written });
      }).catch(fail),
    );
    await Promise.race([Promise.all(tasks), stopped]);
  } catch (err) {
    fail(err);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }

  const failure = fatal as { message: string; where: string } | null;
  const final = failure
    ? end('failed', failure.message, failure.where)
    : opts.signal?.aborted
      ? end('cancelled', 'cancelled: groups in flight were not written; run again to resume', null)
      : end('completed', null, null);
  if (final.status === 'failed') throw Object.assign(new Error(failure?.message ?? 'eval failed'), { runDir, summary: final });
  return { runDir, summary: final, status: final.status };
}

/** Whether a directory already holds a run (its config or events). */
function holdsRun(dir: string): boolean {
  return fs.existsSync(path.join(dir, CONFIG_FILE)) || fs.existsSync(path.join(dir, EVENTS_FILE));
}

function readEventsSafe(writer: RunWriter) {
  return readEvents(writer.dir).events;
}

/**
 * What a reward mode needs besides the executor and is missing, in words
 * naming the flag (and setting) to add; null when nothing is missing.
 */
export function missingRewardEndpoint(reward: {
  mode: RewardConfig['mode'];
  rm_url: string | null;
  rm_model?: unknown;
  judge: unknown;
}): string | null {
  const needs = REWARD_MODE_ENDPOINT[reward.mode];
  if (needs === 'rm' && !reward.rm_url && !reward.rm_model)
    return `reward mode ${reward.mode} needs a Reason RM endpoint: add --rm-url URL (VS Code: tracelift.rmUrl) or --rm-model DIR (an RM trained with \`tracelift rm train\`), or choose --reward-mode exec_only`;
  if (needs === 'judge' && !reward.judge)
    return `reward mode ${reward.mode} needs a judge endpoint: add --judge-url URL (VS Code: tracelift.judge.url), or choose --reward-mode exec_only`;
  return null;
}

/** The fatal error's message and where it happened; an endpoint marked down is named by its role. */
function describeFatal(err: unknown, config: EvalConfig): { message: string; where: string } {
  if (err instanceof ExecutorDownError) {
    const named = (e: { base_url: string; model: string } | null | undefined) => !!e && err.endpoint === `${e.base_url} (model ${e.model})`;
    const where = named(config.executor)
      ? 'executor'
      : named(config.reward.judge)
        ? 'judge'
        : config.trace_source.kind === 'planner' && named(config.trace_source.endpoint)
          ? 'planner'
          : 'executor';
    // The breaker words it as "executor <url> is down"; a judge or planner says which it is.
    const message = where === 'executor' ? err.message : `${where} endpoint: ${err.message.replace(/^executor /, '')}`;
    return { message, where };
  }
  return { message: err instanceof Error ? err.message : String(err), where: 'eval' };
}

/** The items of a run's window: `offset` skipped, at most `limit` kept. */
export function configWindow<T>(config: Pick<EvalConfig, 'offset' | 'limit'>, items: T[]): T[] {
  return items.slice(config.offset, config.limit ? config.offset + config.limit : undefined);
}

type Work =
  | { kind: 'ready'; items: ProblemWithTraces[] }
  /** Planner traces are made once the run has started (they are calls), for the problems still to score. */
  | { kind: 'planner'; problems: Problem[]; source: Extract<EvalConfig['trace_source'], { kind: 'planner' }> };

/** The run's window of problems with their traces (or the problems a planner will write traces for); reads files only. */
function loadWork(config: EvalConfig, log: (l: string) => void): Work {
  const task = getTask(config.task);
  const source = config.trace_source;
  const window = <T>(items: T[], what: string): T[] => {
    if (config.offset > 0 && config.offset >= items.length) throw new Error(`offset ${config.offset} is past the end of ${what}`);
    return configWindow(config, items);
  };

  if (source.kind === 'file' && source.format === 'groups') {
    const items = tracesFromGroups(source.path, task.name, task.kind);
    return { kind: 'ready', items: window(items, `${source.path} (${items.length} records)`) };
  }
  const problems: Problem[] = task.load(config.data_dir, config.split);
  const whole = `${task.name}/${config.split} (${problems.length} problems)`;
  if (source.kind === 'reference') {
    const items = referenceTraces(problems, task.name);
    return {
      kind: 'ready',
      items: window(items, items.length === problems.length ? whole : `the ${items.length} problems of ${whole} with reference traces`),
    };
  }
  if (source.kind === 'file') {
    const { items, unmatched } = tracesFromFile(source.path, problems);
    if (unmatched.length)
      log(`warning: ${unmatched.length} trace(s) name problems not in ${task.name}/${config.split}: ${unmatched.slice(0, 5).join(', ')}`);
    if (!items.length)
      throw new Error(
        `${source.path}: no trace matches a problem id of ${task.name}/${config.split} (ids look like "${problems[0]?.id}").`,
      );
    return { kind: 'ready', items: window(items, `the ${items.length} problems of ${whole} that ${source.path} has traces for`) };
  }
  return { kind: 'planner', problems: window(problems, whole), source };
}
