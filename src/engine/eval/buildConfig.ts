/**
 * Building an EvalConfig from what a front door collected (CLI flags, the
 * extension's quick picks): trace source, executor choice, K/M, limits,
 * reward settings. One place for the defaults both front doors share.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EndpointSchema, EvalConfigSchema, SamplingSchema, type Endpoint, type EvalConfig, type TraceSource } from '../contract';
import { DEFAULT_PROMPTS } from '../prompts/templates';
import { getTask } from '../tasks/registry';

/** $TRACELIFT_CACHE_DIR, else $XDG_CACHE_HOME/tracelift, else ~/.cache/tracelift. */
export function defaultCacheDir(): string {
  return process.env.TRACELIFT_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'tracelift');
}

/** Executor sampling temperature of the published protocol (docs/official-protocol.md §1). */
export const DEFAULT_EXECUTOR_TEMPERATURE = 0.5;

/** Default executor max tokens: a final answer is short; a program is not. */
export const DEFAULT_MAX_TOKENS = { math: 96, code: 768 } as const;

/** Planner sampling when the caller gives none. */
export const DEFAULT_PLANNER_SAMPLING = { temperature: 0.7, max_tokens: 512 } as const;

/** `<task>-<ISO time with : and . replaced>`: the default run directory name. */
export function defaultRunDirName(task: string, now: Date = new Date()): string {
  return `${task}-${now.toISOString().replace(/[:.]/g, '-')}`;
}

/** True when the first record of a JSONL file has the TraceLift-Groups fields (positive_pool / negative_bank). */
export function looksLikeGroupsFile(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  let head: string;
  try {
    const buf = Buffer.alloc(Math.min(fs.fstatSync(fd).size, 4 * 1024 * 1024));
    fs.readSync(fd, buf, 0, buf.length, 0);
    head = buf.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
  const first = head.split('\n').find((l) => l.trim());
  if (!first) return false;
  try {
    const v = JSON.parse(first) as Record<string, unknown>;
    return v !== null && typeof v === 'object' && ('positive_pool' in v || 'negative_bank' in v);
  } catch {
    return false;
  }
}

export type TraceSourceRequest =
  | { kind: 'reference' }
  | {
      kind: 'planner';
      url: string;
      model: string;
      api?: 'chat' | 'completions';
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
      endpoint: EndpointSchema.parse({ base_url: req.url, model: req.model, api: req.api ?? 'chat', api_key_env: req.apiKeyEnv ?? null }),
      sampling: SamplingSchema.parse(DEFAULT_PLANNER_SAMPLING),
      traces_per_problem: req.tracesPerProblem ?? 1,
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
  rewardMode?: string | null;
  execStyle?: string;
  e2e?: 'first' | 'mean';
  rmUrl?: string | null;
  judgeUrl?: string | null;
  judgeModel?: string | null;
  dataDir: string;
  cacheDir?: string | null;
}

/**
 * The validated EvalConfig. Reward mode defaults as the CLI documents:
 * tracelift with an RM endpoint, llm_judge with a judge endpoint, else exec_only.
 */
export function buildEvalConfig(req: EvalConfigRequest): EvalConfig {
  const task = getTask(req.task);
  return EvalConfigSchema.parse({
    task: task.name,
    split: req.split ?? task.defaultSplit,
    limit: req.limit ?? null,
    offset: req.offset ?? 0,
    k: req.k ?? 3,
    baseline_samples: req.m ?? 8,
    trace_source: buildTraceSource(req.traceSource),
    executor: req.executor.endpoint,
    executor_origin: req.executor.origin,
    executor_sampling: SamplingSchema.parse({
      temperature: req.temperature ?? DEFAULT_EXECUTOR_TEMPERATURE,
      max_tokens: req.maxTokens ?? DEFAULT_MAX_TOKENS[task.kind],
    }),
    reward: {
      mode: req.rewardMode ?? (req.rmUrl ? 'tracelift' : req.judgeUrl ? 'llm_judge' : 'exec_only'),
      exec_style: req.execStyle ?? 'hybrid',
      e2e: req.e2e ?? 'first',
      rm_url: req.rmUrl ?? null,
      judge: req.judgeUrl ? EndpointSchema.parse({ base_url: req.judgeUrl, model: req.judgeModel ?? 'judge' }) : null,
    },
    prompt_version: DEFAULT_PROMPTS.version,
    data_dir: req.dataDir,
    cache_dir: req.cacheDir ?? defaultCacheDir(),
  });
}
