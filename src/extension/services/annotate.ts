/**
 * Per-line annotations of TraceLift JSONL files — groups files, run
 * samples.jsonl / events.jsonl and verifier results — computed from the line
 * text alone: an end-of-line summary (uplift, reward, negative kind, rubric
 * total), a hover breakdown, CodeLens actions and, for a malformed line, an
 * issue naming the field. No `vscode` import (test/unit/extensionAnnotate.test.ts);
 * annotationProvider.ts renders these in the editor.
 *
 * Every string here may come from an untrusted file: decoration texts and
 * lens summaries go through `safeLine` (hidden characters shown, bidi
 * isolated, capped), every hover cell through `safeLine` then
 * `escapeMarkdown`, and a line holding hidden characters is flagged.
 */
import {
  GroupRecordSchema,
  RunEventSchema,
  TraceSampleRowSchema,
  type GroupRecord,
  type RolloutGroup,
  type TraceSampleRow,
} from '../../engine/contract';
import { expandGroup, groupTraceId, type GroupTrace } from '../../engine/groups';
import { describeZodError } from '../../engine/util/jsonl';
import { detectJsonl, VerifyResultSchema } from './detect';
import { pct, signed } from './runScan';
import { hasHiddenChars, safeLine } from '../../shared/safeText';

export type AnnotatedKind = 'groups' | 'samples' | 'events' | 'verifyResults';
const ANNOTATED: ReadonlySet<string> = new Set<AnnotatedKind>(['groups', 'samples', 'events', 'verifyResults']);

/** Run files are appended to while a run writes: their cut last line is expected. */
const RUN_KINDS: ReadonlySet<AnnotatedKind> = new Set<AnnotatedKind>(['samples', 'events']);

export interface HoverTable {
  title: string;
  rows: Array<[string, string]>;
  notes: string[];
}

export type LensAction =
  { kind: 'diffGroup'; line: number } | { kind: 'measureUplift'; line: number } | { kind: 'inspect'; problemId: string; sampleId: string };

export type Tone = 'good' | 'bad' | 'neutral' | 'warn' | 'muted';

export interface LineAnnotation {
  /** End-of-line text, or null for none. */
  text: string | null;
  /** The CodeLens summary after the actions (at most SUMMARY_CHARS), or null for none. */
  summary: string | null;
  tone: Tone;
  hover: HoverTable | null;
  lenses: LensAction[];
  issue: { message: string; severity: 'warning' | 'info' } | null;
}

/** Uplift / reward measured for a trace (by sample id) in some earlier run. */
export interface Measured {
  uplift: number | null;
  reward: number | null;
  run: string;
}

export interface AnnotateContext {
  kind: AnnotatedKind;
  /** 0-based line number of this line. */
  line: number;
  /** This is the file's last line and it has no newline yet. */
  unterminatedTail: boolean;
  /** Measured results for a groups record's traces, by sample id (`<problem_id>#pos0`, `#neg1`…). */
  measured?: (problemId: string) => ReadonlyMap<string, Measured> | undefined;
  /** A Reason RM's scores of a groups record's traces, by trace id (`tracelift rm score-groups`). */
  rmScored?: (problemId: string) => ReadonlyMap<string, { score: number; gold: number | null; rm: string }> | undefined;
}

/**
 * Which annotations a file gets, from its head (the first lines are enough to
 * classify it) — null for files that are not groups, samples, events or
 * verifier results.
 */
export function annotationKindFor(headText: string): AnnotatedKind | null {
  // Only complete lines of the head: a cut line is not evidence.
  const end = headText.lastIndexOf('\n');
  const d = detectJsonl(end >= 0 ? headText.slice(0, end + 1) : headText, { maxIssues: 0, capped: true });
  return ANNOTATED.has(d.kind) ? (d.kind as AnnotatedKind) : null;
}

/** Longest CodeLens summary: the actions come first, the summary after them stays short. */
export const SUMMARY_CHARS = 60;
/** Longest end-of-line decoration text. */
const DECORATION_CHARS = 180;
/** Longest hover cell. */
const CELL_CHARS = 300;
/** Shown where a line's untrusted text holds invisible or reordering characters. */
export const HIDDEN_MARK = '⚠ hidden chars';
const HIDDEN_NOTE =
  'This line holds invisible or reordering characters (zero-width, bidi controls, control characters): they are shown as ⟨U+…⟩.';

/** True when any of the texts holds an invisible or reordering character. */
function anyHidden(...texts: Array<string | null | undefined>): boolean {
  return texts.some((t) => typeof t === 'string' && hasHiddenChars(t));
}

/** Escapes text for markdown: no link, image, HTML, heading or table syntax survives. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\r\n\u2028\u2029]+/g, ' ').replace(/[\\`*_{}[\]()#+\-.!|<>~&:="']/g, (c) => `\\${c}`);
}

/** One cell of a hover: safe (hidden characters shown, bidi isolated, capped), then escaped. */
function cell(text: string, max = CELL_CHARS): string {
  // Escaping already keeps `$(` and `](` inert in markdown: drop safeLine's zero-width marks there (any from the data are shown as ⟨U+200B⟩ by now).
  return escapeMarkdown(safeLine(text, max).replace(/([$\]])\u200B\(/g, '$1('));
}

/** The hover as markdown: every cell made safe and escaped — title, a two-column table, notes. */
export function renderHoverMarkdown(h: HoverTable): string {
  const out = [`**${cell(h.title, 120)}**`, ''];
  if (h.rows.length) {
    out.push('| | |', '|---|---|');
    for (const [k, v] of h.rows) out.push(`| ${cell(k, 80)} | ${cell(v)} |`);
    out.push('');
  }
  for (const n of h.notes.slice(0, 20)) out.push(`- ${cell(n)}`);
  return out.join('\n');
}

const fx = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? 'n/a' : x.toFixed(d));

function toneOf(uplift: number | null | undefined): Tone {
  if (uplift === null || uplift === undefined) return 'neutral';
  return uplift > 0 ? 'good' : uplift < 0 ? 'bad' : 'neutral';
}

/** Parts of a decoration text (each already safe) joined and capped. */
function capText(parts: string[], max = DECORATION_CHARS): string {
  const t = parts.filter(Boolean).join(' · ');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

function rubricBreakdown(rubric: Record<string, unknown> | undefined): string {
  if (!rubric) return 'no rubric';
  const dims = Object.entries(rubric)
    .filter(([k, v]) => k !== 'total' && typeof v === 'number')
    .map(([k, v]) => `${k} ${v as number}`);
  const total = typeof rubric.total === 'number' ? `total ${rubric.total.toFixed(2)}` : 'no total';
  return [total, ...dims].join(', ');
}

function annotateGroup(g: GroupRecord, ctx: AnnotateContext): LineAnnotation {
  const measured = ctx.measured?.(g.problem_id);
  const traces = expandGroup(g);
  const pos = traces.filter((t) => t.role === 'positive');
  const neg = traces.filter((t) => t.role === 'negative');
  const kinds = [...new Set(neg.map((n) => safeLine(n.negativeKind!, 28)))];
  const rubric = (t: GroupTrace) => (t.rubricTotal === null ? '–' : t.rubricTotal.toFixed(2));
  const parts = [
    `${pos.length} pos · ${neg.length} neg${kinds.length ? ` (${kinds.slice(0, 3).join(', ')}${kinds.length > 3 ? ', …' : ''})` : ''}`,
    `rubric ${pos.map(rubric).join(' ') || '–'} | ${neg.map(rubric).join(' ') || '–'}`,
  ];
  let tone: Tone = 'muted';
  let summary = `${pos.length} pos · ${neg.length} neg · not measured`;
  if (measured?.size) {
    const upl = (t: GroupTrace) => signed(measured.get(t.id)?.uplift ?? null, 2);
    parts.push(`uplift ${pos.map(upl).join(' ')} | ${neg.map(upl).join(' ')}`);
    const ref = measured.get(groupTraceId(g.problem_id, 'positive', 0))?.uplift ?? null;
    const negUps = neg.map((t) => measured.get(t.id)?.uplift).filter((u): u is number => typeof u === 'number');
    const bestNeg = negUps.length ? Math.max(...negUps) : null;
    summary = `ref ${signed(ref, 2)} · best neg ${signed(bestNeg, 2)}${ref !== null && bestNeg !== null && bestNeg > ref ? ' · ⚠ neg beats ref' : ''}`;
    tone = toneOf(ref);
  }
  const rmScores = ctx.rmScored?.(g.problem_id);
  if (rmScores?.size) {
    // Predicted (RM) vs gold rubric total, per trace: "RM 0.62/0.75 | 0.40/0.35 …".
    const pg = (t: GroupTrace) => {
      const s = rmScores.get(t.id);
      return s ? `${s.score.toFixed(2)}/${t.rubricTotal === null ? '–' : t.rubricTotal.toFixed(2)}` : '–';
    };
    parts.push(`RM/gold ${pos.map(pg).join(' ')} | ${neg.map(pg).join(' ')}`);
    const refScore = rmScores.get(groupTraceId(g.problem_id, 'positive', 0))?.score;
    const negScores = neg.map((t) => rmScores.get(t.id)?.score).filter((s): s is number => typeof s === 'number');
    if (refScore !== undefined && negScores.length === neg.length && neg.length) {
      const above = negScores.filter((s) => s >= refScore).length;
      summary += above ? ` · RM: ${above} neg ≥ ref` : ' · RM ranks ref first';
    }
  }
  const hidden =
    anyHidden(g.problem_id, g.problem, g.source, g.task_type, g.reference_solution) ||
    traces.some((t) => anyHidden(t.text, t.negativeKind, ...Object.keys(t.rubric ?? {})));
  const rows: Array<[string, string]> = [
    ['problem', g.problem_id],
    ['source', `${g.source} (${g.task_type})`],
    ['reference solution', g.reference_solution ?? 'none'],
  ];
  for (const t of traces) {
    const m = measured?.get(t.id);
    const meas = m ? ` — uplift ${signed(m.uplift)}, reward ${fx(m.reward, 3)} (run ${m.run})` : '';
    const r = rmScores?.get(t.id);
    const rmText = r ? ` — RM ${r.score.toFixed(3)} vs gold ${fx(t.rubricTotal, 2)}` : '';
    const name = t.negativeKind === null ? `${t.role} ${t.index}` : `${t.role} ${t.index}: ${t.negativeKind}`;
    rows.push([name, `${rubricBreakdown(t.rubric ?? undefined)}${meas}${rmText}`]);
  }
  return {
    text: capText(hidden ? [HIDDEN_MARK, ...parts] : parts),
    summary: capText(hidden ? [HIDDEN_MARK, summary] : [summary], SUMMARY_CHARS),
    tone,
    hover: {
      title: `Group ${g.problem_id}`,
      rows,
      notes: [
        ...(hidden ? [HIDDEN_NOTE] : []),
        ...(measured?.size ? [] : ['Uplift not measured yet: use "Measure uplift" to score these traces against the executor.']),
      ],
    },
    lenses: [
      { kind: 'diffGroup', line: ctx.line },
      { kind: 'measureUplift', line: ctx.line },
    ],
    issue: null,
  };
}

function sampleHoverRows(s: Omit<TraceSampleRow, 'task' | 'problem_id' | 'step'>, k: string, base: string): Array<[string, string]> {
  const rows: Array<[string, string]> = [
    ['sample', s.sample_id],
    ['source', s.label ? `${s.source} (${s.label})` : s.source],
    ['with trace', k],
    ['no-trace baseline', base],
    ['uplift', signed(s.uplift)],
    ['e2e', fx(s.e2e, 3)],
  ];
  if (s.reward) {
    rows.push(['reward', `${s.reward.value.toFixed(3)} (${s.reward.mode})`], ['formula', s.reward.formula]);
    for (const [name, v] of Object.entries(s.reward.components)) rows.push([`  ${name}`, String(Number(v.toFixed(4)))]);
  } else rows.push(['reward', 'n/a']);
  if (s.rubric_total !== null) rows.push(['rubric total', s.rubric_total.toFixed(2)]);
  if (s.rm_score !== null) rows.push(['RM score', s.rm_score.toFixed(3)]);
  if (s.judge_score !== null) rows.push(['judge score', s.judge_score.toFixed(3)]);
  return rows;
}

function annotateSample(s: TraceSampleRow): LineAnnotation {
  const k = `${s.with_trace_successes}/${s.with_trace_valid}`;
  const base = `${pct(s.baseline_rate)} of ${s.baseline_valid}`;
  const parts = [
    `uplift ${signed(s.uplift)}`,
    `reward ${s.reward ? s.reward.value.toFixed(3) : 'n/a'}`,
    `${k} vs base ${base}`,
    s.label ? safeLine(s.label, 28) : safeLine(s.source, 20),
    s.rubric_total !== null ? `rubric ${s.rubric_total.toFixed(2)}` : '',
    s.failed_calls ? `⚠ ${s.failed_calls} failed call${s.failed_calls > 1 ? 's' : ''}` : '',
    s.errors.length ? `⚠ ${s.errors.length} error${s.errors.length > 1 ? 's' : ''}` : '',
  ];
  const rows: Array<[string, string]> = [['problem', `${s.problem_id} (${s.task}${s.step !== null ? `, step ${s.step}` : ''})`]];
  rows.push(...sampleHoverRows(s, `${k} (${pct(s.with_trace_rate)})`, base));
  if (s.failed_calls) rows.push(['failed calls', String(s.failed_calls)]);
  const hidden = anyHidden(s.trace, s.sample_id, s.problem_id, s.label, s.source, s.task);
  return {
    text: capText(hidden ? [HIDDEN_MARK, ...parts] : parts),
    summary: capText([hidden ? HIDDEN_MARK : '', ...parts.slice(0, 3)], SUMMARY_CHARS),
    tone: s.errors.length || s.failed_calls ? (s.uplift === null ? 'warn' : toneOf(s.uplift)) : toneOf(s.uplift),
    hover: { title: `Sample ${s.sample_id}`, rows, notes: [...(hidden ? [HIDDEN_NOTE] : []), ...s.errors] },
    lenses: [{ kind: 'inspect', problemId: s.problem_id, sampleId: s.sample_id }],
    issue: null,
  };
}

function annotateGroupEvent(g: RolloutGroup): LineAnnotation {
  const ups = g.samples.map((s) => s.uplift).filter((u): u is number => u !== null);
  const b = g.baseline.tally;
  const parts = [
    `group ${g.group_index}${g.step !== null ? ` (step ${g.step})` : ''}`,
    safeLine(g.problem_id, 32),
    `${g.samples.length} trace${g.samples.length === 1 ? '' : 's'}`,
    `base ${b.successes}/${b.valid}${g.baseline.from_cache ? ' (cached)' : ''}`,
    ups.length ? `uplift ${signed(Math.max(...ups))}…${signed(Math.min(...ups))}` : 'uplift n/a',
  ];
  const rows: Array<[string, string]> = [
    ['problem', `${g.problem_id} (${g.task})`],
    ['reference', g.reference ?? 'n/a'],
    [
      'baseline',
      `${b.successes}/${b.valid} = ${pct(b.rate)}${b.failed ? `, ${b.failed} failed` : ''}${g.baseline.from_cache ? ', from cache' : ''}`,
    ],
  ];
  for (const s of g.samples) {
    rows.push([
      `${s.sample_id}${s.label ? ` (${s.label})` : ''}`,
      `${s.with_trace.tally.successes}/${s.with_trace.tally.valid}, uplift ${signed(s.uplift)}, reward ${s.reward ? s.reward.value.toFixed(3) : 'n/a'}`,
    ]);
  }
  const first = g.samples[0];
  const hidden = anyHidden(g.problem_id, g.task, g.reference) || g.samples.some((s) => anyHidden(s.trace, s.sample_id, s.label));
  return {
    text: capText(hidden ? [HIDDEN_MARK, ...parts] : parts),
    summary: capText([hidden ? HIDDEN_MARK : '', parts[4]!, parts[3]!], SUMMARY_CHARS),
    tone: ups.length ? toneOf(Math.max(...ups)) : 'neutral',
    hover: {
      title: `Rollout group ${g.problem_id}`,
      rows,
      notes: [...(hidden ? [HIDDEN_NOTE] : []), ...g.samples.flatMap((s) => s.errors)],
    },
    lenses: first ? [{ kind: 'inspect', problemId: g.problem_id, sampleId: first.sample_id }] : [],
    issue: null,
  };
}

function annotateEvent(value: unknown): LineAnnotation {
  const parsed = RunEventSchema.safeParse(value);
  if (!parsed.success) return malformed(describeZodError(parsed.error));
  const e = parsed.data;
  const simple = (text: string, tone: Tone, title: string, rows: Array<[string, string]> = []): LineAnnotation => ({
    text,
    summary: null,
    tone,
    hover: { title, rows: [['time', e.time], ...rows], notes: [] },
    lenses: [],
    issue: null,
  });
  switch (e.type) {
    case 'rollout_group':
      return annotateGroupEvent(e);
    case 'run_started':
      return simple(
        `run started · ${e.run_kind}${e.resumed ? ' (resumed)' : ''} · engine ${safeLine(e.engine_version, 12)}`,
        'muted',
        'Run started',
        [['run id', e.run_id]],
      );
    case 'run_ended':
      return simple(
        `run ${e.status}${e.message ? ` · ${safeLine(e.message, 60)}` : ''}`,
        e.status === 'completed' ? 'good' : 'bad',
        `Run ${e.status}`,
        [['message', e.message ?? '']],
      );
    case 'error':
      return simple(
        `⚠ ${e.fatal ? 'fatal ' : ''}error${e.where ? ` (${safeLine(e.where, 20)})` : ''}: ${safeLine(e.message, 80)}`,
        'bad',
        'Error',
        [
          ['where', e.where ?? ''],
          ['problem', e.problem_id ?? ''],
          ['message', e.message],
        ],
      );
    case 'step_metrics': {
      const m = Object.entries(e.metrics);
      return simple(
        `step ${e.step} · ${m
          .slice(0, 4)
          .map(([k, v]) => `${safeLine(k, 20)} ${Number(v.toFixed(4))}`)
          .join(' · ')}`,
        'muted',
        `Step ${e.step} metrics`,
        m.map(([k, v]) => [k, String(v)]),
      );
    }
    case 'checkpoint':
      return simple(`checkpoint · step ${e.step}`, 'muted', 'Checkpoint', [['path', e.path]]);
  }
}

function annotateVerify(value: unknown): LineAnnotation {
  const parsed = VerifyResultSchema.safeParse(value);
  if (!parsed.success) return malformed(describeZodError(parsed.error));
  const r = parsed.data;
  if ('correct' in r) {
    return {
      text: `${r.correct ? '✓ correct' : '✗ wrong'} · extracted ${safeLine(r.extracted ?? 'nothing', 30)}`,
      summary: null,
      tone: r.correct ? 'good' : 'bad',
      hover: {
        title: `Result ${r.id}`,
        rows: [
          ['correct', String(r.correct)],
          ['extracted', r.extracted ?? 'nothing'],
        ],
        notes: [],
      },
      lenses: [],
      issue: null,
    };
  }
  const tests = r.tests_total !== null && r.tests_total !== undefined ? ` ${r.tests_passed ?? 0}/${r.tests_total} tests` : '';
  return {
    text: `${r.passed ? '✓ passed' : '✗ failed'}${tests} · ${safeLine(r.status, 30)}`,
    summary: null,
    tone: r.passed ? 'good' : 'bad',
    hover: {
      title: `Result ${r.id}`,
      rows: [
        ['passed', String(r.passed)],
        ['status', r.status],
        ['tests', tests.trim() || 'n/a'],
      ],
      notes: [],
    },
    lenses: [],
    issue: null,
  };
}

function malformed(message: string): LineAnnotation {
  return {
    text: `⚠ ${safeLine(message, 120)}`,
    summary: null,
    tone: 'warn',
    hover: null,
    lenses: [],
    issue: { message, severity: 'warning' },
  };
}

/** A CodeLens to show: its title, command ('' for a plain-text lens) and arguments. */
export interface LensSpec {
  title: string;
  command: string;
  args: unknown[];
}

/**
 * The CodeLenses of an annotated line, actions first (so they stay within
 * reach in a normal-width editor, JSONL lines being long) and then the short
 * summary as plain text. `runDir` is null where the file is not on disk
 * (no sample to inspect).
 */
export function lensSpecs(a: LineAnnotation, at: { file: unknown; line: number; runDir: string | null }): LensSpec[] {
  const out: LensSpec[] = [];
  for (const l of a.lenses) {
    if (l.kind === 'diffGroup')
      out.push({ title: 'Diff vs reference', command: 'tracelift.diffGroupVsReference', args: [at.file, at.line] });
    else if (l.kind === 'measureUplift')
      out.push({ title: 'Measure uplift', command: 'tracelift.measureUplift', args: [at.file, at.line] });
    else if (at.runDir !== null)
      out.push({
        title: 'Inspect',
        command: 'tracelift.inspectSample',
        args: [{ runDir: at.runDir, problemId: l.problemId, sampleId: l.sampleId }],
      });
  }
  if (a.summary && out.length) out.push({ title: a.summary, command: '', args: [] });
  return out;
}

/** Annotation of one line, or null for a blank line. */
export function annotateLine(lineText: string, ctx: AnnotateContext): LineAnnotation | null {
  const raw = lineText.trim();
  if (!raw) return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    if (ctx.unterminatedTail && RUN_KINDS.has(ctx.kind)) {
      return {
        text: '… incomplete line (the run may still be writing it)',
        summary: null,
        tone: 'muted',
        hover: null,
        lenses: [],
        issue: null,
      };
    }
    return malformed(`invalid JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return malformed('expected a JSON object');
  switch (ctx.kind) {
    case 'groups': {
      const parsed = GroupRecordSchema.safeParse(value);
      return parsed.success ? annotateGroup(parsed.data, ctx) : malformed(describeZodError(parsed.error));
    }
    case 'samples': {
      const parsed = TraceSampleRowSchema.safeParse(value);
      return parsed.success ? annotateSample(parsed.data) : malformed(describeZodError(parsed.error));
    }
    case 'events':
      return annotateEvent(value);
    case 'verifyResults':
      return annotateVerify(value);
  }
}
