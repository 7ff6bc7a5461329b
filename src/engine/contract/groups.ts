/**
 * The official TraceLift-Groups record (MasaiahHan/TraceLift), read as
 * published: one problem, a pool of positive reference traces and a bank of
 * controlled perturbations, each with rubric scores. Unknown extra fields are
 * kept (passthrough) so files from newer builders still load.
 */
import { z } from 'zod';

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

export const PositiveTraceSchema = z
  .object({
    reasoning: z.string(),
    rubric: RubricSchema.optional(),
  })
  .passthrough();

export const NegativeTraceSchema = z
  .object({
    reasoning: z.string(),
    negative_kind: z.string(),
    rubric: RubricSchema.optional(),
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
