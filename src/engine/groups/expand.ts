/**
 * A TraceLift-Groups record as labelled traces: its positives (the first is
 * the reference the negatives are compared with) and its perturbations, each
 * with a stable id. Runs name their samples by these ids, so measured uplift
 * can be found again for a record's traces.
 */
import type { GroupRecord, MathProblem, Rubric } from '../contract';

export type GroupTraceRole = 'positive' | 'negative';

export interface GroupTrace {
  /** `<problem_id>#pos<i>` / `<problem_id>#neg<i>`. */
  id: string;
  role: GroupTraceRole;
  /** Index in positive_pool or negative_bank. */
  index: number;
  /** positive_pool[0]: the reference trace. */
  isReference: boolean;
  text: string;
  /** The perturbation kind of a negative; null for a positive. */
  negativeKind: string | null;
  rubric: Rubric | null;
  rubricTotal: number | null;
}

export function groupTraceId(problemId: string, role: GroupTraceRole, index: number): string {
  return `${problemId}#${role === 'positive' ? 'pos' : 'neg'}${index}`;
}

/** Positives first (in pool order), then negatives (in bank order). */
export function expandGroup(record: GroupRecord): GroupTrace[] {
  const positives = record.positive_pool.map((p, i): GroupTrace => ({
    id: groupTraceId(record.problem_id, 'positive', i),
    role: 'positive',
    index: i,
    isReference: i === 0,
    text: p.reasoning,
    negativeKind: null,
    rubric: p.rubric ?? null,
    rubricTotal: p.rubric?.total ?? null,
  }));
  const negatives = record.negative_bank.map((n, i): GroupTrace => ({
    id: groupTraceId(record.problem_id, 'negative', i),
    role: 'negative',
    index: i,
    isReference: false,
    text: n.reasoning,
    negativeKind: n.negative_kind,
    rubric: n.rubric ?? null,
    rubricTotal: n.rubric?.total ?? null,
  }));
  return [...positives, ...negatives];
}

/** Traces a record holds (positives + negatives). */
export function groupTraceCount(record: { positive_pool?: unknown; negative_bank?: unknown }): number {
  const len = (x: unknown) => (Array.isArray(x) ? x.length : 0);
  return len(record.positive_pool) + len(record.negative_bank);
}

/**
 * The math problem a record poses, judged against its gold answer
 * (reference_solution) by `taskName`'s verifier; null when the record has no
 * gold answer, so its traces cannot be scored.
 */
export function groupMathProblem(record: GroupRecord, taskName: string): MathProblem | null {
  if (record.reference_solution === null || record.reference_solution === undefined) return null;
  return {
    task: taskName,
    id: record.problem_id,
    kind: 'math',
    problem: record.problem,
    answer: record.reference_solution,
    reference_trace: record.positive_pool[0]?.reasoning ?? null,
    meta: { source: record.source, task_type: record.task_type },
  };
}

/**
 * The math task whose verifier judges a groups record's answers: a registered
 * math task named by the record's `source`, MATH-like sources → math500,
 * anything else → gsm8k (numeric answers).
 */
export function taskForGroupSource(source: string | null | undefined, mathTasks: readonly string[]): string {
  const s = (source ?? '').toLowerCase();
  const exact = mathTasks.find((t) => t === s);
  if (exact) return exact;
  if (/math/.test(s) && !/gsm/.test(s) && mathTasks.includes('math500')) return 'math500';
  if (/hard/.test(s) && mathTasks.includes('gsm_hard')) return 'gsm_hard';
  if (/svamp/.test(s) && mathTasks.includes('svamp')) return 'svamp';
  return mathTasks.includes('gsm8k') ? 'gsm8k' : (mathTasks[0] ?? 'gsm8k');
}
