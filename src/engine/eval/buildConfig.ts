/**
 * Building an EvalConfig from what a front door collected (CLI flags, the
 * extension's quick picks): trace source, executor choice, K/M, limits,
 * reward settings. One place for the defaults both front doors share.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  defaultCacheDir,
  defaultRewardMode,
  EndpointSchema,
  EVAL_OPTION_DEFAULTS,
  EvalConfigSchema,
  resolveProtocol,
  SamplingSchema,
  type ApiKind,
  type E2eChoice,
  type Endpoint,
  type EndpointInput,
  type EvalConfig,
  type ExecStyle,
  type Protocol,
  type ProtocolInput,
  type RewardMode,
  type TraceSource,
} from '../contract';
import { looksLikeGroupsFile } from '../groups/detect';
import { PROMPT_SETS } from '../prompts/templates';
import type { RmModelRef } from '../rm/rmModel';
import { getTask } from '../tasks/registry';

/** `<task>-<ISO time with : and . replaced>`: the default run directory name. */
export function defaultRunDirName(task: string, now: Date = new Date()): string {
  return `${task}-${now.toISOString().replace(/[:.]/g, '-')}`;
}

export type TraceSourceRequest =
  | { kind: 'reference' }
  | {
      kind: 'planner';
      url: string;
      model: string;
      api?: ApiKind;
      apiKeyEnv?: string | null;
      tracesPerProblem?: number;
    }
  /** The executor's own server plans (the embedded default: one local server, two roles). */
  | { kind: 'executor_planner'; tracesPerProblem?: number }
  /** A traces file or a TraceLift-Groups file; without `format` the first record decides. */
  | { kind: 'file'; path: string; format?: 'traces' | 'groups' };

/**
 * The config's trace source. `executor_planner` plans with `executor` (its
 * endpoint as the run resolved it, so the config names the server that
 * planned); before the executor is known (`executor` null: a front door
 * checking a request early) it yields null.
 */
export function buildTraceSource(req: TraceSourceRequest, executor: Endpoint | null = null): TraceSource | null {
  if (req.kind === 'reference') return { kind: 'reference' };
  if (req.kind === 'planner' || req.kind === 'executor_planner') {
    if (req.kind === 'planner' && (!req.url || !req.model))
      throw new Error('A planner trace source needs an endpoint URL and a model name.');
    if (req.kind === 'executor_planner' && !executor) return null;
    const endpoint =
      req.kind === 'planner'
        ? EndpointSchema.parse({ base_url: req.url, model: req.model, api: req.api, api_key_env: req.apiKeyEnv ?? null })
        : EndpointSchema.parse(executor);
    return {
      kind: 'planner',
      endpoint,
      sampling: SamplingSchema.parse(EVAL_OPTION_DEFAULTS.plannerSampling),
      traces_per_problem: req.tracesPerProblem ?? EVAL_OPTION_DEFAULTS.tracesPerProblem,
    };
  }
  if (!fs.existsSync(req.path)) throw new Error(`Traces file not found: ${req.path}`);
  return { kind: 'file', path: path.resolve(req.path), format: req.format ?? (looksLikeGroupsFile(req.path) ? 'groups' : 'traces') };
}

export interface EvalConfigRequest {
  task: string;
  split?: string | null;
  limit?: number | null;
  offset?: number;
  k?: number;
  /** No-trace baseline samples per problem. */
  m?: number;
  traceSource: TraceSourceRequest;
  executor: { endpoint: EndpointInput; origin: 'embedded' | 'configured' };
  temperature?: number;
  /** Executor max tokens; default: the protocol's for the task kind. */
  maxTokens?: number | null;
  /** Executor top_p; default: the protocol's. */
  topP?: number | null;
  rewardMode?: RewardMode | null;
  execStyle?: ExecStyle;
  /** first / mean: from the K with-trace samples; extra_call: the official extra call. Default: the protocol's e2e_source (then first). */
  e2e?: E2eChoice | null;
  /** A preset and knob overrides (default: the tracelift preset, no overrides). */
  protocol?: ProtocolInput;
  rmUrl?: string | null;
  /** A Reason RM trained here, served by the engine for the run (resolved with its content id: rm/rmModel.ts). */
  rmModel?: RmModelRef | null;
  judgeUrl?: string | null;
  judgeModel?: string | null;
  /** Environment variable holding the judge endpoint's API key. */
  judgeKeyEnv?: string | null;
  dataDir: string;
  cacheDir?: string | null;
}

/**
 * The protocol a request asks for: its preset and knobs, with `e2e` on top
 * (extra_call is the official e2e source; first / mean take e2e from the K
 * samples). Throws a ZodError naming the knob when one is out of range.
 */
export function requestProtocol(req: Pick<EvalConfigRequest, 'protocol' | 'e2e'>): Protocol {
  const e2eSource = !req.e2e ? undefined : req.e2e === 'extra_call' ? 'extra_call' : 'with_trace';
  return resolveProtocol({ ...req.protocol, ...(e2eSource ? { e2e_source: e2eSource } : {}) });
}

/** The validated EvalConfig; what the request leaves out comes from the protocol and the contract's defaults. */
export function buildEvalConfig(req: EvalConfigRequest): EvalConfig {
  const task = getTask(req.task);
  const protocol = requestProtocol(req);
  const executor = EndpointSchema.parse(req.executor.endpoint);
  return EvalConfigSchema.parse({
    task: task.name,
    split: req.split ?? task.defaultSplit,
    limit: req.limit ?? null,
    offset: req.offset ?? EVAL_OPTION_DEFAULTS.offset,
    k: req.k ?? EVAL_OPTION_DEFAULTS.k,
    baseline_samples: req.m ?? EVAL_OPTION_DEFAULTS.baselineSamples,
    trace_source: buildTraceSource(req.traceSource, executor),
    executor,
    executor_origin: req.executor.origin,
    executor_sampling: SamplingSchema.parse({
      temperature: req.temperature ?? EVAL_OPTION_DEFAULTS.executorTemperature,
      max_tokens: req.maxTokens ?? protocol.max_tokens[task.kind],
      top_p: req.topP ?? protocol.top_p,
    }),
    reward: {
      mode: req.rewardMode ?? defaultRewardMode({ rmUrl: req.rmUrl, rmModel: req.rmModel?.dir, judgeUrl: req.judgeUrl }),
      exec_style: req.execStyle ?? EVAL_OPTION_DEFAULTS.execStyle,
      e2e: req.e2e === 'first' || req.e2e === 'mean' ? req.e2e : EVAL_OPTION_DEFAULTS.e2e,
      rm_url: req.rmUrl ?? null,
      rm_model: req.rmModel ?? null,
      judge: req.judgeUrl
        ? EndpointSchema.parse({
            base_url: req.judgeUrl,
            model: req.judgeModel ?? EVAL_OPTION_DEFAULTS.judgeModel,
            api_key_env: req.judgeKeyEnv ?? null,
          })
        : null,
    },
    prompt_version: PROMPT_SETS[protocol.prompt_set].version,
    protocol,
    data_dir: req.dataDir,
    cache_dir: req.cacheDir ?? defaultCacheDir(),
  });
}
