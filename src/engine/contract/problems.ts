/**
 * Benchmark problems as the engine sees them, after a task module has read a
 * dataset file in its published format. One schema for every task, so runs,
 * the CLI and the extension never need to know which file a problem came from.
 */
import { z } from 'zod';
import { CodeTestsSchema } from './codeTests';

export const TaskKindSchema = z.enum(['math', 'code']);
export type TaskKind = z.infer<typeof TaskKindSchema>;

const ProblemBase = {
  /** Task module name, e.g. "gsm8k", "math500", "humaneval". */
  task: z.string().min(1),
  /** Stable id within the task, e.g. "gsm8k/test/17", "HumanEval/0". */
  id: z.string().min(1),
  /** Problem statement given to planner and executor. */
  problem: z.string(),
  /** A worked reasoning trace from the dataset (no final answer line), when it has one. */
  reference_trace: z.string().nullable().default(null),
  /** Anything else from the source row worth showing (subject, level, difficulty…). */
  meta: z.record(z.string(), z.unknown()).default({}),
};

export const MathProblemSchema = z.object({
  ...ProblemBase,
  kind: z.literal('math'),
  /** Gold final answer as text: a number for GSM-style tasks, LaTeX for MATH500. */
  answer: z.string(),
});
export type MathProblem = z.infer<typeof MathProblemSchema>;

export const CodeProblemSchema = z.object({
  ...ProblemBase,
  kind: z.literal('code'),
  tests: CodeTestsSchema,
  /** Function name or LeetCode method the tests call, when the task has one. */
  entry_point: z.string().nullable().default(null),
  /** Starter code shown to the executor (function signature, class stub). */
  starter_code: z.string().nullable().default(null),
  /** The dataset's own reference program, when it has one. */
  reference_solution: z.string().nullable().default(null),
});
export type CodeProblem = z.infer<typeof CodeProblemSchema>;

export const ProblemSchema = z.discriminatedUnion('kind', [MathProblemSchema, CodeProblemSchema]);
export type Problem = z.infer<typeof ProblemSchema>;
