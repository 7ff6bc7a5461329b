/**
 * Word-level diff segments of two traces (the `diff` package's
 * diffWordsWithSpace), and the pairs a TraceLift-Groups record is shown as:
 * the reference (positive_pool[0]) against each perturbed trace of its
 * negative_bank (and any further positives), labelled with negative_kind and
 * rubric scores. Segments are plain data; the webview turns them into DOM
 * text nodes. No `vscode` import.
 */
import { diffLines, diffWordsWithSpace, type ChangeObject } from 'diff';
import type { GroupRecord, Rubric } from '../../../engine/contract/groups';
import { expandGroup } from '../../../engine/groups';
import type { DiffPair, DiffSegment, DiffViewData, MeasuredTrace } from '../../../webviewProtocol';
import { beats, isNegativeMeta, isReferenceMeta, measuredFromMeta } from './measuredTrace';
import type { TraceText } from './types';

export interface SegmentsResult {
  segments: DiffSegment[];
  granularity: 'word' | 'line';
  stats: { equal: number; inserted: number; deleted: number };
}

/**
 * Word-level segments of left → right. A word diff that would take too long
 * (very long, very different texts) falls back to a line diff.
 */
export function diffSegments(left: string, right: string, opts: { timeoutMs?: number } = {}): SegmentsResult {
  let granularity: 'word' | 'line' = 'word';
  let changes: ChangeObject<string>[] | undefined = diffWordsWithSpace(left, right, { timeout: opts.timeoutMs ?? 1500 });
  if (!changes) {
    granularity = 'line';
    changes = diffLines(left, right);
  }
  const segments: DiffSegment[] = [];
  const stats = { equal: 0, inserted: 0, deleted: 0 };
  for (const c of changes) {
    if (!c.value) continue;
    const op = c.added ? 'ins' : c.removed ? 'del' : 'eq';
    const last = segments[segments.length - 1];
    if (last && last.op === op) last.text += c.value;
    else segments.push({ op, text: c.value });
    if (op === 'ins') stats.inserted += c.value.length;
    else if (op === 'del') stats.deleted += c.value.length;
    else stats.equal += c.value.length;
  }
  return { segments, granularity, stats };
}

/** The two texts back from segments (eq+del = left, eq+ins = right). */
export function sidesOf(segments: DiffSegment[]): { left: string; right: string } {
  let left = '';
  let right = '';
  for (const s of segments) {
    if (s.op !== 'ins') left += s.text;
    if (s.op !== 'del') right += s.text;
  }
  return { left, right };
}

/** The numeric rubric dimensions (the total is carried apart). */
function rubricDims(rubric: Rubric | null): Array<{ name: string; value: number }> {
  return Object.entries(rubric ?? {}).flatMap(([name, value]) => (name !== 'total' && typeof value === 'number' ? [{ name, value }] : []));
}

export function pairOf(
  left: TraceText,
  right: TraceText,
  extra: Partial<Pick<DiffPair, 'kind' | 'rubric' | 'rubricTotal'>> & {
    measured?: { left: MeasuredTrace | null; right: MeasuredTrace | null };
    reference?: 'left' | 'right' | null;
    rightIsNegative?: boolean;
  } = {},
): DiffPair {
  const d = diffSegments(left.text, right.text);
  const measured = extra.measured ?? { left: null, right: null };
  const reference = extra.reference ?? null;
  const perturbedIsNegative = extra.rightIsNegative ?? (reference === 'left' ? isNegativeMeta(right.title, right.meta) : false);
  return {
    left: { title: left.title, meta: left.meta ?? {}, measured: measured.left },
    right: { title: right.title, meta: right.meta ?? {}, measured: measured.right },
    kind: extra.kind ?? null,
    rubric: extra.rubric ?? [],
    rubricTotal: extra.rubricTotal ?? null,
    granularity: d.granularity,
    segments: d.segments,
    stats: d.stats,
    reference,
    negativeBeatsReference:
      reference === 'left'
        ? perturbedIsNegative && beats(measured.right, measured.left)
        : reference === 'right'
          ? isNegativeMeta(left.title, left.meta) && beats(measured.left, measured.right)
          : false,
  };
}

/**
 * Two traces given as they are (from a run's samples, a traces file…): their
 * facts say what was measured (uplift, reward, k/K, baseline) and which one
 * is the reference.
 */
export function pairOfTexts(left: TraceText, right: TraceText): DiffPair {
  const l = isReferenceMeta(left.title, left.meta);
  const r = isReferenceMeta(right.title, right.meta);
  return pairOf(left, right, {
    measured: { left: measuredFromMeta(left.meta, 'left run'), right: measuredFromMeta(right.meta, 'right run') },
    reference: l && !r ? 'left' : r && !l ? 'right' : null,
  });
}

/** The pairs of a TraceLift-Groups record, with the texts each pair compares: the reference against each negative, then each further positive. */
export function groupRecordPairs(
  record: GroupRecord,
  where: string,
  /** Measured uplift by sample id (`<problem_id>#pos0`, `#neg1`…), from the runs that measured this file. */
  measured: ReadonlyMap<string, MeasuredTrace> = new Map(),
): { view: DiffViewData; texts: Array<{ left: TraceText; right: TraceText }> } {
  const traces = expandGroup(record);
  const ref = traces.find((t) => t.isReference);
  const texts: Array<{ left: TraceText; right: TraceText }> = [];
  const pairs: DiffPair[] = [];
  if (ref) {
    const left: TraceText = {
      title: `${record.problem_id} · reference (positive_pool[0])`,
      text: ref.text,
      meta: { rubric_total: ref.rubricTotal },
    };
    const others = [...traces.filter((t) => t.role === 'negative'), ...traces.filter((t) => t.role === 'positive' && !t.isReference)];
    for (const t of others) {
      const right: TraceText =
        t.negativeKind === null
          ? { title: `${record.problem_id} · positive_pool[${t.index}]`, text: t.text, meta: {} }
          : {
              title: `${record.problem_id} · negative_bank[${t.index}] (${t.negativeKind})`,
              text: t.text,
              meta: { negative_kind: t.negativeKind },
            };
      texts.push({ left, right });
      pairs.push(
        pairOf(left, right, {
          kind: t.negativeKind ?? 'positive',
          rubric: rubricDims(t.rubric),
          rubricTotal: t.rubricTotal,
          measured: { left: measured.get(ref.id) ?? null, right: measured.get(t.id) ?? null },
          reference: 'left',
          rightIsNegative: t.role === 'negative',
        }),
      );
    }
  }
  return {
    view: {
      title: `${record.problem_id}: reference vs perturbed traces`,
      subtitle: `${where} · ${record.source} · ${record.task_type} · ${record.negative_bank.length} negative(s), ${record.positive_pool.length} positive(s)${ref ? '' : ' · no positive_pool[0] to use as reference'}`,
      problem: record.problem,
      pairs,
    },
    texts,
  };
}
