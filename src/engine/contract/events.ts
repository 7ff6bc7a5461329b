/**
 * The run directory contract. A run (eval or training) writes
 *   config.json     – what was run (EvalConfig or a training config)
 *   events.jsonl    – append-only log of RunEvent lines, one JSON object each
 *   samples.jsonl   – one TraceSampleRow per scored trace (flat, for tools)
 *   summary.json    – RunSummary, rewritten as the run progresses
 * Readers must tolerate a truncated last line of events.jsonl (a writer may
 * be mid-append or may have crashed).
 */
import { z } from 'zod';
import { TaskKindSchema } from './problems';

/** The first test a program did not pass, in test order (code verdicts). */
export const TestFailureSchema = z.object({
  /** 0-based index of the test. */
  index: z.number().int().min(0),
  /** Its status: failed | syntax_error | runtime_error | timeout | memory | output_limit | sandbox_error. */
  status: z.string(),
  /** What went wrong, in words; for an exception "<ExceptionName>: <message>". */
  message: z.string().nullable().default(null),
});
export type TestFailure = z.infer<typeof TestFailureSchema>;

/** Verdict of one executor output, math or code. */
export const VerdictSchema = z.object({
  correct: z.boolean(),
  /** The answer extracted from the output (math) or the program status (code). */
  extracted: z.string().nullable().default(null),
  status: z.string().nullable().default(null),
  tests_passed: z.number().int().min(0).nullable().default(null),
  tests_total: z.number().int().min(0).nullable().default(null),
  detail: z.string().nullable().default(null),
  /**
   * Code: the first test not passed (the official outcome rule classifies by
   * it); null when all passed, absent for math and in runs written before it.
   */
  first_failure: TestFailureSchema.nullable().optional(),
});
export type Verdict = z.infer<typeof VerdictSchema>;

/** One executor generation and what the verifier made of it. */
export const ExecutorAttemptSchema = z.object({
  /** Raw executor output; null when the call failed. */
  output: z.string().nullable(),
  verdict: VerdictSchema.nullable(),
  /** Set when the call failed after retries: the attempt is excluded from rates. */
  error: z.string().nullable().default(null),
  finish_reason: z.string().nullable().default(null),
  latency_ms: z.number().min(0).nullable().default(null),
});
export type ExecutorAttempt = z.infer<typeof ExecutorAttemptSchema>;

/** Success count over the attempts that produced an output. */
export const SuccessTallySchema = z.object({
  successes: z.number().int().min(0),
  /** Attempts that produced an output (requested minus failed calls). */
  valid: z.number().int().min(0),
  requested: z.number().int().min(0),
  failed: z.number().int().min(0),
  /** successes / valid, or null when no attempt succeeded in producing output. */
  rate: z.number().min(0).max(1).nullable(),
});
export type SuccessTally = z.infer<typeof SuccessTallySchema>;

export const BaselineSchema = z.object({
  tally: SuccessTallySchema,
  attempts: z.array(ExecutorAttemptSchema),
  /** Identifies the executor configuration the baseline holds for. */
  cache_key: z.string(),
  /** True when read from the on-disk cache rather than sampled in this run. */
  from_cache: z.boolean(),
});
export type Baseline = z.infer<typeof BaselineSchema>;

export const RewardBreakdownSchema = z.object({
  mode: z.string(),
  value: z.number(),
  /** Named terms (e2e, exec, uplift, rm, coeff, judge…) so a UI can show the arithmetic. */
  components: z.record(z.string(), z.number()),
  formula: z.string(),
});
export type RewardBreakdownRecord = z.infer<typeof RewardBreakdownSchema>;

export const TraceSampleSchema = z.object({
  sample_id: z.string(),
  /** Where the trace came from: reference, planner, file, positive, negative. */
  source: z.string(),
  /** negative_kind for perturbed traces, or a free label. */
  label: z.string().nullable().default(null),
  rubric_total: z.number().nullable().default(null),
  trace: z.string(),
  with_trace: z.object({ tally: SuccessTallySchema, attempts: z.array(ExecutorAttemptSchema) }),
  /** with-trace rate − baseline rate; null when either rate is unknown. */
  uplift: z.number().min(-1).max(1).nullable(),
  e2e: z.number().min(0).max(1).nullable(),
  rm_score: z.number().nullable().default(null),
  /**
   * The RM's expected label (0–4) per rubric dimension, when the RM server
   * reports them (TraceLift's `rm serve` does: response key `dimensions`).
   * Absent or null for RMs that return only a score, and in older runs.
   */
  rm_dimensions: z.record(z.string(), z.number().min(0).max(4)).nullable().optional(),
  judge_score: z.number().nullable().default(null),
  reward: RewardBreakdownSchema.nullable(),
  errors: z.array(z.string()).default([]),
  /**
   * protocol.e2e_source extra_call: the extra with-trace call the e2e term
   * came from (null when it gave no output). Absent or null otherwise, and in
   * runs written before the field existed.
   */
  e2e_attempt: ExecutorAttemptSchema.nullable().optional(),
  /**
   * protocol.baseline per_trace: this trace's own K no-trace samples, the
   * baseline of its uplift. Absent or null with the cached baseline.
   */
  no_trace: z
    .object({ tally: SuccessTallySchema, attempts: z.array(ExecutorAttemptSchema) })
    .nullable()
    .optional(),
});
export type TraceSample = z.infer<typeof TraceSampleSchema>;

const EventBase = {
  /** ISO-8601 time the event was written. */
  time: z.string(),
};

export const RunStartedSchema = z.object({
  ...EventBase,
  type: z.literal('run_started'),
  run_id: z.string(),
  run_kind: z.enum(['eval', 'train', 'rm_train']),
  engine_version: z.string(),
  /** True when this start continues an earlier, unfinished run in the same directory. */
  resumed: z.boolean().default(false),
  config: z.record(z.string(), z.unknown()),
});

export const RolloutGroupSchema = z.object({
  ...EventBase,
  type: z.literal('rollout_group'),
  /** Training step, or null for evals. */
  step: z.number().int().min(0).nullable().default(null),
  group_index: z.number().int().min(0),
  task: z.string(),
  task_kind: TaskKindSchema,
  problem_id: z.string(),
  problem: z.string(),
  /** Gold answer (math) or a short description of the tests (code). */
  reference: z.string().nullable().default(null),
  baseline: BaselineSchema,
  samples: z.array(TraceSampleSchema),
  /**
   * Executor generations the writing invocation made since its previous
   * event carrying this count (not this group's own cost: groups run
   * concurrently). A run's total is the sum over its events; absent: not counted.
   */
  executor_generations: z.number().int().min(0).optional(),
});
export type RolloutGroup = z.infer<typeof RolloutGroupSchema>;

export const StepMetricsSchema = z.object({
  ...EventBase,
  type: z.literal('step_metrics'),
  step: z.number().int().min(0),
  metrics: z.record(z.string(), z.number()),
});

export const CheckpointSchema = z.object({
  ...EventBase,
  type: z.literal('checkpoint'),
  step: z.number().int().min(0),
  path: z.string(),
});

export const RunErrorSchema = z.object({
  ...EventBase,
  type: z.literal('error'),
  message: z.string(),
  /** What was being done: "executor", "verifier", "baseline", problem id… */
  where: z.string().nullable().default(null),
  problem_id: z.string().nullable().default(null),
  fatal: z.boolean().default(false),
});

export const RunEndedSchema = z.object({
  ...EventBase,
  type: z.literal('run_ended'),
  status: z.enum(['completed', 'failed', 'cancelled']),
  message: z.string().nullable().default(null),
  /** Executor generations since the invocation's last group event (groups in flight that were not written). */
  executor_generations: z.number().int().min(0).optional(),
});

export const RunEventSchema = z.discriminatedUnion('type', [
  RunStartedSchema,
  RolloutGroupSchema,
  StepMetricsSchema,
  CheckpointSchema,
  RunErrorSchema,
  RunEndedSchema,
]);
export type RunEvent = z.infer<typeof RunEventSchema>;
export type RunEventInput = z.input<typeof RunEventSchema>;

/** Flat row of samples.jsonl: one scored trace with its group's context. */
export const TraceSampleRowSchema = TraceSampleSchema.omit({ with_trace: true, e2e_attempt: true, no_trace: true }).extend({
  task: z.string(),
  problem_id: z.string(),
  step: z.number().int().nullable(),
  with_trace_successes: z.number().int().min(0),
  with_trace_valid: z.number().int().min(0),
  with_trace_rate: z.number().nullable(),
  baseline_rate: z.number().nullable(),
  baseline_valid: z.number().int().min(0),
  failed_calls: z.number().int().min(0),
});
export type TraceSampleRow = z.infer<typeof TraceSampleRowSchema>;

export const SummaryRowSchema = z.object({
  task: z.string(),
  problems: z.number().int().min(0),
  traces: z.number().int().min(0),
  /** Mean over traces of the with-trace success rate. */
  with_trace_success: z.number().nullable(),
  /** Mean over problems of the no-trace baseline rate. */
  no_trace_success: z.number().nullable(),
  mean_uplift: z.number().nullable(),
  mean_reward: z.number().nullable(),
  positive_uplift_traces: z.number().int().min(0),
  negative_uplift_traces: z.number().int().min(0),
  failed_calls: z.number().int().min(0),
});
export type SummaryRow = z.infer<typeof SummaryRowSchema>;

export const RunSummarySchema = z.object({
  run_id: z.string(),
  status: z.enum(['running', 'completed', 'failed', 'cancelled']),
  updated: z.string(),
  /** Top-level figures are the micro-average over all traces of all tasks. */
  with_trace_success: z.number().nullable(),
  no_trace_success: z.number().nullable(),
  mean_uplift: z.number().nullable(),
  mean_reward: z.number().nullable(),
  micro: SummaryRowSchema.omit({ task: true }),
  tasks: z.array(SummaryRowSchema),
  /** Executor generations of every invocation of the run (the sum of the events' executor_generations). */
  executor_generations: z.number().int().min(0),
  /** Problems whose baseline came from the on-disk cache. */
  baseline_cache_hits: z.number().int().min(0),
});
export type RunSummary = z.infer<typeof RunSummarySchema>;
