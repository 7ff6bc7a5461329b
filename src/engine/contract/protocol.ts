/**
 * Which TraceLift protocol a run follows: ours (`tracelift`, the default) or
 * the official code's (`official`, MasaiahHan/TraceLift; every difference
 * and its effect is in docs/official-protocol.md §5). A preset names a full
 * set of knobs; each knob can be overridden on its own. The resolved knob
 * set is written into the run's config, so a run says exactly what it did.
 */
import { z } from 'zod';
import { enumOf, keysOf, type Described } from './choices';

/** The presets, each with what it means (the CLI's --protocol help, the extension's setting). */
export const PROTOCOL_PRESET_CHOICES: Described<'tracelift' | 'official'> = {
  tracelift:
    'ours: chat API, math max_tokens 96, a cached M-sample no-trace baseline, e2e from the K with-trace samples, code outcome from the verifier summary',
  official:
    'the official code: completions API with the "Instruction:" … "Final answer:" prompt, math max_tokens 256, problems and traces truncated, K fresh no-trace samples per trace, one extra e2e call, code outcome by the first failing test',
};
export const PROTOCOL_PRESETS = keysOf(PROTOCOL_PRESET_CHOICES);
export type ProtocolPreset = (typeof PROTOCOL_PRESETS)[number];

/** OpenAI API flavours an endpoint speaks (also the protocol's executor_api knob). */
export const API_KINDS: Described<'chat' | 'completions'> = {
  chat: 'OpenAI chat API (/chat/completions, messages)',
  completions: 'OpenAI completions API (/completions, the prompt rendered as text)',
};
export const ApiKindSchema = enumOf(API_KINDS);
export type ApiKind = z.infer<typeof ApiKindSchema>;

/** Knob choices with their descriptions: the schema, the CLI flags and the extension settings read these. */
export const COMPLETION_PROMPTS: Described<'tracelift' | 'official'> = {
  tracelift: '"System: …", "User: …" turns ending with "Assistant:" (ours)',
  official:
    '"Instruction:" and the system message, the user message, then the "Final answer:" (code: "Final Python 3 solution:") cue (official)',
};
export const PROMPT_SET_CHOICES: Described<'tracelift' | 'official'> = {
  tracelift: 'our wording (src/engine/prompts/v1.json)',
  official: 'the official code’s wording, word for word (src/engine/prompts/official.json)',
};
export const EMPTY_TRACE_PROMPTS: Described<'with_trace_prompt' | 'no_trace_prompt'> = {
  with_trace_prompt: 'an empty trace gets the with-trace prompt with nothing in it (ours; the official code for code tasks)',
  no_trace_prompt: 'an empty trace gets the no-trace prompt (the official math trainer)',
};
export const BASELINE_ESTIMATORS: Described<'cached' | 'per_trace'> = {
  cached: 'M no-trace samples per problem, estimated once and cached (ours)',
  per_trace: 'K fresh no-trace samples for every trace, never cached (official)',
};
export const E2E_SOURCES: Described<'with_trace' | 'extra_call'> = {
  with_trace: 'the e2e term comes from the K with-trace samples (ours)',
  extra_call: 'one more with-trace executor call per trace gives the e2e term (official)',
};
export const CODE_OUTCOME_RULES: Described<'summary' | 'first_failure'> = {
  summary: 'a program’s outcome class is the verifier’s overall status (ours)',
  first_failure: 'a program’s outcome class is that of its first failing test; no tests is no_tests (official)',
};
export type CodeOutcomeRule = keyof typeof CODE_OUTCOME_RULES;

/** A character budget; null = no limit. */
const CharLimitSchema = z.number().int().positive().nullable();
const KindLimitsSchema = z.object({ problem: CharLimitSchema, trace: CharLimitSchema }).strict();
const EmptyTraceSchema = enumOf(EMPTY_TRACE_PROMPTS);

export const ProtocolSchema = z
  .object({
    preset: z.enum(PROTOCOL_PRESETS),
    /** Executor API when the endpoint does not say (official: completions). */
    executor_api: ApiKindSchema,
    /** How chat messages become a completions prompt (official: "Instruction:" … cue). */
    completion_prompt: enumOf(COMPLETION_PROMPTS),
    /** Prompt wording (src/engine/prompts/<set>); its version is part of the baseline cache key. */
    prompt_set: enumOf(PROMPT_SET_CHOICES),
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
    baseline: enumOf(BASELINE_ESTIMATORS),
    /** e2e term: `with_trace` = from the K with-trace samples (ours); `extra_call` = one more executor call per trace (official). */
    e2e_source: enumOf(E2E_SOURCES),
    /** Code outcome class for coderl/hybrid: `summary` = the verifier's overall status (ours); `first_failure` = the first failing test (official). */
    code_outcome: enumOf(CODE_OUTCOME_RULES),
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

/**
 * What a front door's setting says for "as the protocol preset says" (the
 * extension's knob settings default to it; the CLI leaves the flag out).
 */
export const FROM_PRESET = 'preset';

/** The description of FROM_PRESET for one knob: what each preset sets it to. */
export function fromPresetDescription(pick: (p: Protocol) => unknown): string {
  return `as the protocol preset says (tracelift: ${String(pick(TRACELIFT_PROTOCOL))}; official: ${String(pick(OFFICIAL_PROTOCOL))})`;
}
