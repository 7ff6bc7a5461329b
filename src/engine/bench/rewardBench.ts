/**
 * `tracelift bench reward`: one GRPO-shaped batch (P problems × G traces,
 * K=3) scored twice against the same executor server:
 *
 *  official  – as the official trainer does it: per trace, one after another,
 *              an e2e call, K calls with the trace and K without; no cache, no
 *              concurrency (2K+1 generations per trace);
 *  engine    – our GroupScorer: K with-trace samples per trace (e2e is the
 *              first of them), the baseline sampled once per problem (M) into a
 *              fresh cache, every call of the batch in flight under the bound.
 *
 * Then the engine's exact requests are replayed straight to the server with
 * the same concurrency and no other work (no verification, no bookkeeping):
 * overhead_ratio = engine wall / replay wall. Finally the engine scores the
 * batch again with the cache warm, as a later step or epoch over the same
 * problems would. The last stdout line is JSON.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MathProblem, Problem, ProtocolInput } from '../contract';
import { buildEvalConfig } from '../eval/buildConfig';
import { buildRunComponents, type RunComponents } from '../eval/runComponents';
import { configWindow } from '../eval/runEval';
import { ExecutorClient } from '../executor/client';
import type { ExecutorChoice } from '../executor/resolve';
import { renderCompletionPrompt } from '../prompts/render';
import { executorMessages, type ChatMessage } from '../prompts/templates';
import { gsm8k } from '../tasks/math/gsm8k';
import type { TraceInput } from '../uplift/scorer';

export interface RewardBenchOptions {
  executor: Pick<ExecutorChoice, 'endpoint' | 'origin' | 'identity'>;
  dataDir: string;
  problems: number;
  tracesPerProblem: number;
  k: number;
  baselineSamples: number;
  /** Executor sampling; the eval defaults when not given. */
  temperature?: number;
  maxTokens?: number;
  topP?: number;
  /** The engine's protocol (default: ours); the official pass's prompts are cut and rendered by it too. */
  protocol?: ProtocolInput;
  log: (line: string) => void;
}

export interface RewardBenchResult {
  problems: number;
  traces_per_problem: number;
  k: number;
  baseline_samples: number;
  official_generations: number;
  official_wall_s: number;
  engine_generations: number;
  engine_wall_s: number;
  engine_requests: number;
  replay_wall_s: number;
  engine_warm_generations: number;
  engine_warm_wall_s: number;
  generations_ratio: number;
  wall_ratio: number;
  overhead_ratio: number;
  generations_ratio_warm: number;
  wall_ratio_warm: number;
}

/** G distinct traces per problem: the reference and deterministic variants of it. */
export function traceVariants(problem: MathProblem, count: number): TraceInput[] {
  const ref = problem.reference_trace ?? '';
  const sentences = ref.split(/(?<=[.!?])\s+|\n+/).filter(Boolean);
  const variants = [
    ref,
    sentences.slice(0, Math.max(1, Math.ceil(sentences.length / 2))).join(' '),
    [...sentences].reverse().join(' '),
    ref.replace(/\d+(\.\d+)?/g, 'N'),
    sentences.slice(1).join(' ') || ref,
    sentences.map((s) => s.toUpperCase()).join(' '),
  ];
  return Array.from({ length: count }, (_, i) => ({
    sample_id: `${problem.id}#v${i}`,
    trace: i < variants.length ? variants[i]! : `${variants[i % variants.length]} (variant ${i})`,
    source: 'bench',
    label: `variant-${i}`,
  }));
}

export async function runRewardBench(o: RewardBenchOptions): Promise<RewardBenchResult> {
  // A fresh cache, so the first engine pass samples every baseline.
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracelift-bench-'));
  const config = buildEvalConfig({
    task: gsm8k.name,
    split: 'test',
    limit: o.problems,
    k: o.k,
    m: o.baselineSamples,
    traceSource: { kind: 'reference' },
    executor: o.executor,
    temperature: o.temperature,
    maxTokens: o.maxTokens,
    topP: o.topP,
    protocol: o.protocol,
    rewardMode: 'exec_only',
    dataDir: o.dataDir,
    cacheDir,
  });
  const problems = configWindow(config, gsm8k.load(config.data_dir, config.split) as MathProblem[]);
  const batch = problems.map((p) => ({ problem: p as Problem, traces: traceVariants(p, o.tracesPerProblem) }));
  const sampling = config.executor_sampling;
  // The cold engine pass records its requests for the replay; the warm pass shares its verifier.
  const recorded: { messages: ChatMessage[]; n: number }[] = [];
  const coldRun = buildRunComponents(config, {
    executorIdentity: o.executor.identity,
    clientOptions: { onRequest: (messages, _s, n) => recorded.push({ messages, n }) },
    log: o.log,
  });
  const { verifier, prompts } = coldRun;
  const protocol = config.protocol;
  const render = (messages: ChatMessage[]) => renderCompletionPrompt(messages, protocol.completion_prompt, 'math');
  try {
    // --- official: sequential, 2K+1 generations per trace ---------------------
    // Same prompts as the engine's (the protocol's wording, budgets and rendering): only the loop differs.
    const official = new ExecutorClient({ ...config.executor, concurrency: 1, n_sampling: 'no' }, { renderCompletion: render });
    let t0 = performance.now();
    let officialGenerations = 0;
    for (const { problem, traces } of batch) {
      for (const t of traces) {
        for (const withTrace of [true, ...Array(o.k).fill(true), ...Array(o.k).fill(false)] as boolean[]) {
          const [g] = await official.sample(
            executorMessages(prompts, problem.kind, problem.problem, withTrace ? t.trace : null, {
              truncation: protocol.truncation[problem.kind],
              emptyTraceAsNoTrace: protocol.empty_trace[problem.kind] === 'no_trace_prompt',
            }),
            sampling,
            1,
          );
          if (g && g.error === null) await verifier.verify(problem, g.text!);
          officialGenerations++;
        }
      }
    }
    const officialWall = (performance.now() - t0) / 1000;
    o.log(`official: ${officialGenerations} generations in ${officialWall.toFixed(1)} s`);

    // --- engine: every call of the batch in flight under the client's bound ---
    const engine = async (run: RunComponents) => {
      const started = performance.now();
      await Promise.all(batch.map((b, i) => run.scorer.scoreGroup(b.problem, b.traces, { groupIndex: i })));
      const stats = run.client.stats;
      return {
        wall: (performance.now() - started) / 1000,
        generations: stats.generations + stats.failed_generations,
        requests: stats.requests,
      };
    };
    const cold = await engine(coldRun);
    o.log(`engine (cold cache): ${cold.generations} generations in ${cold.wall.toFixed(1)} s`);

    // --- the same requests, straight to the server ---------------------------
    // requestOnce: each recorded HTTP request exactly once (the client's own bound applies).
    const replayClient = new ExecutorClient(config.executor, { renderCompletion: render });
    t0 = performance.now();
    await Promise.all(recorded.map((r) => replayClient.requestOnce(r.messages, sampling, r.n)));
    const replayWall = (performance.now() - t0) / 1000;
    o.log(`replay of the engine's ${recorded.length} requests: ${replayWall.toFixed(1)} s`);

    const warm = await engine(buildRunComponents(config, { executorIdentity: o.executor.identity, verifier, log: o.log }));
    o.log(`engine (warm cache): ${warm.generations} generations in ${warm.wall.toFixed(1)} s`);

    const round = (x: number) => Math.round(x * 1000) / 1000;
    return {
      problems: batch.length,
      traces_per_problem: o.tracesPerProblem,
      k: o.k,
      baseline_samples: o.baselineSamples,
      official_generations: officialGenerations,
      official_wall_s: round(officialWall),
      engine_generations: cold.generations,
      engine_wall_s: round(cold.wall),
      engine_requests: cold.requests,
      replay_wall_s: round(replayWall),
      engine_warm_generations: warm.generations,
      engine_warm_wall_s: round(warm.wall),
      generations_ratio: round(officialGenerations / cold.generations),
      wall_ratio: round(officialWall / cold.wall),
      overhead_ratio: round(cold.wall / replayWall),
      generations_ratio_warm: round(officialGenerations / Math.max(1, warm.generations)),
      wall_ratio_warm: round(officialWall / warm.wall),
    };
  } finally {
    await coldRun.close();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}
