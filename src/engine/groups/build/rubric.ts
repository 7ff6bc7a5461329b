/**
 * The five-dimension rubric of every candidate (docs/official-protocol.md
 * §2.2, §3.1): dimensions 0–4 and `total` in [0,1]. Either an LLM judge with
 * the official rubric prompt (each dimension 0–10, bucketed as
 * min(4, max(0, floor(score/2))), total = clamp(rubric_score/10)), or the
 * documented prior of the candidate's kind when no judge is given or its
 * reply is unusable.
 */
import {
  CODE_NEGATIVE_KINDS,
  MATH_NEGATIVE_KINDS,
  RUBRIC_DIMENSIONS,
  type CodeNegativeKind,
  type MathNegativeKind,
  type RubricSource,
  type TaskKind,
} from '../../contract';
import type { ExecutorClient } from '../../executor/client';
import { fillTemplate, type ChatMessage } from '../../prompts/templates';
import { truncateChars } from '../../prompts/truncate';
import { PERTURB_PROMPTS } from './prompts';

export type RubricValues = Record<string, number>;

export interface CandidateRubric {
  rubric: RubricValues;
  rubric_source: RubricSource;
  rubric_label: string;
  rubric_score_raw: number;
  rubric_reason?: string;
}

/**
 * Prior dimension labels (0–4, in RUBRIC_DIMENSIONS order) per kind: an
 * assumption of what each flaw damages, not a measurement. Math order:
 * problem_understanding, solution_strategy, step_coherence,
 * calculation_correctness, answer_support. Code order: task_understanding,
 * plan_quality, step_coherence, action_support, non_leakage.
 */
export const PRIOR_LABELS: Readonly<Record<MathNegativeKind | CodeNegativeKind, readonly number[]>> = {
  arithmetic_error: [4, 4, 3, 0, 1],
  incorrect_operation: [3, 1, 3, 2, 1],
  missing_condition: [1, 2, 3, 3, 1],
  mismatched_units: [3, 2, 2, 1, 1],
  unsupported_leap: [4, 3, 1, 2, 1],
  premature_answer: [3, 2, 3, 4, 0],
  wrong_algorithm_choice: [2, 0, 3, 1, 4],
  missing_boundary_case: [3, 3, 3, 2, 4],
  off_by_one: [4, 3, 3, 1, 4],
  incorrect_invariant: [2, 1, 2, 1, 4],
  infeasible_complexity: [3, 1, 3, 1, 4],
  vague_pseudo_solution: [2, 1, 1, 0, 4],
};

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/** Labels → rubric; total = mean label / 4 (what the RM's derived score of these labels would be). */
function rubricOf(kind: TaskKind, labels: readonly number[]): RubricValues {
  const rubric: RubricValues = {};
  RUBRIC_DIMENSIONS[kind].forEach((name, i) => (rubric[name] = labels[i]!));
  rubric.total = round6(labels.reduce((a, b) => a + b, 0) / (4 * labels.length));
  return rubric;
}

/** The official math positive rubric: every dimension 4, total 1.0 (`mathgroups.py: positive_rubric`). */
export function positiveRubric(kind: TaskKind): CandidateRubric {
  return { rubric: rubricOf(kind, [4, 4, 4, 4, 4]), rubric_source: 'prior', rubric_label: 'positive', rubric_score_raw: 10 };
}

export function priorRubric(kind: TaskKind, negativeKind: MathNegativeKind | CodeNegativeKind): CandidateRubric {
  const rubric = rubricOf(kind, PRIOR_LABELS[negativeKind]);
  return { rubric, rubric_source: 'prior', rubric_label: 'prior', rubric_score_raw: round6(rubric.total! * 10) };
}

/** The official bucketing of a 0–10 judge score to a 0–4 label. */
export function bucketizeJudgeScore(score: number): number {
  return Math.min(4, Math.max(0, Math.floor(score / 2)));
}

/** The first JSON object in a reply (as the official `parse_judge_json_object`), or null. */
export function firstJsonObject(text: string): Record<string, unknown> | null {
  for (let start = text.indexOf('{'); start >= 0; start = text.indexOf('{', start + 1)) {
    // The shortest balanced candidate that parses, from each "{".
    for (let end = text.indexOf('}', start); end >= 0; end = text.indexOf('}', end + 1)) {
      try {
        const value: unknown = JSON.parse(text.slice(start, end + 1));
        if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
        break;
      } catch {
        // not closed yet
      }
    }
  }
  return null;
}

/** A judge reply as a rubric, or why it is not one (a missing dimension or score). */
export function parseJudgeRubric(kind: TaskKind, text: string): CandidateRubric | { error: string } {
  const obj = firstJsonObject(text);
  if (!obj) return { error: 'judge reply has no JSON object' };
  const num = (key: string): number | null => {
    const v = obj[key];
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() ? Number(v) : NaN;
    return Number.isFinite(n) ? n : null;
  };
  const rubric: RubricValues = {};
  for (const name of RUBRIC_DIMENSIONS[kind]) {
    const score = num(name);
    if (score === null) return { error: `judge reply lacks ${name}` };
    rubric[name] = bucketizeJudgeScore(score);
  }
  const raw = ['rubric_score', 'total_score', 'score', 'reward', 'total', 'value'].map(num).find((v) => v !== null) ?? null;
  if (raw === null) return { error: 'judge reply lacks rubric_score' };
  rubric.total = round6(clamp01(raw / 10));
  const label = typeof obj.rubric_label === 'string' ? obj.rubric_label : 'unlabelled';
  const reason = typeof obj.rubric_reason === 'string' ? obj.rubric_reason : undefined;
  return { rubric, rubric_source: 'judge', rubric_label: label, rubric_score_raw: raw, ...(reason ? { rubric_reason: reason } : {}) };
}

/** Character budgets of the judge prompt: the official code-judge limits (§1, 3,500 / 2,500). */
const JUDGE_LIMITS = { problem: 3500, trace: 2500 };

export function rubricJudgeMessages(kind: TaskKind, problem: string, reasoning: string): ChatMessage[] {
  const p = PERTURB_PROMPTS.rubric_judge[kind];
  const values = { problem: truncateChars(problem, JUDGE_LIMITS.problem), reasoning: truncateChars(reasoning, JUDGE_LIMITS.trace) };
  return [
    { role: 'system', content: p.system },
    { role: 'user', content: fillTemplate(p.user, values) },
  ];
}

/** The rubric judge over any OpenAI-compatible endpoint, greedy. */
export class RubricJudge {
  constructor(
    private readonly client: ExecutorClient,
    private readonly maxTokens = 512,
  ) {}

  get identity(): string {
    return `${this.client.endpoint.base_url}|${this.client.endpoint.model}`;
  }

  async judge(kind: TaskKind, problem: string, reasoning: string): Promise<CandidateRubric | { error: string }> {
    const [gen] = await this.client.sample(
      rubricJudgeMessages(kind, problem, reasoning),
      { temperature: 0, top_p: 1, max_tokens: this.maxTokens, seed: 0, stop: [] },
      1,
    );
    if (!gen || gen.error !== null || gen.text === null) return { error: 'judge call failed' };
    return parseJudgeRubric(kind, gen.text);
  }
}

/** Every kind the rubric priors cover (for checks). */
export const PRIOR_KINDS = [...Object.keys(MATH_NEGATIVE_KINDS), ...Object.keys(CODE_NEGATIVE_KINDS)];
