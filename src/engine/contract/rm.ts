/**
 * The Reason RM training config (`tracelift rm train`, recipes/rm/*.json):
 * what the CLI validates, resolves and writes to DIR/config.json, and what
 * the Python trainer (backend/tracelift_backend/rm/train.py) validates again
 * against the exported JSON Schema (rm_train_config). Defaults are the
 * official RM settings (docs/official-protocol.md §2.4), except the base:
 * the embedded SmolLM2-135M. See docs/reason-rm.md.
 */
import { z } from 'zod';
import { RUBRIC_DIMENSIONS } from './groups';
import { EMBEDDED_PLANNER, LoraConfigSchema, TRAIN_DEVICES } from './train';

export const RM_TASK_NAMES = Object.keys(RUBRIC_DIMENSIONS) as (keyof typeof RUBRIC_DIMENSIONS)[];

/** The official RM's LoRA targets: every attention and MLP projection of Qwen2/Llama blocks. */
export const RM_LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

export const RmBaseSchema = z
  .object({
    model: z
      .string()
      .min(1)
      .default(EMBEDDED_PLANNER)
      .describe('"embedded" (SmolLM2-135M-Instruct from the embedded GGUF), a Hugging Face causal-LM id, or a local model directory'),
    gguf_file: z.string().nullable().default(null).describe("GGUF file to load the weights from (embedded: the executor's GGUF)"),
  })
  .strict();

export const RmLossWeightsSchema = z
  .object({
    dim: z.number().min(0).default(1.0).describe('sum over dimensions of the cross-entropy of the 5-way heads'),
    total: z.number().min(0).default(0.5).describe('Huber between sigmoid(total head) and the gold total'),
    posneg: z.number().min(0).default(0.7).describe('−log σ(s_pos − s_neg), mean per group'),
    negneg: z.number().min(0).default(0.0).describe('ranks negatives whose gold totals differ by at least negneg_margin'),
    negneg_margin: z.number().min(0).default(0.15),
    huber_delta: z.number().positive().default(1.0),
  })
  .strict();

export const RmTrainConfigSchema = z
  .object({
    $schema: z.string().optional(),
    description: z.string().optional().describe('what the recipe is for (free text)'),
    base: RmBaseSchema.default(RmBaseSchema.parse({})),
    groups: z
      .array(z.string().min(1))
      .default([])
      .describe('TraceLift-Groups files to train on (`--groups` replaces them); a dev split is taken from them by hash'),
    task_name: z
      .enum(RM_TASK_NAMES as [string, ...string[]])
      .nullable()
      .default(null)
      .describe('"math" or "code": the rubric dimensions and the <task> tag; null: read from the groups\' rubric keys'),
    lora: LoraConfigSchema.nullable()
      .default({ r: 32, alpha: 64, dropout: 0.05, target_modules: RM_LORA_TARGETS })
      .describe('LoRA on the backbone (the heads are always trained in full); null = full fine-tuning'),
    learning_rate: z.number().positive().default(1e-4),
    epochs: z.number().int().positive().default(3),
    max_steps: z.number().int().positive().nullable().default(null).describe('stop after this many optimizer steps (`--max-steps`)'),
    groups_per_batch: z.number().int().positive().default(1).describe('groups (1 positive + negatives each) per forward pass'),
    gradient_accumulation_steps: z.number().int().positive().default(16),
    weight_decay: z.number().min(0).default(0.01),
    warmup_ratio: z.number().min(0).max(1).default(0.03),
    max_grad_norm: z.number().positive().default(1.0),
    max_length: z.number().int().positive().default(3072).describe('tokens per candidate (longer texts are cut)'),
    negatives_per_group: z
      .number()
      .int()
      .positive()
      .default(4)
      .describe('negatives sampled per group (with replacement when the bank is smaller)'),
    loss_weights: RmLossWeightsSchema.default(RmLossWeightsSchema.parse({})),
    dropout: z.number().min(0).max(1).default(0.0).describe('dropout before the heads'),
    dev_fraction: z
      .number()
      .min(0)
      .max(1)
      .default(0.1)
      .describe('share of groups held out for eval, chosen by a hash of problem_id and seed'),
    seed: z.number().int().default(18),
    logging_steps: z.number().int().positive().default(1),
    eval_batch_size: z.number().int().positive().default(8).describe('candidates per forward pass in eval'),
    device: z.enum(TRAIN_DEVICES).default('auto'),
    bf16: z.boolean().nullable().default(null).describe('bfloat16 backbone; null: on with CUDA, off on CPU'),
  })
  .strict();
export type RmTrainConfig = z.infer<typeof RmTrainConfigSchema>;
export type RmTrainConfigInput = z.input<typeof RmTrainConfigSchema>;

/**
 * One trace of a groups file scored by a Reason RM (`rm score-groups`, the
 * editor's Score Groups File with RM…): a line of an append-only JSONL file
 * beside the run directories, keyed by the groups file's SHA-256 so that an
 * edited file is never annotated with another version's scores.
 */
export const RmGroupScoreSchema = z
  .object({
    groups_sha256: z.string().regex(/^[0-9a-f]{64}$/),
    problem_id: z.string(),
    /** `<problem_id>#pos<i>` / `#neg<i>` (src/engine/groups/expand.ts). */
    trace_id: z.string(),
    score: z.number(),
    /** Expected label (0–4) per rubric dimension, when the RM server reports them. */
    dimensions: z.record(z.string(), z.number().min(0).max(4)).nullable(),
    /** The gold rubric total of the trace in the groups file, copied for comparison (null: none). */
    gold_total: z.number().nullable(),
    /** Which RM: its scoring URL, or the model directory and content id when the engine served it. */
    rm: z.string(),
    time: z.string(),
  })
  .strict();
export type RmGroupScore = z.infer<typeof RmGroupScoreSchema>;
