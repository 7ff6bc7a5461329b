/**
 * The one place a run is assembled: from a run config, the executor client,
 * the verifier, the baseline cache, the LLM judge and the group scorer that
 * every front door (CLI eval, baselines, bench, the extension) uses. Changing
 * how a part is built here changes it everywhere, so the baseline cache keys
 * of an eval and of `tracelift baselines` cannot drift apart.
 */
import * as path from 'node:path';
import { EXPECTED_OUTPUTS_SUBDIR, type EvalConfig } from '../contract';
import { ExecutorClient, type ExecutorClientOptions } from '../executor/client';
import { resolveExecutor, type ExecutorChoice, type ExecutorRequest } from '../executor/resolve';
import { renderCompletionPrompt } from '../prompts/render';
import { PROMPT_SETS, type PromptSet } from '../prompts/templates';
import { getTask } from '../tasks/registry';
import { LlmJudge } from '../reward/judge';
import { BaselineCache } from '../uplift/baselineCache';
import { GroupScorer, type ScorerOptions } from '../uplift/scorer';
import { rmModelId, serveRunRm, type ServedRm } from '../rm/rmModel';
import type { RmServer } from '../rm/rmProcess';
import { EngineVerifier, type EngineVerifierOptions, type OutputVerifier } from '../verify';
import { buildEvalConfig, buildTraceSource, requestProtocol, type EvalConfigRequest } from './buildConfig';

export interface RunComponentsOptions {
  /** Stable identity of the executor serving config.executor: part of every baseline cache key. */
  executorIdentity: string;
  /** A verifier to share (not closed by close()); without it one is made from `verifierOptions`. */
  verifier?: OutputVerifier;
  verifierOptions?: Pick<EngineVerifierOptions, 'pythonPath' | 'allowUnsandboxed' | 'codeConcurrency' | 'codeTimeoutS'>;
  /** No on-disk baseline cache: each run samples its own baselines. */
  noCache?: boolean;
  /** Default: the prompt set config.protocol names. */
  prompts?: PromptSet;
  /** Extra executor client options (request recording, cancellation…). */
  clientOptions?: Omit<ExecutorClientOptions, 'log' | 'renderCompletion'>;
  /** Scorer knobs the config does not carry (reward weights; the URL and token of an RM the engine serves). */
  scorerOptions?: Pick<ScorerOptions, 'rewardOptions' | 'rmEndpoint'>;
  log?: (line: string) => void;
}

export interface RunComponents {
  config: EvalConfig;
  prompts: PromptSet;
  executorIdentity: string;
  client: ExecutorClient;
  verifier: OutputVerifier;
  /** Null with `noCache`. */
  cache: BaselineCache | null;
  /** Null unless the config names a judge endpoint. */
  judge: LlmJudge | null;
  scorer: GroupScorer;
  /** Releases what was made here (the verifier's workers); a shared verifier is left open. */
  close(): Promise<void>;
}

/** The parts of a run for an already validated config and a running executor. */
export function buildRunComponents(config: EvalConfig, opts: RunComponentsOptions): RunComponents {
  const log = opts.log ?? (() => {});
  const protocol = config.protocol;
  const prompts = opts.prompts ?? PROMPT_SETS[protocol.prompt_set];
  const kind = getTask(config.task).kind;
  const ownVerifier = opts.verifier
    ? null
    : new EngineVerifier({ ...opts.verifierOptions, expectedCacheDir: path.join(config.cache_dir, EXPECTED_OUTPUTS_SUBDIR), log });
  const verifier = opts.verifier ?? ownVerifier!;
  const client = new ExecutorClient(config.executor, {
    ...opts.clientOptions,
    renderCompletion: (messages) => renderCompletionPrompt(messages, protocol.completion_prompt, kind),
    log,
  });
  const judge = config.reward.judge
    ? new LlmJudge(new ExecutorClient(config.reward.judge, { log, signal: opts.clientOptions?.signal }), prompts, {
        ...config.executor_sampling,
        temperature: 0,
      })
    : null;
  const cache = opts.noCache ? null : new BaselineCache(config.cache_dir);
  const scorer = new GroupScorer({
    ...opts.scorerOptions,
    protocol,
    client,
    executorIdentity: opts.executorIdentity,
    sampling: config.executor_sampling,
    prompts,
    verifier,
    cache,
    k: config.k,
    baselineSamples: config.baseline_samples,
    reward: config.reward,
    judge,
    log,
  });
  return {
    config,
    prompts,
    executorIdentity: opts.executorIdentity,
    client,
    verifier,
    cache,
    judge,
    scorer,
    close: async () => {
      await ownVerifier?.close();
    },
  };
}

export interface AssembledRun extends RunComponents {
  executor: ExecutorChoice;
  /** The Reason RM server started for the run (config.reward.rm_model), stopped by close(). */
  rmServer: RmServer | null;
}

export interface AssembleRunRequest extends Omit<RunComponentsOptions, 'executorIdentity'> {
  /** Everything of the config but the executor, which is resolved here. */
  config: Omit<EvalConfigRequest, 'executor'>;
  /** A configured endpoint, or (without a URL) the embedded default server, started here. */
  executor: Omit<ExecutorRequest, 'log'>;
}

/**
 * A whole run from a front door's request: checks the trace source before
 * anything starts, connects to (or starts) the executor, builds the config
 * and the parts. close() also stops an executor started here.
 */
export async function assembleRun(req: AssembleRunRequest): Promise<AssembledRun> {
  const { config: configRequest, executor: executorRequest, ...options } = req;
  buildTraceSource(configRequest.traceSource); // a missing traces file fails before a server starts
  // The protocol's executor API when the request names none; a bad knob fails before a server starts.
  const api = executorRequest.api ?? requestProtocol(configRequest).executor_api;
  if (configRequest.rmUrl && configRequest.rmModel) throw new Error('give an RM endpoint (--rm-url) or an RM model (--rm-model), not both');
  const executor = await resolveExecutor({ ...executorRequest, api, log: options.log });
  let rm: ServedRm | null = null;
  try {
    const config = buildEvalConfig({ ...configRequest, executor });
    if (config.reward.rm_model) {
      rm = await serveRunRm(
        { dir: config.reward.rm_model.dir, id: config.reward.rm_model.id ?? rmModelId(config.reward.rm_model.dir) },
        { pythonPath: options.verifierOptions?.pythonPath, log: options.log },
      );
    }
    const parts = buildRunComponents(config, {
      ...options,
      scorerOptions: { ...options.scorerOptions, rmEndpoint: rm?.endpoint ?? null },
      executorIdentity: executor.identity,
    });
    const server = rm?.server ?? null;
    return {
      ...parts,
      executor,
      rmServer: server,
      close: async () => {
        try {
          await parts.close();
        } finally {
          await Promise.all([executor.stop(), server?.stop()]);
        }
      },
    };
  } catch (err) {
    await Promise.all([executor.stop(), rm?.server.stop()]);
    throw err;
  }
}
