/**
 * A TraceLift-Groups record as labelled traces: its positives (the first is
 * the reference the negatives are compared with) and its perturbations, each
 * with a stable id. Runs name their samples by these ids, so measured uplift
 * can be found again for a record's traces.
 */
import type { CodeProblem, GroupRecord, MathProblem, Problem, Rubric, TaskKind } from '../contract';

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
 * Whether a record poses a code problem: it carries tests, or says `code`
 * as its task type (top level, or in metadata as the official code builder
 * writes it).
 */
export function isCodeGroupRecord(record: GroupRecord): boolean {
  const meta = (record as { metadata?: unknown }).metadata;
  const metaType = typeof meta === 'object' && meta !== null ? (meta as { task_type?: unknown }).task_type : undefined;
  return record.tests !== undefined || record.task_type === 'code' || metaType === 'code';
}

/**
 * The code problem a record poses, judged by its own tests in the sandbox;
 * null when the record has no tests, so its traces cannot be scored.
 */
export function groupCodeProblem(record: GroupRecord, taskName: string): CodeProblem | null {
  if (!record.tests) return null;
  return {
    task: taskName,
    id: record.problem_id,
    kind: 'code',
    problem: record.problem,
    tests: record.tests,
    entry_point: record.entry_point ?? null,
    starter_code: record.starter_code ?? null,
    reference_solution: record.reference_solution ?? null,
    reference_trace: record.positive_pool[0]?.reasoning ?? null,
    meta: { source: record.source, task_type: record.task_type },
  };
}

/**
 * The problem a record poses for a task of `kind`, or why it cannot be
 * scored there (a code record under a math task, a record without its gold
 * answer or tests).
 */
export function groupProblem(record: GroupRecord, taskName: string, kind: TaskKind): { problem: Problem } | { error: string } {
  const code = isCodeGroupRecord(record);
  if (kind === 'math') {
    if (code) return { error: `group ${record.problem_id} is a code problem; pick a code task (e.g. --task mbpp) to score it` };
    const problem = groupMathProblem(record, taskName);
    return problem ? { problem } : { error: `group ${record.problem_id} has no reference_solution (its gold answer)` };
  }
  if (!code) return { error: `group ${record.problem_id} is a math problem; pick a math task (e.g. --task gsm8k) to score it` };
  const problem = groupCodeProblem(record, taskName);
  return problem
    ? { problem }
    : {
        error: `group ${record.problem_id} has no tests (a code groups record carries its problem's tests: build it with tracelift groups build)`,
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
