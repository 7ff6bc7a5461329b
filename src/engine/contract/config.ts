/**
 * Configuration of endpoints, sampling and evals. Written into every run
 * directory as config.json so a run can be understood and resumed later.
 * API keys never appear here: only the name of the environment variable.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { enumOf, type Described } from './choices';
import { ApiKindSchema, ProtocolSchema, TRACELIFT_PROTOCOL } from './protocol';

export { describedChoices } from './choices';

/**
 * Defaults of an eval's options (docs/official-protocol.md §1, §4). Every
 * front door (CLI flags, extension settings and quick picks) reads these.
 */
export const EVAL_OPTION_DEFAULTS = {
  /** With-trace executor samples per trace. */
  k: 3,
  /** No-trace baseline samples per problem (estimated once, cached). */
  baselineSamples: 8,
  offset: 0,
  /** Planner traces per problem. */
  tracesPerProblem: 1,
  /** Executor sampling temperature of the published protocol. */
  executorTemperature: 0.5,
  /** The protocol preset (src/engine/contract/protocol.ts); executor API, max_tokens and top_p default from it. */
  protocol: 'tracelift',
  /** Planner sampling when the caller gives none. */
  plannerSampling: { temperature: 0.7, max_tokens: 512 },
  /** Requests in flight at once against one endpoint. */
  concurrency: 8,
  /** Seconds one executor request may take (each attempt, body included). */
  executorTimeoutS: 120,
  /** Retries of a failed executor request (429, 5xx, cut connections, unusable bodies). */
  executorRetries: 4,
  /** Failed executor calls in a row (after retries) that mark the executor down and end the run; 0 = never. */
  executorDownAfter: 8,
  execStyle: 'hybrid',
  e2e: 'first',
  /** Model name sent to a judge endpoint when none is given. */
  judgeModel: 'judge',
  /** Environment variable naming the baseline cache directory (else $XDG_CACHE_HOME/tracelift, else ~/.cache/tracelift). */
  cacheDirEnv: 'TRACELIFT_CACHE_DIR',
} as const;

/** The baseline cache directory: $TRACELIFT_CACHE_DIR, else $XDG_CACHE_HOME/tracelift, else ~/.cache/tracelift. */
export function defaultCacheDir(): string {
  return (
    process.env[EVAL_OPTION_DEFAULTS.cacheDirEnv] ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'tracelift')
  );
}

/** Where reference outputs of code tests are cached, under a cache directory. */
export const EXPECTED_OUTPUTS_SUBDIR = 'expected-outputs';

export const EndpointSchema = z.object({
  /** OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1. */
  base_url: z.string().url(),
  model: z.string().min(1),
  api: ApiKindSchema.default('chat'),
  /** Name of the env var holding the API key (never the key itself). */
  api_key_env: z.string().nullable().default(null),
  timeout_ms: z
    .number()
    .int()
    .positive()
    .default(EVAL_OPTION_DEFAULTS.executorTimeoutS * 1000),
  max_retries: z.number().int().min(0).default(EVAL_OPTION_DEFAULTS.executorRetries),
  /** Failed calls in a row (after retries) that mark the endpoint down; 0 = never. */
  down_after_failures: z.number().int().min(0).default(EVAL_OPTION_DEFAULTS.executorDownAfter),
  /** Requests in flight at once against this endpoint. */
  concurrency: z.number().int().positive().default(EVAL_OPTION_DEFAULTS.concurrency),
  /** Whether one request may carry n>1 samples; "auto" probes the server once. */
  n_sampling: z.enum(['auto', 'yes', 'no']).default('auto'),
});
export type Endpoint = z.infer<typeof EndpointSchema>;
/** An endpoint as written (defaults may be left out). */
export type EndpointInput = z.input<typeof EndpointSchema>;

export const SamplingSchema = z.object({
  temperature: z.number().min(0).default(0.7),
  top_p: z.number().gt(0).max(1).default(0.95),
  max_tokens: z.number().int().positive().default(256),
  seed: z.number().int().nullable().default(null),
  stop: z.array(z.string()).default([]),
});
export type Sampling = z.infer<typeof SamplingSchema>;

/** Reward modes (docs/official-protocol.md §6). */
export const REWARD_MODES: Described<'tracelift' | 'exec_only' | 'no_uplift' | 'rm_uplift_only' | 'llm_judge'> = {
  tracelift: 'TraceLift: e2e success plus the Reason RM score weighted by measured uplift (needs an RM endpoint)',
  exec_only: 'executor success only (math: e2e; code: shaped execution reward), no RM',
  no_uplift: 'RM score without executor grounding: e2e plus RM, uplift ignored (needs an RM endpoint)',
  rm_uplift_only: 'RM score times uplift, no e2e anchor (needs an RM endpoint)',
  llm_judge: 'as tracelift, with an LLM judge’s rubric score in place of the RM (needs a judge endpoint)',
};
export const RewardModeSchema = enumOf(REWARD_MODES);
export type RewardMode = z.infer<typeof RewardModeSchema>;

/** The scoring endpoint a reward mode needs besides the executor: the Reason RM, an LLM judge, or none. */
export const REWARD_MODE_ENDPOINT: Readonly<Record<RewardMode, 'rm' | 'judge' | null>> = {
  tracelift: 'rm',
  exec_only: null,
  no_uplift: 'rm',
  rm_uplift_only: 'rm',
  llm_judge: 'judge',
};

/** How the reward mode defaults when none is chosen. */
export const REWARD_MODE_DEFAULT_RULE = 'tracelift with an RM endpoint, llm_judge with a judge endpoint, else exec_only';
/** What a front door's setting says for "no mode chosen: apply REWARD_MODE_DEFAULT_RULE". */
export const AUTO_REWARD_MODE = 'auto';

/** The reward mode when none is chosen: see REWARD_MODE_DEFAULT_RULE. */
export function defaultRewardMode(endpoints: { rmUrl?: string | null; rmModel?: string | null; judgeUrl?: string | null }): RewardMode {
  return endpoints.rmUrl || endpoints.rmModel ? 'tracelift' : endpoints.judgeUrl ? 'llm_judge' : 'exec_only';
}

/** Code execution reward shaping (docs/official-protocol.md §4.2). */
export const EXEC_STYLES: Described<'binary' | 'pass_rate' | 'coderl' | 'hybrid'> = {
  binary: '1 when every test passes, else 0',
  pass_rate: 'fraction of tests passed',
  coderl: 'CodeRL outcome values: passed 1, failed test −0.3, runtime error or timeout −0.6, compile error −1',
  hybrid: '0.8 × pass rate plus an outcome bonus (0.2 passed or failed test, 0.05 runtime error or timeout); the official default',
};
export const ExecStyleSchema = enumOf(EXEC_STYLES);
export type ExecStyle = z.infer<typeof ExecStyleSchema>;

/** Where the e2e term of the reward comes from, when it comes from the K with-trace samples. */
export const E2E_MODES: Described<'first' | 'mean'> = {
  first: 'the first of the K with-trace samples',
  mean: 'the mean of the K with-trace samples',
};
export const E2eModeSchema = enumOf(E2E_MODES);
export type E2eMode = z.infer<typeof E2eModeSchema>;

/**
 * What a front door offers for e2e: the two modes above, or the official
 * extra call (which sets the protocol's e2e_source). Unset: the protocol's.
 */
export const E2E_CHOICES: Described<E2eMode | 'extra_call'> = {
  ...E2E_MODES,
  extra_call: 'one more with-trace executor call per trace (the official code)',
};
export const E2eChoiceSchema = enumOf(E2E_CHOICES);
export type E2eChoice = z.infer<typeof E2eChoiceSchema>;

export const RewardConfigSchema = z.object({
  /** A config without a mode is read as the published method. */
  mode: RewardModeSchema.default('tracelift'),
  exec_style: ExecStyleSchema.default(EVAL_OPTION_DEFAULTS.execStyle),
  /** "first": e2e is the first with-trace sample; "mean": mean of the K (unused when protocol.e2e_source is extra_call). */
  e2e: E2eModeSchema.default(EVAL_OPTION_DEFAULTS.e2e),
  /** Reason RM scoring endpoint (official protocol). */
  rm_url: z.string().url().nullable().default(null),
  /**
   * A Reason RM trained here (`tracelift rm train`) that the engine serves for
   * the run on a loopback port of its own (`--rm-model DIR`); rm_url stays null
   * then, since that port changes from run to run. `id` is a content hash of
   * the RM's files, filled in when the run starts (src/engine/rm/rmModel.ts).
   */
  rm_model: z
    .object({
      dir: z.string().min(1).describe('the RM directory (holds rm_config.json), or an `rm train` run directory'),
      id: z.string().nullable().default(null).describe("content hash of the RM's files; null: computed when the run starts"),
    })
    .strict()
    .nullable()
    .default(null),
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
    traces_per_problem: z.number().int().positive().default(EVAL_OPTION_DEFAULTS.tracesPerProblem),
  }),
  /** A traces file (TraceRecord lines) or a TraceLift-Groups file. */
  z.object({
    kind: z.literal('file'),
    path: z.string(),
    format: z.enum(['traces', 'groups']),
    /**
     * SHA-256 of the file's bytes when the run started (absent in runs written
     * before it was recorded): measurements follow the file's content, not its
     * path, and a resume over an edited file is refused.
     */
    sha256: z.string().optional(),
  }),
]);
export type TraceSource = z.infer<typeof TraceSourceSchema>;

export const EvalConfigSchema = z.object({
  task: z.string(),
  split: z.string(),
  limit: z.number().int().positive().nullable().default(null),
  offset: z.number().int().min(0).default(EVAL_OPTION_DEFAULTS.offset),
  /** With-trace executor samples per trace. */
  k: z.number().int().positive().default(EVAL_OPTION_DEFAULTS.k),
  /** No-trace baseline samples per problem (estimated once, cached). */
  baseline_samples: z.number().int().positive().default(EVAL_OPTION_DEFAULTS.baselineSamples),
  trace_source: TraceSourceSchema,
  executor: EndpointSchema,
  /** "embedded" when the engine started the local default server itself. */
  executor_origin: z.enum(['embedded', 'configured']).default('configured'),
  executor_sampling: SamplingSchema,
  reward: RewardConfigSchema,
  /** Version of the prompt set the protocol names (part of every baseline cache key). */
  prompt_version: z.string(),
  /** The protocol knobs the run followed; a config without them is read as ours (tracelift). */
  protocol: ProtocolSchema.default(() => structuredClone(TRACELIFT_PROTOCOL)),
  data_dir: z.string(),
  cache_dir: z.string(),
});
export type EvalConfig = z.infer<typeof EvalConfigSchema>;
