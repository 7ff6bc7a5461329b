/**
 * `tracelift groups build --task <code task>`: one TraceLift-Groups record
 * per code problem (docs/groups.md). The positive is a reasoning trace from a
 * traces file or a planner, cleaned as the official code builder does, and —
 * when a lift check is given — kept only when it lifts the executor
 * (uplift > 0); the negatives are the paper's six code kinds written by an
 * LLM (llmPerturb.ts) and validated; each candidate gets a rubric (judge or
 * prior) and, with `--measure`, its measured uplift. Records carry the
 * problem's tests, entry point and starter code, so the file is scored
 * without the dataset (eval --traces FILE on a code task).
 *
 * Files and resume work as for GSM8K (build.ts): one validated line per
 * record, the summary rewritten after every problem, problems already written
 * or dropped skipped by a rerun with the same settings.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CODE_NEGATIVE_KINDS,
  RUBRIC_DIMENSIONS,
  type CodeNegativeKind,
  type CodeProblem,
  GroupsBuildSummarySchema,
  type GroupsBuildSummary,
} from '../../contract';
import { getTask } from '../../tasks/registry';
import type { GroupScorer } from '../../uplift/scorer';
import { GroupsFileWriter, type GroupRecordInput } from '../io';
import {
  addRecordMeasured,
  bump,
  DEFAULT_MIN_NEGATIVES,
  dropCutTail,
  freshSummary,
  GROUPS_BUILDER_VERSION,
  measureInto,
  sameSettings,
  summaryPath,
  writeSummary,
  writtenIds,
  type BuildProgress,
} from './build';
import { cleanCodeReasoning } from './clean';
import type { LlmPerturber } from './llmPerturb';
import type { GroupMeasurer } from './measure';
import { positiveRubric, priorRubric, type CandidateRubric, type RubricJudge } from './rubric';

export const CODE_KIND_ORDER = Object.keys(CODE_NEGATIVE_KINDS) as CodeNegativeKind[];

/** Why a code problem got no group (beside not_enough_negatives). */
export const CODE_DROP_REASONS = {
  no_positive: 'the traces file has no trace for the problem',
  positive_call_failed: 'the planner call failed',
  empty_positive_reasoning: 'the positive is empty once cleaned (it was all code or all thinking)',
  positive_no_lift: 'the positive did not lift the executor (uplift ≤ 0, or not measurable)',
  not_enough_negatives: 'fewer valid negatives than --min-negatives',
} as const;

/** Where a problem's positive comes from: a traces file (by problem id) or a planner call. */
export type PositiveSource =
  | { kind: 'file'; file: string; sha256: string; traces: ReadonlyMap<string, readonly string[]> }
  | { kind: 'planner'; identity: string; write: (problem: CodeProblem) => Promise<string | null> };

/** Whether a trace lifts the executor: K with-trace samples against the cached no-trace baseline. */
export class LiftChecker {
  private groupIndex = 0;

  constructor(
    private readonly scorer: GroupScorer,
    readonly info: { executor: string; k: number; baselineSamples: number },
  ) {}

  /** The trace's uplift, or null when it could not be measured (failed calls). */
  async uplift(problem: CodeProblem, trace: string): Promise<number | null> {
    const group = await this.scorer.scoreGroup(problem, [{ sample_id: `${problem.id}#candidate`, trace, source: 'positive' }], {
      groupIndex: this.groupIndex++,
    });
    return group.samples[0]?.uplift ?? null;
  }
}

export interface BuildCodeGroupsOptions {
  task: string;
  split: string;
  dataDir: string;
  offset?: number;
  limit?: number | null;
  out: string;
  seed: number;
  kinds?: readonly CodeNegativeKind[];
  minNegatives?: number;
  positives: PositiveSource;
  /** Keeps a positive only when it lifts the executor; null: every non-empty positive is kept. */
  liftCheck: LiftChecker | null;
  /** Writes the negatives; null drops them all ("no_perturber"). */
  perturber: LlmPerturber | null;
  judge: RubricJudge | null;
  measure: GroupMeasurer | null;
  signal?: AbortSignal;
  log?: (line: string) => void;
  onProgress?: (p: BuildProgress) => void;
}

interface Tally {
  candidates_dropped: Record<string, Record<string, number>>;
  judge_failures: Record<string, number>;
}

export async function buildCodeGroups(opts: BuildCodeGroupsOptions): Promise<GroupsBuildSummary> {
  const log = opts.log ?? (() => {});
  const task = getTask(opts.task);
  if (task.kind !== 'code') throw new Error(`${opts.task} is not a code task`);
  const kinds = CODE_KIND_ORDER.filter((k) => (opts.kinds ?? CODE_KIND_ORDER).includes(k));
  const minNegatives = opts.minNegatives ?? DEFAULT_MIN_NEGATIVES;
  const problems = task.load(opts.dataDir, opts.split).filter((p): p is CodeProblem => p.kind === 'code');
  const offset = opts.offset ?? 0;
  const end = opts.limit ? Math.min(problems.length, offset + opts.limit) : problems.length;

  const summaryFile = summaryPath(opts.out);
  let summary: GroupsBuildSummary = {
    ...freshSummary(opts, task.name, kinds, minNegatives),
    positives: {
      source: opts.positives.kind,
      file_sha256: opts.positives.kind === 'file' ? opts.positives.sha256 : null,
      planner: opts.positives.kind === 'planner' ? opts.positives.identity : null,
      lift_check: opts.liftCheck
        ? { executor: opts.liftCheck.info.executor, k: opts.liftCheck.info.k, baseline_samples: opts.liftCheck.info.baselineSamples }
        : null,
    },
  };
  if (fs.existsSync(opts.out) && fs.statSync(opts.out).size > 0) {
    if (!fs.existsSync(summaryFile))
      throw new Error(`${opts.out} exists without ${path.basename(summaryFile)}: not a build to resume; choose another --out.`);
    const previous = GroupsBuildSummarySchema.parse(JSON.parse(fs.readFileSync(summaryFile, 'utf8')));
    const differs = sameSettings(previous, summary);
    if (differs) throw new Error(`${opts.out} was built with another ${differs}; resume with the same settings or choose another --out.`);
    summary = { ...previous, status: 'running', message: null };
    dropCutTail(opts.out);
  }
  const done = await writtenIds(opts.out);
  for (const d of summary.dropped_problems) done.add(d.problem_id);

  const writer = GroupsFileWriter.open(opts.out);
  writeSummary(summaryFile, summary);
  try {
    for (let i = offset; i < end; i++) {
      if (opts.signal?.aborted) {
        summary.status = 'cancelled';
        break;
      }
      const problem = problems[i]!;
      if (done.has(problem.id)) continue;
      const tally: Tally = { candidates_dropped: {}, judge_failures: {} };
      const { record, dropReason } = await buildOneCode(i, problem, kinds, minNegatives, opts, tally);
      if (record && opts.measure) await measureInto(record, opts.measure);
      // Calls cut by the cancel make failed candidates: such a problem is not written.
      if (opts.signal?.aborted) {
        summary.status = 'cancelled';
        break;
      }
      summary.problems_seen++;
      for (const [kind, reasons] of Object.entries(tally.candidates_dropped)) {
        for (const [reason, n] of Object.entries(reasons)) bump((summary.candidates_dropped[kind] ??= {}), reason, n);
      }
      for (const [reason, n] of Object.entries(tally.judge_failures)) bump(summary.judge_failures, reason, n);
      if (record) {
        if (summary.measured) addRecordMeasured(summary.measured, record);
        writer.append(record);
        summary.groups_written++;
        for (const n of record.negative_bank) bump(summary.negative_kind_counts, n.negative_kind);
        for (const c of [...record.positive_pool, ...record.negative_bank]) bump(summary.rubric_sources, String(c.rubric_source));
      } else {
        summary.groups_dropped++;
        bump(summary.drop_reasons, dropReason!);
        summary.dropped_problems.push({ problem_id: problem.id, reason: dropReason! });
      }
      writeSummary(summaryFile, summary);
      opts.onProgress?.({
        done: i - offset + 1,
        total: end - offset,
        problemId: problem.id,
        written: record !== null,
        negatives: record?.negative_bank.length ?? 0,
        dropReason,
      });
    }
    if (summary.status === 'running') summary.status = 'completed';
  } catch (err) {
    summary.status = 'failed';
    summary.message = err instanceof Error ? err.message : String(err);
    throw err;
  } finally {
    writer.close();
    writeSummary(summaryFile, summary);
    log(`groups: ${summary.groups_written} written, ${summary.groups_dropped} dropped (${summary.status}) → ${opts.out}`);
  }
  return summary;
}

async function positiveOf(
  problem: CodeProblem,
  source: PositiveSource,
): Promise<{ text: string } | { drop: keyof typeof CODE_DROP_REASONS }> {
  let raw: string | null;
  if (source.kind === 'file') {
    raw = source.traces.get(problem.id)?.[0] ?? null;
    if (raw === null) return { drop: 'no_positive' };
  } else {
    raw = await source.write(problem);
    if (raw === null) return { drop: 'positive_call_failed' };
  }
  const text = cleanCodeReasoning(raw, problem.reference_solution);
  return text ? { text } : { drop: 'empty_positive_reasoning' };
}

async function buildOneCode(
  row: number,
  problem: CodeProblem,
  kinds: readonly CodeNegativeKind[],
  minNegatives: number,
  opts: BuildCodeGroupsOptions,
  tally: Tally,
): Promise<{ record: GroupRecordInput | null; dropReason: string | null }> {
  const positive = await positiveOf(problem, opts.positives);
  if ('drop' in positive) return { record: null, dropReason: positive.drop };
  let positiveUplift: number | null = null;
  if (opts.liftCheck) {
    positiveUplift = await opts.liftCheck.uplift(problem, positive.text);
    if (positiveUplift === null || positiveUplift <= 0) return { record: null, dropReason: 'positive_no_lift' };
  }

  const dropCandidate = (kind: string, reason: string) => bump((tally.candidates_dropped[kind] ??= {}), reason);
  const seen = new Set<string>([positive.text]);
  const kept: Array<{ kind: CodeNegativeKind; reasoning: string; detail: Record<string, string> }> = [];
  for (const kind of kinds) {
    if (!opts.perturber) {
      dropCandidate(kind, 'no_perturber');
      continue;
    }
    const res = await opts.perturber.perturb(kind, {
      taskKind: 'code',
      problemId: problem.id,
      problem: problem.problem,
      positive: positive.text,
      gold: null,
      seed: opts.seed,
    });
    if (!res.ok) dropCandidate(kind, res.reason);
    else if (seen.has(res.reasoning)) dropCandidate(kind, 'duplicate');
    else {
      seen.add(res.reasoning);
      kept.push({ kind, reasoning: res.reasoning, detail: res.detail });
    }
  }
  if (kept.length < minNegatives) return { record: null, dropReason: 'not_enough_negatives' };

  const negative_bank = [];
  for (const [index, c] of kept.entries()) {
    const rubric = await rubricFor(c.kind, problem.problem, c.reasoning, opts.judge, tally);
    negative_bank.push({
      reasoning: c.reasoning,
      negative_kind: c.kind,
      negative_index: index,
      label: 'negative',
      ...rubric,
      raw_reason_length: c.reasoning.length,
      clean_reason_length: c.reasoning.length,
      metadata: { generator: 'llm', seed: opts.seed, perturbation: c.detail },
    });
  }
  const positiveRubricOf = opts.judge ? await rubricFor(null, problem.problem, positive.text, opts.judge, tally) : positiveRubric('code');
  const record: GroupRecordInput = {
    problem_id: problem.id,
    source: problem.task,
    task_type: 'code',
    problem: problem.problem,
    reference_solution: problem.reference_solution,
    positive_pool: [
      {
        reasoning: positive.text,
        label: 'positive',
        ...positiveRubricOf,
        clean_reason_length: positive.text.length,
        ...(positiveUplift !== null ? { lift_check_uplift: positiveUplift } : {}),
      },
    ],
    negative_bank,
    tests: problem.tests,
    entry_point: problem.entry_point,
    starter_code: problem.starter_code,
    metadata: {
      source_dataset: problem.task,
      source_split: opts.split,
      source_row_index: row,
      task_type: 'code',
      positive_source: opts.positives.kind,
      negative_count: negative_bank.length,
      code_dimension_names: [...RUBRIC_DIMENSIONS.code],
      builder_version: GROUPS_BUILDER_VERSION,
      seed: opts.seed,
    },
  };
  return { record, dropReason: null };
}

/** A negative's rubric (kind given) or the positive's (kind null: judge only; the prior is the all-4 positive rubric). */
async function rubricFor(
  kind: CodeNegativeKind | null,
  problem: string,
  reasoning: string,
  judge: RubricJudge | null,
  tally: Tally,
): Promise<CandidateRubric> {
  const prior = () => (kind ? priorRubric('code', kind) : positiveRubric('code'));
  if (!judge) return prior();
  const judged = await judge.judge('code', problem, reasoning);
  if ('error' in judged) {
    bump(tally.judge_failures, judged.error);
    return prior();
  }
  return judged;
}
