/**
 * `tracelift bench train`: what a training step costs, in one JSON line.
 *
 *  steps     – a real short training run (the CPU recipe by default) on a
 *              small problem window, so later steps revisit earlier problems
 *              (limit 2, prompts_per_step 1: steps 3 and 4 revisit steps 1
 *              and 2's problems), with a fresh baseline cache; or the
 *              step_metrics of an existing run directory (`--run DIR`).
 *              Seconds per step split into generation / reward / update (as
 *              the trainer measured them), executor generations per step
 *              against the official loop's G·(2K+1) per prompt, and the
 *              generations of step 1 against those of steps that only revisit
 *              problems (their baselines are cached by then).
 *  overhead  – the reward service scoring one batch (P problems × G
 *              completions, through HTTP, as the trainer asks) against the
 *              same executor, then the very requests it made sent straight to
 *              the executor with the same concurrency: overhead_ratio =
 *              service wall / direct wall (goal ≤ 1.1).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MathProblem, RunEvent } from '../contract';
import { buildRunComponents } from '../eval/runComponents';
import { ExecutorClient } from '../executor/client';
import { resolveExecutor, type ExecutorChoice } from '../executor/resolve';
import { renderCompletionPrompt } from '../prompts/render';
import type { ChatMessage } from '../prompts/templates';
import type { Sampling } from '../contract';
import { CONFIG_FILE, readEvents, RunWriter } from '../run/runDir';
import { SummaryBuilder } from '../run/summary';
import { launchTraining } from '../train/launcher';
import { RewardService, type TrainingProblem } from '../train/rewardService';
import {
  parseTrainConfig,
  readTrainConfigFile,
  resolveTrainConfig,
  scorerEvalConfig,
  type ResolvedTrainConfig,
} from '../train/trainConfig';
import { loadTrainingProblems } from '../train/trainPrompts';
import { traceVariants } from './rewardBench';

export interface StepFigures {
  step: number;
  generation_s: number | null;
  reward_s: number | null;
  update_s: number | null;
  step_s: number | null;
  executor_generations: number | null;
  problems: string[];
  /** Every problem of the step was drawn at an earlier step (its baseline is cached). */
  revisit: boolean;
}

export interface TrainRunFigures {
  run_dir: string;
  steps: number;
  num_generations: number;
  k: number;
  baseline_samples: number;
  prompts_per_step: number;
  /** Means over the steps that report them. */
  time_generation_s: number | null;
  time_reward_s: number | null;
  time_update_s: number | null;
  time_step_s: number | null;
  executor_generations_per_step: number | null;
  /** The official loop: 2K+1 executor calls per trace, G traces per prompt. */
  official_generations_per_step: number;
  generations_ratio: number | null;
  generations_step1: number | null;
  /** Mean over the steps that only revisit problems (null: none did). */
  generations_second_visit: number | null;
  per_step: StepFigures[];
}

export interface ServiceOverhead {
  problems: number;
  completions: number;
  executor_requests: number;
  executor_generations: number;
  service_wall_s: number;
  direct_wall_s: number;
  overhead_ratio: number;
}

export type TrainBenchResult = TrainRunFigures & { overhead: ServiceOverhead | null };

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;
const meanOf = (xs: Array<number | null>): number | null => {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? round(v.reduce((a, b) => a + b, 0) / v.length) : null;
};

/** The figures of a training run directory, from its config.json and events (the last step_metrics of each step). */
export function trainRunFigures(runDir: string): TrainRunFigures {
  const config = parseTrainConfig(JSON.parse(fs.readFileSync(path.join(runDir, CONFIG_FILE), 'utf8')), path.join(runDir, CONFIG_FILE));
  const { events } = readEvents(runDir);
  const metrics = new Map<number, Record<string, number>>();
  const problemsAt = new Map<number, Set<string>>();
  for (const e of events as RunEvent[]) {
    if (e.type === 'step_metrics') metrics.set(e.step, e.metrics);
    if (e.type === 'rollout_group' && e.step !== null) {
      const set = problemsAt.get(e.step) ?? new Set<string>();
      set.add(e.problem_id);
      problemsAt.set(e.step, set);
    }
  }
  const seen = new Set<string>();
  const perStep: StepFigures[] = [...metrics.keys()]
    .sort((a, b) => a - b)
    .map((step) => {
      const m = metrics.get(step)!;
      const problems = [...(problemsAt.get(step) ?? [])].sort();
      const revisit = problems.length > 0 && problems.every((p) => seen.has(p));
      for (const p of problems) seen.add(p);
      const at = (name: string) => (typeof m[name] === 'number' ? round(m[name]) : null);
      return {
        step,
        generation_s: at('time_generation_s'),
        reward_s: at('time_reward_s'),
        update_s: at('time_update_s'),
        step_s: at('time_step_s'),
        executor_generations: at('executor_generations'),
        problems,
        revisit,
      };
    });
  const G = config.num_generations;
  const official = config.prompts_per_step * G * (2 * config.k + 1);
  const perStepGenerations = meanOf(perStep.map((s) => s.executor_generations));
  return {
    run_dir: runDir,
    steps: perStep.length,
    num_generations: G,
    k: config.k,
    baseline_samples: config.baseline_samples,
    prompts_per_step: config.prompts_per_step,
    time_generation_s: meanOf(perStep.map((s) => s.generation_s)),
    time_reward_s: meanOf(perStep.map((s) => s.reward_s)),
    time_update_s: meanOf(perStep.map((s) => s.update_s)),
    time_step_s: meanOf(perStep.map((s) => s.step_s)),
    executor_generations_per_step: perStepGenerations,
    official_generations_per_step: official,
    generations_ratio: perStepGenerations ? round(official / perStepGenerations) : null,
    generations_step1: perStep[0]?.executor_generations ?? null,
    generations_second_visit: meanOf(perStep.filter((s) => s.revisit).map((s) => s.executor_generations)),
    per_step: perStep,
  };
}

async function startExecutor(
  config: ResolvedTrainConfig,
  pythonPath: string | undefined,
  log: (l: string) => void,
): Promise<ExecutorChoice> {
  const e = config.executor;
  if (e) return { ...(await resolveExecutor({ url: e.base_url, model: e.model, apiKeyEnv: e.api_key_env, log })), endpoint: e };
  return resolveExecutor({ pythonPath, api: config.protocol.executor_api, log });
}

/**
 * The reward service's cost over the executor requests it makes: one batch of
 * `problems` × G completions (the problems' reference trace and variants of it,
 * inside <reasoning> tags) scored through HTTP with a fresh baseline cache,
 * then the recorded requests sent straight to the same executor.
 */
export async function measureServiceOverhead(
  config: ResolvedTrainConfig,
  o: { problems: number; pythonPath?: string; allowUnsandboxed?: boolean; log: (l: string) => void },
): Promise<ServiceOverhead> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tracelift-bench-train-'));
  const cfg: ResolvedTrainConfig = { ...config, cache_dir: path.join(tmp, 'cache') };
  const problems = new Map<string, TrainingProblem>([...loadTrainingProblems(cfg)].slice(0, o.problems));
  const kinds = new Set([...problems.values()].map((p) => p.problem.kind));
  if (kinds.size !== 1) throw new Error('the overhead batch needs problems of one kind');
  const kind = [...kinds][0]!;
  const executor = await startExecutor(cfg, o.pythonPath, o.log);
  const recorded: Array<{ messages: ChatMessage[]; sampling: Sampling; n: number }> = [];
  const parts = buildRunComponents(scorerEvalConfig(cfg, kind, executor), {
    executorIdentity: executor.identity,
    verifierOptions: { pythonPath: o.pythonPath, allowUnsandboxed: o.allowUnsandboxed },
    clientOptions: { onRequest: (messages, sampling, n) => recorded.push({ messages, sampling, n }) },
    log: o.log,
  });
  const { writer } = RunWriter.open(path.join(tmp, 'run'));
  const service = await new RewardService({
    runId: 'bench-train',
    writer,
    problems,
    scorers: { [kind]: parts.scorer },
    groupSize: cfg.num_generations,
    summary: new SummaryBuilder(),
  }).start();
  try {
    const items = [...problems.values()].flatMap(({ problem }) =>
      traceVariants(problem as MathProblem, cfg.num_generations).map((t) => ({
        problem_id: problem.id,
        completion: `<reasoning>\n${t.trace}\n</reasoning>`,
      })),
    );
    // Warm the verifier (a Python worker) and the connection outside the timed pass, as a running trainer has them.
    await parts.verifier.verify([...problems.values()][0]!.problem, 'The answer is 0.');
    let t0 = performance.now();
    const res = await fetch(`${service.url}/v1/rewards`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${service.token}` },
      body: JSON.stringify({ step: 0, items }),
    });
    if (!res.ok) throw new Error(`the reward service answered HTTP ${res.status}: ${await res.text()}`);
    await res.json();
    const serviceWall = (performance.now() - t0) / 1000;
    const stats = parts.client.stats;
    o.log(`service: ${items.length} completions, ${recorded.length} executor requests in ${serviceWall.toFixed(2)} s`);

    const protocol = cfg.protocol;
    const direct = new ExecutorClient(executor.endpoint, {
      renderCompletion: (messages) => renderCompletionPrompt(messages, protocol.completion_prompt, kind),
    });
    t0 = performance.now();
    await Promise.all(recorded.map((r) => direct.requestOnce(r.messages, r.sampling, r.n)));
    const directWall = (performance.now() - t0) / 1000;
    o.log(`direct: the same ${recorded.length} requests in ${directWall.toFixed(2)} s`);
    return {
      problems: problems.size,
      completions: items.length,
      executor_requests: recorded.length,
      executor_generations: stats.generations + stats.failed_generations,
      service_wall_s: round(serviceWall),
      direct_wall_s: round(directWall),
      overhead_ratio: round(serviceWall / directWall),
    };
  } finally {
    await service.close();
    await parts.close();
    await executor.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export interface TrainBenchOptions {
  /** The recipe for a new short run (and for the overhead batch). */
  configFile?: string | null;
  /** Read this run directory instead of training. */
  runDir?: string | null;
  /** Where the new run goes (default: a temporary directory, kept). */
  out?: string | null;
  steps: number;
  /** Problems in the window (per task): fewer than steps × prompts_per_step, so problems are revisited. */
  limit: number;
  overhead: boolean;
  overheadProblems: number;
  pythonPath?: string;
  allowUnsandboxed?: boolean;
  log: (line: string) => void;
}

/** A config file's content with the bench's window, length and a fresh cache (so step 1 samples every baseline). */
function benchConfig(file: string, o: TrainBenchOptions, cacheDir: string): Record<string, unknown> {
  const raw = readTrainConfigFile(file);
  const { $schema: _schema, ...rest } = raw;
  return {
    ...rest,
    tasks: raw.tasks.map((t) => ({ ...t, limit: o.limit })),
    max_steps: o.steps,
    save_steps: o.steps,
    cache_dir: cacheDir,
  };
}

export async function runTrainBench(o: TrainBenchOptions): Promise<TrainBenchResult> {
  if (!o.runDir && !o.configFile) throw new Error('give a recipe (--config) or a run directory (--run)');
  let runDir = o.runDir ?? null;
  let config: ResolvedTrainConfig;
  if (runDir) {
    config = resolveTrainConfig(parseTrainConfig(JSON.parse(fs.readFileSync(path.join(runDir, CONFIG_FILE), 'utf8'))));
  } else {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tracelift-bench-train-run-'));
    const configFile = path.join(tmp, 'bench-config.json');
    fs.writeFileSync(configFile, JSON.stringify(benchConfig(o.configFile!, o, path.join(tmp, 'cache')), null, 2));
    config = resolveTrainConfig(readTrainConfigFile(configFile));
    runDir = o.out ?? path.join(tmp, 'run');
    o.log(`bench train: ${o.steps} steps on ${o.limit} problem(s) per task → ${runDir}`);
    const run = await launchTraining({
      runDir,
      configFile,
      pythonPath: o.pythonPath,
      allowUnsandboxed: o.allowUnsandboxed,
      log: o.log,
      onEvent: (e) => {
        if (e.type === 'step_metrics') o.log(`step ${e.step}: ${JSON.stringify(e.metrics)}`);
      },
    });
    // Ctrl-C: the trainer finishes its step and checkpoints (as `tracelift train`); the bench stops there.
    const onSignal = () => run.stop();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const result = await run.done.finally(() => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    });
    if (result.status !== 'completed')
      throw new Error(
        `the bench's training run ${result.status}: ${result.message ?? ''} (its figures so far: tracelift bench train --run ${runDir})`,
      );
  }
  const figures = trainRunFigures(runDir);
  const overhead = o.overhead
    ? await measureServiceOverhead(config, {
        problems: o.overheadProblems,
        pythonPath: o.pythonPath,
        allowUnsandboxed: o.allowUnsandboxed,
        log: o.log,
      })
    : null;
  return { ...figures, overhead };
}
