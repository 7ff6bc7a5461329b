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
