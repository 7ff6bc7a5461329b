/**
 * Where traces come from for an eval: the dataset's reference traces, a
 * planner endpoint, a traces file, or a TraceLift-Groups file (whose records
 * carry their own problem and gold answer).
 */
import { TraceRecordSchema, type GroupRecord, type Problem, type Protocol, type Sampling, type TaskKind } from '../contract';
import type { ExecutorClient } from '../executor/client';
import { expandGroup, groupProblem, parseGroupLine } from '../groups';
import { plannerMessages, type PromptSet } from '../prompts/templates';
import { DataFileError, parseJsonl, readTextFile, validateLines } from '../util/jsonl';
import type { TraceInput } from '../uplift/scorer';

export interface ProblemWithTraces {
  problem: Problem;
  traces: TraceInput[];
}

export function referenceTraces(problems: Problem[], taskName: string): ProblemWithTraces[] {
  const usable = problems.filter((p) => p.reference_trace);
  if (!usable.length) {
    throw new Error(`Task "${taskName}" has no reference traces. Use a traces file (--traces FILE) or a planner (--planner-url).`);
  }
  return usable.map((problem) => ({
    problem,
    traces: [{ sample_id: `${problem.id}#reference`, trace: problem.reference_trace!, source: 'reference' }],
  }));
}

/**
 * Traces file: lines {problem_id, trace, trace_id?, label?} matched to the
 * task's problems by id. Every trace's sample id (its trace_id, else
 * `<problem_id>#<n>`) must be unique: a duplicate names both lines.
 */
export function tracesFromFile(file: string, problems: Problem[]): { items: ProblemWithTraces[]; unmatched: string[] } {
  const lines = parseJsonl(readTextFile(file), file);
  const records = validateLines(TraceRecordSchema, lines, file);
  const byId = new Map(problems.map((p) => [p.id, p]));
  const grouped = new Map<string, TraceInput[]>();
  const unmatched = new Set<string>();
  const lineOfId = new Map<string, number>();
  records.forEach((r, i) => {
    const line = lines[i]!.line;
    const list = grouped.get(r.problem_id) ?? [];
    const sampleId = r.trace_id ?? `${r.problem_id}#${list.length}`;
    const first = lineOfId.get(sampleId);
    if (first !== undefined) {
      throw new DataFileError(
        file,
        line,
        `duplicate trace_id "${sampleId}": already used at ${file}:${first} (each trace needs its own id)`,
      );
    }
    lineOfId.set(sampleId, line);
    if (!byId.has(r.problem_id)) {
      unmatched.add(r.problem_id);
      return;
    }
    list.push({ sample_id: sampleId, trace: r.trace, source: 'file', label: r.label ?? null });
    grouped.set(r.problem_id, list);
  });
  const items = problems.filter((p) => grouped.has(p.id)).map((problem) => ({ problem, traces: grouped.get(problem.id)! }));
  return { items, unmatched: [...unmatched] };
}

/**
 * TraceLift-Groups file: each record is a problem with its positive and
 * perturbed traces, and what judges them: a math record its gold answer
 * (reference_solution), a code record its tests (scored in the sandbox).
 * Every record must be of the task's kind.
 */
export function tracesFromGroups(file: string, taskName: string, taskKind: TaskKind = 'math'): ProblemWithTraces[] {
  // Two records of one problem would share a group key (the later would supersede the earlier): refused.
  const lineOfProblem = new Map<string, number>();
  const records: GroupRecord[] = [];
  readTextFile(file)
    .split('\n')
    .forEach((raw, i) => {
      if (!raw.trim()) return;
      const g = parseGroupLine(raw, file, i + 1);
      const first = lineOfProblem.get(g.problem_id);
      if (first !== undefined) throw new DataFileError(file, i + 1, `duplicate problem_id "${g.problem_id}": already at ${file}:${first}`);
      lineOfProblem.set(g.problem_id, i + 1);
      records.push(g);
    });
  return records.map((g) => {
    const posed = groupProblem(g, taskName, taskKind);
    if ('error' in posed) throw new DataFileError(file, lineOfProblem.get(g.problem_id)!, posed.error);
    const problem = posed.problem;
    const traces = expandGroup(g).map((t): TraceInput => ({
      sample_id: t.id,
      trace: t.text,
      source: t.role,
      label: t.negativeKind ?? 'reference',
      rubric_total: t.rubricTotal,
    }));
    return { problem, traces };
  });
}

/** The trace inside <reasoning>…</reasoning> when the planner used the tags, else the whole reply. */
export function extractPlannerTrace(text: string): string {
  const m = /<reasoning>([\s\S]*?)<\/reasoning>/i.exec(text);
  return (m ? m[1]! : text).trim();
}

export async function plannerTraces(
  problems: Problem[],
  planner: ExecutorClient,
  sampling: Sampling,
  prompts: PromptSet,
  perProblem: number,
  /** The protocol's budgets: the planner sees the problem cut as the executor does (default: whole). */
  truncation: Protocol['truncation'] | null = null,
): Promise<{ items: ProblemWithTraces[]; failures: string[] }> {
  const failures: string[] = [];
  const items = await Promise.all(
    problems.map(async (problem) => {
      const messages = plannerMessages(prompts, problem.kind, problem.problem, { truncation: truncation?.[problem.kind] ?? null });
      const gens = await planner.sample(messages, sampling, perProblem);
      const traces: TraceInput[] = [];
      gens.forEach((g, i) => {
        if (g.error !== null || g.text === null) failures.push(`${problem.id}: planner call failed: ${g.error}`);
        else traces.push({ sample_id: `${problem.id}#planner${i}`, trace: extractPlannerTrace(g.text), source: 'planner' });
      });
      return { problem, traces };
    }),
  );
  return { items: items.filter((i) => i.traces.length), failures };
}
