/**
 * `tracelift groups build` for GSM8K: one TraceLift-Groups record per
 * problem (docs/groups.md). The positive is the dataset's worked solution
 * cleaned as the official builder does; the negatives are the six paper
 * kinds, four programmatic (mathPerturb.ts) and two by an LLM
 * (llmPerturb.ts); each candidate gets a rubric (judge or prior) and, with
 * `--measure`, its measured uplift.
 *
 * The file is appended one validated record per write, in problem order,
 * and `<out>.summary.json` is rewritten atomically after every problem, so a
 * crash leaves a readable file and the same command resumes it (problems
 * already written or dropped are skipped). Without an LLM, judge or
 * measurement, the same seed and inputs give the same bytes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import {
  GroupsBuildSummarySchema,
  MATH_NEGATIVE_KINDS,
  RUBRIC_DIMENSIONS,
  type GroupsBuildSummary,
  type MathNegativeKind,
  type MeasuredKindStats,
  type MeasuredUplift,
} from '../../contract';
import { gsm8kFinalAnswer } from '../../tasks/math/gsm8k';
import { requireTaskFile } from '../../tasks/dataDir';
import { getTask } from '../../tasks/registry';
import { parseJsonl, readTextFile, validateLines } from '../../util/jsonl';
import { GroupsFileWriter, streamGroupRecords, type GroupRecordInput } from '../io';
import { cleanGsm8kReasoning } from './clean';
import type { LlmPerturber } from './llmPerturb';
import { perturbMath, PROGRAMMATIC_MATH_KINDS, type ProgrammaticMathKind } from './mathPerturb';
import type { GroupMeasurer } from './measure';
import { PERTURB_PROMPTS } from './prompts';
import { positiveRubric, priorRubric, type CandidateRubric, type RubricJudge } from './rubric';

/** Bumped when the builder's output for the same inputs changes. */
export const GROUPS_BUILDER_VERSION = 'tracelift-groups-builder/1';

export const MATH_KIND_ORDER = Object.keys(MATH_NEGATIVE_KINDS) as MathNegativeKind[];

/** The official builder's minimum (`mathgroups.py --min_negatives 4`). */
export const DEFAULT_MIN_NEGATIVES = 4;

export interface BuildProgress {
  done: number;
  total: number;
  problemId: string;
  written: boolean;
  negatives: number;
  dropReason: string | null;
}

export interface BuildGroupsOptions {
  split: string;
  dataDir: string;
  offset?: number;
  limit?: number | null;
  out: string;
  seed: number;
  kinds?: readonly MathNegativeKind[];
  minNegatives?: number;
  /** Writes missing_condition and mismatched_units; null drops them ("no_perturber"). */
  perturber: LlmPerturber | null;
  /** Scores every negative's rubric; null: the per-kind prior. */
  judge: RubricJudge | null;
  /** Scores every trace's uplift (`--measure`); null: not measured. */
  measure: GroupMeasurer | null;
  signal?: AbortSignal;
  log?: (line: string) => void;
  onProgress?: (p: BuildProgress) => void;
}

const Gsm8kRowSchema = z.object({ question: z.string(), answer: z.string() });

export function summaryPath(out: string): string {
  return `${out}.summary.json`;
}

/** The official problem id for the train split (`math_gsm8k_<6-digit row>`); other splits name theirs. */
export function gsm8kGroupId(split: string, row: number): string {
  const n = String(row).padStart(6, '0');
  return split === 'train' ? `math_gsm8k_${n}` : `math_gsm8k_${split}_${n}`;
}

const isProgrammatic = (kind: MathNegativeKind): kind is ProgrammaticMathKind =>
  (PROGRAMMATIC_MATH_KINDS as readonly string[]).includes(kind);

export function emptyStats(): MeasuredKindStats {
  return { traces: 0, uplift_sum: 0, mean_uplift: null, compared: 0, at_least_positive: 0, at_least_positive_rate: null };
}

export const bump = (counts: Record<string, number>, key: string, by = 1) => (counts[key] = (counts[key] ?? 0) + by);

/** The summary of a build that has not seen a problem yet. */
export function freshSummary(
  opts: Pick<BuildGroupsOptions, 'split' | 'seed' | 'perturber' | 'judge' | 'measure'>,
  task: string,
  kinds: readonly string[],
  minNegatives: number,
): GroupsBuildSummary {
  return {
    builder_version: GROUPS_BUILDER_VERSION,
    status: 'running',
    message: null,
    task,
    split: opts.split,
    seed: opts.seed,
    kinds: [...kinds],
    min_negatives: minNegatives,
    perturber: opts.perturber
      ? { model: opts.perturber.identity, prompt_version: opts.perturber.prompts.version, max_tokens: opts.perturber.maxTokens }
      : null,
    judge: opts.judge ? { model: opts.judge.identity, prompt_version: PERTURB_PROMPTS.version } : null,
    measure: opts.measure
      ? {
          executor: opts.measure.info.executor,
          k: opts.measure.info.k,
          baseline_samples: opts.measure.info.baselineSamples,
          prompt_version: opts.measure.info.promptVersion,
        }
      : null,
    problems_seen: 0,
    groups_written: 0,
    groups_dropped: 0,
    drop_reasons: {},
    negative_kind_counts: {},
    candidates_dropped: {},
    rubric_sources: {},
    judge_failures: {},
    measured: opts.measure ? { positive: emptyStats(), per_kind: {} } : null,
    dropped_problems: [],
  };
}

/** Settings that must match for a build to resume an existing file. */
export function sameSettings(a: GroupsBuildSummary, b: GroupsBuildSummary): string | null {
  const keys = [
    'builder_version',
    'task',
    'split',
    'seed',
    'kinds',
    'min_negatives',
    'perturber',
    'judge',
    'measure',
    'positives',
  ] as const;
  for (const key of keys) if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return key;
  return null;
}

export function writeSummary(file: string, summary: GroupsBuildSummary): void {
  const text = `${JSON.stringify(GroupsBuildSummarySchema.parse(summary), null, 2)}\n`;
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** Drops a last line a crash cut (no newline), so appending starts on a whole line. */
export function dropCutTail(file: string): void {
  if (!fs.existsSync(file)) return;
  const data = fs.readFileSync(file);
  if (data.length === 0 || data[data.length - 1] === 0x0a) return;
  fs.truncateSync(file, data.lastIndexOf(0x0a) + 1);
}

export async function writtenIds(file: string): Promise<Set<string>> {
  const ids = new Set<string>();
  if (!fs.existsSync(file)) return ids;
  for await (const { record } of streamGroupRecords(file)) ids.add(record.problem_id);
  return ids;
}

/** Adds a measured uplift to a kind's running figures. */
function addMeasured(stats: MeasuredKindStats, m: MeasuredUplift, positive: number | null): void {
  if (m.uplift !== null) {
    stats.traces++;
    stats.uplift_sum += m.uplift;
    stats.mean_uplift = stats.uplift_sum / stats.traces;
  }
  if (m.uplift !== null && positive !== null) {
    stats.compared++;
    if (m.uplift >= positive) stats.at_least_positive++;
    stats.at_least_positive_rate = stats.at_least_positive / stats.compared;
  }
}

/** What one problem adds to the summary, merged only when the problem is committed. */
interface ProblemTally {
  candidates_dropped: Record<string, Record<string, number>>;
  judge_failures: Record<string, number>;
}

interface Candidate {
  kind: MathNegativeKind;
  reasoning: string;
  generator: 'programmatic' | 'llm';
  detail: Record<string, string | number>;
}

export async function buildGsm8kGroups(opts: BuildGroupsOptions): Promise<GroupsBuildSummary> {
  const log = opts.log ?? (() => {});
  const kinds = MATH_KIND_ORDER.filter((k) => (opts.kinds ?? MATH_KIND_ORDER).includes(k));
  const minNegatives = opts.minNegatives ?? DEFAULT_MIN_NEGATIVES;
  const file = requireTaskFile(getTask('gsm8k'), opts.dataDir, opts.split);
  const rows = validateLines(Gsm8kRowSchema, parseJsonl(readTextFile(file), file), file);
  const offset = opts.offset ?? 0;
  const end = opts.limit ? Math.min(rows.length, offset + opts.limit) : rows.length;

  const summaryFile = summaryPath(opts.out);
  let summary = freshSummary(opts, 'gsm8k', kinds, minNegatives);
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

  fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
  const writer = GroupsFileWriter.open(opts.out);
  writeSummary(summaryFile, summary);
  try {
    for (let row = offset; row < end; row++) {
      if (opts.signal?.aborted) {
        summary.status = 'cancelled';
        break;
      }
      const problemId = gsm8kGroupId(opts.split, row);
      if (done.has(problemId)) continue;
      const tally: ProblemTally = { candidates_dropped: {}, judge_failures: {} };
      const { record, dropReason } = await buildOne(row, rows[row]!, problemId, kinds, minNegatives, opts, tally);
      if (record && opts.measure) await measureInto(record, opts.measure);
      // Cancelled calls in flight make failed candidates and measurements: such a problem is not written.
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
        summary.dropped_problems.push({ problem_id: problemId, reason: dropReason! });
      }
      writeSummary(summaryFile, summary);
      opts.onProgress?.({
        done: row - offset + 1,
        total: end - offset,
        problemId,
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

async function buildOne(
  row: number,
  data: z.infer<typeof Gsm8kRowSchema>,
  problemId: string,
  kinds: readonly MathNegativeKind[],
  minNegatives: number,
  opts: BuildGroupsOptions,
  tally: ProblemTally,
): Promise<{ record: GroupRecordInput | null; dropReason: string | null }> {
  const positive = cleanGsm8kReasoning(data.answer);
  const gold = gsm8kFinalAnswer(data.answer);
  if (!positive) return { record: null, dropReason: 'empty_positive_reasoning' };
  if (!data.question.trim()) return { record: null, dropReason: 'empty_problem' };
  if (!gold) return { record: null, dropReason: 'empty_action_gt' };

  const dropCandidate = (kind: string, reason: string) => bump((tally.candidates_dropped[kind] ??= {}), reason);
  const candidates: Candidate[] = [];
  for (const kind of kinds) {
    if (isProgrammatic(kind)) {
      const res = perturbMath(kind, { problemId, problem: data.question, answer: data.answer, gold, seed: opts.seed });
      if (res.ok)
        candidates.push({ kind, reasoning: res.perturbation.reasoning, generator: 'programmatic', detail: res.perturbation.detail });
      else dropCandidate(kind, res.reason);
      continue;
    }
    if (!opts.perturber) {
      dropCandidate(kind, 'no_perturber');
      continue;
    }
    const res = await opts.perturber.perturb(kind, {
      taskKind: 'math',
      problemId,
      problem: data.question,
      positive,
      gold,
      seed: opts.seed,
    });
    if (res.ok) candidates.push({ kind, reasoning: res.reasoning, generator: 'llm', detail: res.detail });
    else dropCandidate(kind, res.reason);
  }

  // The official builder keeps one copy of identical negatives.
  const seen = new Set<string>([positive]);
  const kept = candidates.filter((c) => {
    if (seen.has(c.reasoning)) {
      dropCandidate(c.kind, 'duplicate');
      return false;
    }
    seen.add(c.reasoning);
    return true;
  });
  if (kept.length < minNegatives) return { record: null, dropReason: 'not_enough_negatives' };

  const negative_bank = [];
  for (const [index, c] of kept.entries()) {
    const rubric = await rubricFor(c, data.question, opts.judge, tally);
    negative_bank.push({
      reasoning: c.reasoning,
      negative_kind: c.kind,
      negative_index: index,
      label: 'negative',
      ...rubric,
      raw_reason_length: c.reasoning.length,
      clean_reason_length: c.reasoning.length,
      metadata: { generator: c.generator, seed: opts.seed, perturbation: c.detail },
    });
  }
  const record: GroupRecordInput = {
    problem_id: problemId,
    source: 'gsm8k',
    task_type: 'math',
    problem: data.question,
    reference_solution: gold,
    positive_pool: [
      {
        reasoning: positive,
        label: 'positive',
        ...positiveRubric('math'),
        raw_reason_length: data.answer.length,
        clean_reason_length: positive.length,
      },
    ],
    negative_bank,
    metadata: {
      source_dataset: 'gsm8k',
      source_split: opts.split,
      source_row_index: row,
      answer: gold,
      negative_count: negative_bank.length,
      math_dimension_names: [...RUBRIC_DIMENSIONS.math],
      builder_version: GROUPS_BUILDER_VERSION,
      seed: opts.seed,
    },
  };
  return { record, dropReason: null };
}

async function rubricFor(c: Candidate, problem: string, judge: RubricJudge | null, tally: ProblemTally): Promise<CandidateRubric> {
  if (!judge) return priorRubric('math', c.kind);
  const judged = await judge.judge('math', problem, c.reasoning);
  if ('error' in judged) {
    bump(tally.judge_failures, judged.error);
    return priorRubric('math', c.kind);
  }
  return judged;
}

export async function measureInto(record: GroupRecordInput, measurer: GroupMeasurer): Promise<void> {
  const { positives, negatives } = await measurer.measure(record);
  record.positive_pool.forEach((p, i) => Object.assign(p, { measured: positives[i]! }));
  record.negative_bank.forEach((n, i) => Object.assign(n, { measured: negatives[i]! }));
}

/** A written record's measured uplifts into the summary's per-kind figures. */
export function addRecordMeasured(stats: NonNullable<GroupsBuildSummary['measured']>, record: GroupRecordInput): void {
  const measuredOf = (c: object) => (c as { measured?: MeasuredUplift }).measured;
  const reference = measuredOf(record.positive_pool[0] ?? {})?.uplift ?? null;
  for (const p of record.positive_pool) {
    const m = measuredOf(p);
    if (m) addMeasured(stats.positive, m, null);
  }
  for (const n of record.negative_bank) {
    const m = measuredOf(n);
    if (m) addMeasured((stats.per_kind[n.negative_kind] ??= emptyStats()), m, reference);
  }
}
