/**
 * The training config (`tracelift train CONFIG`): what the launcher validates,
 * resolves and writes to DIR/config.json, and what the Python trainer
 * (backend/tracelift_backend/train) validates again against the exported JSON
 * Schema. Reward, executor and sampling reuse the eval contract so a training
 * reward is scored exactly as an eval scores it. Interface between the two
 * sides: docs/training.md.
 */
import { z } from 'zod';
import { EndpointSchema, EVAL_OPTION_DEFAULTS, REWARD_MODE_ENDPOINT, RewardConfigSchema, SamplingSchema } from './config';
import { CheckpointSchema, RunErrorSchema, StepMetricsSchema } from './events';
import { ProtocolInputSchema } from './protocol';

/** The planner name that means SmolLM2-135M-Instruct loaded from the embedded executor's GGUF. */
export const EMBEDDED_PLANNER = 'embedded';

export const PlannerConfigSchema = z
  .object({
    model: z
      .string()
      .min(1)
      .default(EMBEDDED_PLANNER)
      .describe('"embedded" (SmolLM2-135M-Instruct from the embedded GGUF), a Hugging Face model id, or a local model directory'),
    gguf_file: z
      .string()
      .nullable()
      .default(null)
      .describe('GGUF file to load the weights from (embedded: default models/SmolLM2-135M-Instruct.Q4_1.gguf)'),
    chat_template: z
      .boolean()
      .default(true)
      .describe(
        "prompts are chat messages rendered by the planner's chat template (false: one plain text prompt, as the official configs)",
      ),
  })
  .strict();
export type PlannerConfig = z.infer<typeof PlannerConfigSchema>;

export const TrainTaskSchema = z
  .object({
    task: z.string().min(1).describe('task name (`tracelift tasks`)'),
    split: z.string().min(1).default('train').describe('dataset split the training problems come from'),
    limit: z.number().int().positive().nullable().default(null).describe('use at most this many problems (null: all)'),
    offset: z.number().int().min(0).default(0).describe('skip this many problems first'),
  })
  .strict();
export type TrainTask = z.infer<typeof TrainTaskSchema>;

export const LoraConfigSchema = z
  .object({
    r: z.number().int().positive().default(16).describe('LoRA rank'),
    alpha: z.number().positive().default(32).describe('LoRA alpha'),
    dropout: z.number().min(0).max(1).default(0.05).describe('LoRA dropout'),
    target_modules: z
      .union([z.array(z.string().min(1)).min(1), z.literal('all-linear')])
      .default('all-linear')
      .describe('module names to adapt, or "all-linear"'),
  })
  .strict();
export type LoraConfig = z.infer<typeof LoraConfigSchema>;

/** Reward weights of the published formulas (docs/official-protocol.md §4, §6). */
export const RewardWeightsSchema = z
  .object({
    math_e2e: z.number().min(0).default(0.5).describe('math: weight of the e2e term'),
    math_reason: z.number().min(0).default(0.5).describe('math: weight of the RM × uplift term'),
    code_rm: z.number().min(0).default(0.2).describe('code: weight of the RM × coefficient term'),
  })
  .strict();
export type RewardWeights = z.infer<typeof RewardWeightsSchema>;

export const TrainRewardConfigSchema = RewardConfigSchema.extend({
  weights: RewardWeightsSchema.default(RewardWeightsSchema.parse({})),
}).strict();
export type TrainRewardConfig = z.infer<typeof TrainRewardConfigSchema>;

/** Executor sampling; max_tokens null = the protocol's value for the task kind. */
export const TrainExecutorSamplingSchema = SamplingSchema.extend({
  temperature: z.number().min(0).default(EVAL_OPTION_DEFAULTS.executorTemperature),
  top_p: z.number().gt(0).max(1).nullable().default(null).describe("null: the protocol's top_p"),
  max_tokens: z.number().int().positive().nullable().default(null).describe("null: the protocol's max_tokens for the task kind"),
}).strict();

export const TRAIN_DEVICES = ['auto', 'cpu', 'cuda'] as const;
export const LOSS_TYPES = ['grpo', 'dapo', 'dr_grpo', 'bnpo'] as const;
export const SCALE_REWARDS = ['group', 'batch', 'none'] as const;

/**
 * Strict at every level the training config defines, so a misspelt key is
 * refused with its name instead of silently falling back to a default.
 */
export const TrainConfigSchema = z
  .object({
    /** Editors' schema link and a recipe's description: kept, never read. */
    $schema: z.string().optional(),
    description: z.string().optional().describe('what the recipe is for (free text)'),
    planner: PlannerConfigSchema.default(PlannerConfigSchema.parse({})),
    tasks: z.array(TrainTaskSchema).min(1).describe('training problems: every task window, in order'),
    protocol: ProtocolInputSchema.default({}).describe('protocol preset and knobs (docs/official-protocol.md §5); resolved in config.json'),
    prompt_version: z
      .string()
      .nullable()
      .default(null)
      .describe("engine prompt set version; filled in from the protocol's prompt set (a different value is refused)"),
    num_generations: z.number().int().min(2).default(4).describe('G: planner completions per problem (one rollout group)'),
    prompts_per_step: z.number().int().positive().default(1).describe('problems per optimizer step (all processes together)'),
    learning_rate: z.number().positive().default(5e-6),
    max_steps: z.number().int().positive().describe('optimizer steps (`--max-steps` overrides it)'),
    epochs: z.number().positive().nullable().default(null).describe('epochs over the problems; max_steps wins when both bound the run'),
    lora: LoraConfigSchema.nullable().default(LoraConfigSchema.parse({})).describe('LoRA adapter settings; null = full fine-tuning'),
    max_completion_length: z.number().int().positive().default(512).describe('planner completion tokens'),
    temperature: z.number().min(0).default(0.7).describe('planner sampling temperature'),
    top_p: z.number().gt(0).max(1).default(1.0).describe('planner nucleus sampling'),
    beta: z.number().min(0).default(0.0).describe('KL coefficient against the reference policy (0: no reference model)'),
    loss_type: z.enum(LOSS_TYPES).default('grpo').describe("TRL GRPO loss aggregation (pinned: TRL's default changes between versions)"),
    scale_rewards: z.enum(SCALE_REWARDS).default('group').describe('advantage scaling by the reward std of the group, the batch, or none'),
    reward: TrainRewardConfigSchema.default(TrainRewardConfigSchema.parse({ mode: 'exec_only' })),
    executor: EndpointSchema.nullable().default(null).describe('executor endpoint; null = the embedded llama.cpp server'),
    executor_sampling: TrainExecutorSamplingSchema.default(TrainExecutorSamplingSchema.parse({})),
    k: z.number().int().positive().default(EVAL_OPTION_DEFAULTS.k).describe('with-trace executor samples per trace'),
    baseline_samples: z
      .number()
      .int()
      .positive()
      .default(EVAL_OPTION_DEFAULTS.baselineSamples)
      .describe('no-trace baseline samples per problem (estimated once, cached)'),
    save_steps: z.number().int().positive().default(100).describe('checkpoint every this many steps (and at the end)'),
    seed: z.number().int().default(42),
    gradient_accumulation_steps: z.number().int().positive().default(1),
    logging_steps: z.number().int().positive().default(1),
    device: z.enum(TRAIN_DEVICES).default('auto').describe('"cuda" refuses to start on a machine without a GPU'),
    bf16: z.boolean().nullable().default(null).describe('bfloat16 training; null: on with CUDA, off on CPU'),
    use_vllm: z.boolean().default(false).describe("planner rollouts through TRL's vLLM integration (server mode: `trl vllm-serve`)"),
    vllm_server_url: z
      .string()
      .url()
      .nullable()
      .default(null)
      .describe("the `trl vllm-serve` server for planner rollouts; null: TRL's default (port 8000, where the recipes' executor listens)"),
    data_dir: z.string().nullable().default(null).describe('benchmark data directory; null: $TRACELIFT_DATA_DIR or ../shared/data'),
    cache_dir: z.string().nullable().default(null).describe('baseline cache directory; null: $TRACELIFT_CACHE_DIR or ~/.cache/tracelift'),
  })
  .strict()
  .superRefine((config, ctx) => {
    const needs = REWARD_MODE_ENDPOINT[config.reward.mode];
    if (needs === 'rm' && !config.reward.rm_url && !config.reward.rm_model) {
      ctx.addIssue({
        code: 'custom',
        path: ['reward', 'rm_url'],
        message: `reward mode "${config.reward.mode}" needs a Reason RM: rm_url (an endpoint) or rm_model (a directory the engine serves)`,
      });
    }
    if (needs === 'judge' && !config.reward.judge) {
      ctx.addIssue({ code: 'custom', path: ['reward', 'judge'], message: `reward mode "${config.reward.mode}" needs a judge endpoint` });
    }
  });
export type TrainConfig = z.infer<typeof TrainConfigSchema>;
export type TrainConfigInput = z.input<typeof TrainConfigSchema>;

/**
 * The reward service's HTTP API (docs/training.md): what the trainer posts
 * and gets back. `step` is the trainer's optimizer steps completed when the
 * completions were generated (TRL `state.global_step`, 0 for the first batch).
 */
export const RewardRequestSchema = z.object({
  step: z.number().int().min(0),
  items: z.array(z.object({ problem_id: z.string().min(1), completion: z.string() })),
});
export type RewardRequest = z.infer<typeof RewardRequestSchema>;

export const RewardDetailSchema = z.object({
  uplift: z.number().nullable(),
  with_trace_rate: z.number().nullable(),
  baseline_rate: z.number().nullable(),
  e2e: z.number().nullable(),
  /** The RM score, or the judge's in llm_judge mode. */
  rm: z.number().nullable(),
  /** Why the reward is missing or what went wrong; null when all signals arrived. */
  error: z.string().nullable(),
});
export type RewardDetail = z.infer<typeof RewardDetailSchema>;

export const RewardResponseSchema = z.object({
  /** null where a signal of the reward is missing (never 0 in its place). */
  rewards: z.array(z.number().nullable()),
  traces: z.array(z.string()),
  details: z.array(RewardDetailSchema),
});
export type RewardResponse = z.infer<typeof RewardResponseSchema>;

/** A run event the trainer posts to /v1/events; the service stamps its time. */
export const TrainerEventSchema = z.discriminatedUnion('type', [
  StepMetricsSchema.omit({ time: true }),
  CheckpointSchema.omit({ time: true }),
  RunErrorSchema.omit({ time: true }),
]);
export type TrainerEvent = z.infer<typeof TrainerEventSchema>;
