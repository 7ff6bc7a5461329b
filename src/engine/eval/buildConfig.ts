/**
 * Building an EvalConfig from what a front door collected (CLI flags, the
 * extension's quick picks): trace source, executor choice, K/M, limits,
 * reward settings. One place for the defaults both front doors share.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  defaultRewardMode,
  EndpointSchema,
  EVAL_OPTION_DEFAULTS,
  EvalConfigSchema,
  SamplingSchema,
  type ApiKind,
  type E2eMode,
  type Endpoint,
  type EvalConfig,
  type ExecStyle,
  type RewardMode,
  type TraceSource,
} from '../contract';
import { looksLikeGroupsFile } from '../groups/detect';
import { DEFAULT_PROMPTS } from '../prompts/templates';
import { getTask } from '../tasks/registry';

/** $TRACELIFT_CACHE_DIR, else $XDG_CACHE_HOME/tracelift, else ~/.cache/tracelift. */
export function defaultCacheDir(): string {
  return (
    process.env[EVAL_OPTION_DEFAULTS.cacheDirEnv] ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'tracelift')
  );
}

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
  /** A traces file or a TraceLift-Groups file; without `format` the first record decides. */
  | { kind: 'file'; path: string; format?: 'traces' | 'groups' };

export function buildTraceSource(req: TraceSourceRequest): TraceSource {
  if (req.kind === 'reference') return { kind: 'reference' };
  if (req.kind === 'planner') {
    if (!req.url || !req.model) throw new Error('A planner trace source needs an endpoint URL and a model name.');
    return {
      kind: 'planner',
      endpoint: EndpointSchema.parse({ base_url: req.url, model: req.model, api: req.api, api_key_env: req.apiKeyEnv ?? null }),
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
  executor: { endpoint: Endpoint; origin: 'embedded' | 'configured' };
  temperature?: number;
  maxTokens?: number | null;
  rewardMode?: RewardMode | null;
  execStyle?: ExecStyle;
  e2e?: E2eMode;
  rmUrl?: string | null;
  judgeUrl?: string | null;
  judgeModel?: string | null;
  dataDir: string;
  cacheDir?: string | null;
}

/** The validated EvalConfig; what the request leaves out comes from the contract's defaults. */
export function buildEvalConfig(req: EvalConfigRequest): EvalConfig {
  const task = getTask(req.task);
  return EvalConfigSchema.parse({
    task: task.name,
    split: req.split ?? task.defaultSplit,
    limit: req.limit ?? null,
    offset: req.offset ?? EVAL_OPTION_DEFAULTS.offset,
    k: req.k ?? EVAL_OPTION_DEFAULTS.k,
    baseline_samples: req.m ?? EVAL_OPTION_DEFAULTS.baselineSamples,
    trace_source: buildTraceSource(req.traceSource),
    executor: req.executor.endpoint,
    executor_origin: req.executor.origin,
    executor_sampling: SamplingSchema.parse({
      temperature: req.temperature ?? EVAL_OPTION_DEFAULTS.executorTemperature,
      max_tokens: req.maxTokens ?? EVAL_OPTION_DEFAULTS.maxTokens[task.kind],
    }),
    reward: {
      mode: req.rewardMode ?? defaultRewardMode({ rmUrl: req.rmUrl, judgeUrl: req.judgeUrl }),
      exec_style: req.execStyle ?? EVAL_OPTION_DEFAULTS.execStyle,
      e2e: req.e2e ?? EVAL_OPTION_DEFAULTS.e2e,
      rm_url: req.rmUrl ?? null,
      judge: req.judgeUrl
        ? EndpointSchema.parse({ base_url: req.judgeUrl, model: req.judgeModel ?? EVAL_OPTION_DEFAULTS.judgeModel })
        : null,
    },
    prompt_version: DEFAULT_PROMPTS.version,
    data_dir: req.dataDir,
    cache_dir: req.cacheDir ?? defaultCacheDir(),
  });
}
