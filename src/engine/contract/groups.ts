/**
 * The official TraceLift-Groups record (MasaiahHan/TraceLift), read as
 * published: one problem, a pool of positive reference traces and a bank of
 * controlled perturbations, each with rubric scores. Unknown extra fields are
 * kept (passthrough) so files from newer builders still load.
 */
import { z } from 'zod';
import { CodeTestsSchema } from './codeTests';

/** Rubric dimensions are scored 0–4; `total` is normalised to [0, 1]. */
export const RubricSchema = z
  .object({
    total: z.number().min(0).max(1).optional(),
  })
  .catchall(z.unknown())
  .superRefine((rubric, ctx) => {
    for (const [key, value] of Object.entries(rubric)) {
      if (key === 'total' || typeof value !== 'number') continue;
      if (value < 0 || value > 4) {
        ctx.addIssue({ code: 'custom', path: [key], message: `rubric dimension must be within 0–4, got ${value}` });
      }
    }
  });
export type Rubric = z.infer<typeof RubricSchema>;

/** Where a candidate's rubric came from: an LLM judge, or the builder's documented per-kind prior (docs/groups.md). */
export const RUBRIC_SOURCES = {
  judge: 'an LLM judge scored the five dimensions 0–10 (official rubric prompt), bucketed to 0–4',
  prior: "the builder's fixed rubric for the candidate's kind (math positives: the official all-4 rubric)",
} as const;
export type RubricSource = keyof typeof RUBRIC_SOURCES;
export const RubricSourceSchema = z.enum(Object.keys(RUBRIC_SOURCES) as [RubricSource, ...RubricSource[]]);

/**
 * A trace's uplift as measured by `tracelift groups build --measure` (not in
 * the official schema): K with-trace executor samples against the problem's
 * no-trace baseline. `uplift` is null when a rate is missing (failed calls).
 */
export const MeasuredUpliftSchema = z.object({
  uplift: z.number().min(-1).max(1).nullable(),
  with_trace_successes: z.number().int().min(0),
  with_trace_valid: z.number().int().min(0),
  baseline_rate: z.number().min(0).max(1).nullable(),
  baseline_valid: z.number().int().min(0),
});
export type MeasuredUplift = z.infer<typeof MeasuredUpliftSchema>;

export const PositiveTraceSchema = z
  .object({
    reasoning: z.string(),
    rubric: RubricSchema.optional(),
    rubric_source: RubricSourceSchema.optional(),
    measured: MeasuredUpliftSchema.optional(),
  })
  .passthrough();

export const NegativeTraceSchema = z
  .object({
    reasoning: z.string(),
    negative_kind: z.string(),
    rubric: RubricSchema.optional(),
    rubric_source: RubricSourceSchema.optional(),
    measured: MeasuredUpliftSchema.optional(),
  })
  .passthrough();

export const GroupRecordSchema = z
  .object({
    problem_id: z.union([z.string(), z.number()]).transform(String),
    source: z.string(),
    task_type: z.string(),
    problem: z.string(),
    reference_solution: z.string().nullable().optional(),
    positive_pool: z.array(PositiveTraceSchema),
    negative_bank: z.array(NegativeTraceSchema),
    /**
     * Code records written by our builder (not in the official schema): the
     * problem's tests, the function they call and the starter code, so a
     * code groups file is scored without the dataset it came from.
     */
    tests: CodeTestsSchema.optional(),
    entry_point: z.string().nullable().optional(),
    starter_code: z.string().nullable().optional(),
  })
  .passthrough();
export type GroupRecord = z.infer<typeof GroupRecordSchema>;
export type PositiveTrace = z.infer<typeof PositiveTraceSchema>;
export type NegativeTrace = z.infer<typeof NegativeTraceSchema>;

/**
 * The paper's perturbation kinds, what our groups builder writes in
 * `negative_kind`. Records read from elsewhere may name other kinds (the
 * published builders copy whatever the generation step wrote), so the record
 * schema keeps `negative_kind` a free string.
 */
export const MATH_NEGATIVE_KINDS = {
  arithmetic_error: 'one computed result is wrong; the steps after it follow from the wrong value',
  incorrect_operation: 'one operation is swapped (e.g. + for ×) and what depends on it is recomputed',
  missing_condition: 'a condition stated in the problem is left out of the reasoning',
  mismatched_units: 'quantities in different units are combined without conversion',
  unsupported_leap: 'a result is asserted without the step that supports it',
  premature_answer: 'the reasoning stops early and gives an intermediate value as the answer',
} as const;
export const CODE_NEGATIVE_KINDS = {
  wrong_algorithm_choice: 'an approach that does not solve the problem',
  missing_boundary_case: 'an edge case (empty input, zero, extremes) is not handled',
  off_by_one: 'a bound or an index is off by one',
  incorrect_invariant: 'the invariant the plan relies on does not hold',
  infeasible_complexity: 'a correct idea too slow for the input limits',
  vague_pseudo_solution: 'restates the problem without a concrete plan',
} as const;
export type MathNegativeKind = keyof typeof MATH_NEGATIVE_KINDS;
export type CodeNegativeKind = keyof typeof CODE_NEGATIVE_KINDS;
export const MathNegativeKindSchema = z.enum(Object.keys(MATH_NEGATIVE_KINDS) as [MathNegativeKind, ...MathNegativeKind[]]);
export const CodeNegativeKindSchema = z.enum(Object.keys(CODE_NEGATIVE_KINDS) as [CodeNegativeKind, ...CodeNegativeKind[]]);

/** Rubric dimension names per domain (docs/official-protocol.md §2.2), each scored 0–4. */
export const RUBRIC_DIMENSIONS = {
  math: ['problem_understanding', 'solution_strategy', 'step_coherence', 'calculation_correctness', 'answer_support'],
  code: ['task_understanding', 'plan_quality', 'step_coherence', 'action_support', 'non_leakage'],
} as const;

/**
 * A plain traces file: one trace per line for a problem of a task. This is
 * what a user writes by hand or a planner run dumps.
 */
export const TraceRecordSchema = z.object({
  task: z.string().optional(),
  problem_id: z.union([z.string(), z.number()]).transform(String),
  trace: z.string(),
  trace_id: z.string().optional(),
  label: z.string().optional(),
});
export type TraceRecord = z.infer<typeof TraceRecordSchema>;

const Count = z.number().int().min(0);
const CountsSchema = z.record(z.string(), Count);

/** Measured uplift of one kind's traces over a groups file (`--measure`). */
export const MeasuredKindStatsSchema = z.object({
  /** Traces whose uplift was measured (not null). */
  traces: Count,
  uplift_sum: z.number(),
  mean_uplift: z.number().nullable(),
  /** Negatives compared with their group's positive (both measured). */
  compared: Count,
  /** Of those, negatives whose uplift is at least the positive's: the perturbation did not hurt the executor. */
  at_least_positive: Count,
  at_least_positive_rate: z.number().min(0).max(1).nullable(),
});
export type MeasuredKindStats = z.infer<typeof MeasuredKindStatsSchema>;

/**
 * `<out>.summary.json` beside a groups file written by `tracelift groups
 * build`: the settings, what was written and what was dropped and why.
 * Rewritten (atomically) after every problem, so a resumed build continues it.
 */
export const GroupsBuildSummarySchema = z.object({
  builder_version: z.string(),
  status: z.enum(['running', 'completed', 'cancelled', 'failed']),
  message: z.string().nullable(),
  task: z.string(),
  split: z.string(),
  seed: z.number().int(),
  kinds: z.array(z.string()),
  min_negatives: Count,
  perturber: z.object({ model: z.string(), prompt_version: z.string(), max_tokens: Count }).nullable(),
  judge: z.object({ model: z.string(), prompt_version: z.string() }).nullable(),
  measure: z.object({ executor: z.string(), k: Count, baseline_samples: Count, prompt_version: z.string() }).nullable(),
  /**
   * Code builds: where positives came from (a traces file or a planner) and
   * whether each had to lift the executor (uplift > 0 over `lift_k`
   * with-trace samples) to be kept. Absent for math (the dataset's solution).
   */
  positives: z
    .object({
      source: z.enum(['file', 'planner']),
      file_sha256: z.string().nullable(),
      planner: z.string().nullable(),
      lift_check: z.object({ executor: z.string(), k: Count, baseline_samples: Count }).nullable(),
    })
    .optional(),
  problems_seen: Count,
  groups_written: Count,
  groups_dropped: Count,
  /** Problems without a group, by reason. */
  drop_reasons: CountsSchema,
  /** Negatives written, by kind. */
  negative_kind_counts: CountsSchema,
  /** Candidates not written: kind → reason → count. */
  candidates_dropped: z.record(z.string(), CountsSchema),
  /** Written candidates (positives and negatives) by rubric source. */
  rubric_sources: CountsSchema,
  /** Judge replies that could not be used (the prior was used instead), by reason. */
  judge_failures: CountsSchema,
  measured: z
    .object({
      positive: MeasuredKindStatsSchema,
      per_kind: z.record(z.string(), MeasuredKindStatsSchema),
    })
    .nullable(),
  dropped_problems: z.array(z.object({ problem_id: z.string(), reason: z.string() })),
});
export type GroupsBuildSummary = z.infer<typeof GroupsBuildSummarySchema>;

/** One kind's figures in `tracelift groups stats` (positives are the kind "positive"). */
export const GroupsKindStatsSchema = z.object({
  kind: z.string(),
  traces: Count,
  /** Traces with a measured uplift (not null). */
  measured: Count,
  mean_uplift: z.number().nullable(),
  /** Negatives whose group's reference positive was measured too. */
  compared: Count,
  /** Of those, how often the positive lifted strictly more, and how often as much. */
  positive_beats: Count,
  ties: Count,
  positive_beats_rate: z.number().min(0).max(1).nullable(),
  /** Spearman's ρ between rubric total and measured uplift over this kind's traces; null under 3 pairs or a constant side. */
  rubric_uplift_spearman: z.number().min(-1).max(1).nullable(),
  rubric_uplift_pairs: Count,
});
export type GroupsKindStats = z.infer<typeof GroupsKindStatsSchema>;

/** `tracelift groups stats FILE --json`. */
export const GroupsStatsSchema = z.object({
  file: z.string(),
  groups: Count,
  /** Groups whose every trace has a measured uplift. */
  groups_measured: Count,
  traces: Count,
  per_kind: z.array(GroupsKindStatsSchema),
  /** Spearman's ρ between rubric total and measured uplift over every trace (positives and negatives). */
  rubric_uplift_spearman: z.number().min(-1).max(1).nullable(),
  rubric_uplift_pairs: Count,
});
export type GroupsStats = z.infer<typeof GroupsStatsSchema>;
