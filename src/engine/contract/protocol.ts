/**
 * Which TraceLift protocol a run follows: ours (`tracelift`, the default) or
 * the official code's (`official`, MasaiahHan/TraceLift; every difference
 * and its effect is in docs/official-protocol.md §5). A preset names a full
 * set of knobs; each knob can be overridden on its own. The resolved knob
 * set is written into the run's config, so a run says exactly what it did.
 */
import { z } from 'zod';

export const PROTOCOL_PRESETS = ['tracelift', 'official'] as const;
export type ProtocolPreset = (typeof PROTOCOL_PRESETS)[number];

/** A character budget; null = no limit. */
const CharLimitSchema = z.number().int().positive().nullable();
const KindLimitsSchema = z.object({ problem: CharLimitSchema, trace: CharLimitSchema }).strict();
const EmptyTraceSchema = z.enum(['with_trace_prompt', 'no_trace_prompt']);

export const ProtocolSchema = z
  .object({
    preset: z.enum(PROTOCOL_PRESETS),
    /** Executor API when the endpoint does not say (official: completions). */
    executor_api: z.enum(['chat', 'completions']),
    /** How chat messages become a completions prompt (official: "Instruction:" … cue). */
    completion_prompt: z.enum(['tracelift', 'official']),
    /** Prompt wording (src/engine/prompts/<set>); its version is part of the baseline cache key. */
    prompt_set: z.enum(['tracelift', 'official']),
    /** Executor max_tokens per task kind when no explicit value is given. */
    max_tokens: z.object({ math: z.number().int().positive(), code: z.number().int().positive() }).strict(),
    /** Executor nucleus sampling (official: not sent, i.e. the server default 1.0). */
    top_p: z.number().gt(0).max(1),
    /** Problem / trace character budgets before prompting (official: math 2500/2000, code 3500/2500). */
    truncation: z.object({ math: KindLimitsSchema, code: KindLimitsSchema }).strict(),
    /** Which prompt an empty trace gets (official: math the no-trace prompt, code the with-trace prompt). */
    empty_trace: z.object({ math: EmptyTraceSchema, code: EmptyTraceSchema }).strict(),
    /**
     * No-trace baseline: `cached` = M samples per problem, estimated once and
     * reused (ours); `per_trace` = K fresh no-trace samples for every trace (official).
     */
    baseline: z.enum(['cached', 'per_trace']),
    /** e2e term: `with_trace` = from the K with-trace samples (ours); `extra_call` = one more executor call per trace (official). */
    e2e_source: z.enum(['with_trace', 'extra_call']),
    /** Code outcome class for coderl/hybrid: `summary` = the verifier's overall status (ours); `first_failure` = the first failing test (official). */
    code_outcome: z.enum(['summary', 'first_failure']),
  })
  .strict();
export type Protocol = z.infer<typeof ProtocolSchema>;

/**
 * Ours. Where it differs from the official preset, docs/official-protocol.md
 * §5 says why: max_tokens 96 for math (the executor is told to return only
 * the final answer; 96 tokens hold every MATH500 gold answer and keep a
 * rambling CPU executor from spending 256), chat (instruction-tuned
 * executors follow their chat template), truncation limits above every
 * shipped benchmark problem (the longest is 5,050 characters) that still
 * keep a 5 MB trace from reaching the executor.
 */
export const TRACELIFT_PROTOCOL: Protocol = {
  preset: 'tracelift',
  executor_api: 'chat',
  completion_prompt: 'tracelift',
  prompt_set: 'tracelift',
  max_tokens: { math: 96, code: 768 },
  top_p: 0.95,
  truncation: { math: { problem: 12_000, trace: 6_000 }, code: { problem: 12_000, trace: 6_000 } },
  empty_trace: { math: 'with_trace_prompt', code: 'with_trace_prompt' },
  baseline: 'cached',
  e2e_source: 'with_trace',
  code_outcome: 'summary',
};

/** The official code at 421bd40 (configs/grpo/*.sh and the trainers' defaults). */
export const OFFICIAL_PROTOCOL: Protocol = {
  preset: 'official',
  executor_api: 'completions',
  completion_prompt: 'official',
  prompt_set: 'official',
  max_tokens: { math: 256, code: 768 },
  top_p: 1,
  truncation: { math: { problem: 2_500, trace: 2_000 }, code: { problem: 3_500, trace: 2_500 } },
  empty_trace: { math: 'no_trace_prompt', code: 'with_trace_prompt' },
  baseline: 'per_trace',
  e2e_source: 'extra_call',
  code_outcome: 'first_failure',
};

export const PROTOCOL_PRESET_KNOBS: Readonly<Record<ProtocolPreset, Protocol>> = {
  tracelift: TRACELIFT_PROTOCOL,
  official: OFFICIAL_PROTOCOL,
};

/** What a user asks for: a preset (default tracelift) and any knobs to override, nested objects in part. */
export const ProtocolInputSchema = z
  .object({
    preset: z.enum(PROTOCOL_PRESETS).optional(),
    executor_api: ProtocolSchema.shape.executor_api.optional(),
    completion_prompt: ProtocolSchema.shape.completion_prompt.optional(),
    prompt_set: ProtocolSchema.shape.prompt_set.optional(),
    max_tokens: ProtocolSchema.shape.max_tokens.partial().optional(),
    top_p: ProtocolSchema.shape.top_p.optional(),
    truncation: z.object({ math: KindLimitsSchema.partial().optional(), code: KindLimitsSchema.partial().optional() }).strict().optional(),
    empty_trace: ProtocolSchema.shape.empty_trace.partial().optional(),
    baseline: ProtocolSchema.shape.baseline.optional(),
    e2e_source: ProtocolSchema.shape.e2e_source.optional(),
    code_outcome: ProtocolSchema.shape.code_outcome.optional(),
  })
  .strict();
export type ProtocolInput = z.input<typeof ProtocolInputSchema>;

/**
 * The full knob set: the preset's knobs with the given ones on top.
 * Throws a ZodError naming the field when a knob is unknown or out of range.
 */
export function resolveProtocol(input: ProtocolInput = {}): Protocol {
  const req = ProtocolInputSchema.parse(input);
  const base = PROTOCOL_PRESET_KNOBS[req.preset ?? 'tracelift'];
  return ProtocolSchema.parse({
    ...base,
    ...definedOnly({
      executor_api: req.executor_api,
      completion_prompt: req.completion_prompt,
      prompt_set: req.prompt_set,
      top_p: req.top_p,
      baseline: req.baseline,
      e2e_source: req.e2e_source,
      code_outcome: req.code_outcome,
    }),
    max_tokens: { ...base.max_tokens, ...definedOnly(req.max_tokens ?? {}) },
    truncation: {
      math: { ...base.truncation.math, ...definedOnly(req.truncation?.math ?? {}) },
      code: { ...base.truncation.code, ...definedOnly(req.truncation?.code ?? {}) },
    },
    empty_trace: { ...base.empty_trace, ...definedOnly(req.empty_trace ?? {}) },
  });
}

/** Knob names whose value differs from the preset's (for "official, except …" in logs and the UI). */
export function protocolOverrides(protocol: Protocol): string[] {
  const base = PROTOCOL_PRESET_KNOBS[protocol.preset];
  const out: string[] = [];
  for (const key of Object.keys(base) as (keyof Protocol)[]) {
    if (key !== 'preset' && JSON.stringify(protocol[key]) !== JSON.stringify(base[key])) out.push(key);
  }
  return out;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
