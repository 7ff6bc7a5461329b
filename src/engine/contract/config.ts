/**
 * Configuration of endpoints, sampling and evals. Written into every run
 * directory as config.json so a run can be understood and resumed later.
 * API keys never appear here: only the name of the environment variable.
 */
import { z } from 'zod';

export const ApiKindSchema = z.enum(['chat', 'completions']);

export const EndpointSchema = z.object({
  /** OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1. */
  base_url: z.string().url(),
  model: z.string().min(1),
  api: ApiKindSchema.default('chat'),
  /** Name of the env var holding the API key (never the key itself). */
  api_key_env: z.string().nullable().default(null),
  timeout_ms: z.number().int().positive().default(120_000),
  max_retries: z.number().int().min(0).default(4),
  /** Requests in flight at once against this endpoint. */
  concurrency: z.number().int().positive().default(8),
  /** Whether one request may carry n>1 samples; "auto" probes the server once. */
  n_sampling: z.enum(['auto', 'yes', 'no']).default('auto'),
});
export type Endpoint = z.infer<typeof EndpointSchema>;

export const SamplingSchema = z.object({
  temperature: z.number().min(0).default(0.7),
  top_p: z.number().gt(0).max(1).default(0.95),
  max_tokens: z.number().int().positive().default(256),
  seed: z.number().int().nullable().default(null),
  stop: z.array(z.string()).default([]),
});
export type Sampling = z.infer<typeof SamplingSchema>;

export const RewardModeSchema = z.enum(['tracelift', 'exec_only', 'no_uplift', 'rm_uplift_only', 'llm_judge']);
export const ExecStyleSchema = z.enum(['binary', 'pass_rate', 'coderl', 'hybrid']);

export const RewardConfigSchema = z.object({
  mode: RewardModeSchema.default('tracelift'),
  exec_style: ExecStyleSchema.default('hybrid'),
  /** "first": e2e is the first with-trace sample (as published); "mean": mean of the K. */
  e2e: z.enum(['first', 'mean']).default('first'),
  /** Reason RM scoring endpoint (official protocol). */
  rm_url: z.string().url().nullable().default(null),
  /** LLM used as judge for the llm_judge mode. */
  judge: EndpointSchema.nullable().default(null),
});
export type RewardConfig = z.infer<typeof RewardConfigSchema>;

export const TraceSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('reference') }),
  z.object({
    kind: z.literal('planner'),
    endpoint: EndpointSchema,
    sampling: SamplingSchema,
    traces_per_problem: z.number().int().positive().default(1),
  }),
  /** A traces file (TraceRecord lines) or a TraceLift-Groups file. */
  z.object({ kind: z.literal('file'), path: z.string(), format: z.enum(['traces', 'groups']) }),
]);
export type TraceSource = z.infer<typeof TraceSourceSchema>;

export const EvalConfigSchema = z.object({
  task: z.string(),
  split: z.string(),
  limit: z.number().int().positive().nullable().default(null),
  offset: z.number().int().min(0).default(0),
  /** With-trace executor samples per trace. */
  k: z.number().int().positive().default(3),
  /** No-trace baseline samples per problem (estimated once, cached). */
  baseline_samples: z.number().int().positive().default(8),
  trace_source: TraceSourceSchema,
  executor: EndpointSchema,
  /** "embedded" when the engine started the local default server itself. */
  executor_origin: z.enum(['embedded', 'configured']).default('configured'),
  executor_sampling: SamplingSchema,
  reward: RewardConfigSchema,
  prompt_version: z.string(),
  data_dir: z.string(),
  cache_dir: z.string(),
});
export type EvalConfig = z.infer<typeof EvalConfigSchema>;
