/**
 * `tracelift groups stats`: what a groups file's measured uplifts say about
 * its perturbations. Per negative kind: the mean measured uplift, how often
 * the group's reference positive lifts the executor more, and how well the
 * rubric total ranks traces the way the executor does (Spearman's ρ). A
 * perturbation that hurts only the text shows as a kind whose positive
 * rarely beats it.
 */
import { GroupsStatsSchema, type GroupRecord, type GroupsKindStats, type GroupsStats } from '../contract';
import { mean, spearman } from '../analysis/stats';
import { expandGroup } from './expand';
import { streamGroupRecords } from './io';

/** The kind name of positives in the per-kind table. */
export const POSITIVE_KIND = 'positive';

interface KindAccumulator {
  traces: number;
  uplifts: number[];
  compared: number;
  beats: number;
  ties: number;
  rubric: number[];
  upliftWithRubric: number[];
}

const accumulator = (): KindAccumulator => ({ traces: 0, uplifts: [], compared: 0, beats: 0, ties: 0, rubric: [], upliftWithRubric: [] });

/** ρ only over 3+ pairs (2 points always correlate ±1). */
const rho = (xs: number[], ys: number[]) => (xs.length >= 3 ? spearman(xs, ys) : null);

export function groupsStats(records: Iterable<GroupRecord>, file: string): GroupsStats {
  const kinds = new Map<string, KindAccumulator>([[POSITIVE_KIND, accumulator()]]);
  const allRubric: number[] = [];
  const allUplift: number[] = [];
  let groups = 0;
  let groupsMeasured = 0;
  let traces = 0;
  for (const record of records) {
    groups++;
    const expanded = expandGroup(record);
    traces += expanded.length;
    const upliftOf = (role: 'positive' | 'negative', index: number) =>
      (role === 'positive' ? record.positive_pool[index] : record.negative_bank[index])?.measured?.uplift ?? null;
    const reference = upliftOf('positive', 0);
    if (expanded.length && expanded.every((t) => upliftOf(t.role, t.index) !== null)) groupsMeasured++;
    for (const t of expanded) {
      const name = t.negativeKind ?? POSITIVE_KIND;
      let acc = kinds.get(name);
      if (!acc) kinds.set(name, (acc = accumulator()));
      acc.traces++;
      const uplift = upliftOf(t.role, t.index);
      if (uplift === null) continue;
      acc.uplifts.push(uplift);
      if (t.rubricTotal !== null) {
        acc.rubric.push(t.rubricTotal);
        acc.upliftWithRubric.push(uplift);
        allRubric.push(t.rubricTotal);
        allUplift.push(uplift);
      }
      if (t.role === 'negative' && reference !== null) {
        acc.compared++;
        if (reference > uplift) acc.beats++;
        else if (reference === uplift) acc.ties++;
      }
    }
  }
  const per_kind = [...kinds.entries()].map(([kind, a]): GroupsKindStats => ({
    kind,
    traces: a.traces,
    measured: a.uplifts.length,
    mean_uplift: mean(a.uplifts),
    compared: a.compared,
    positive_beats: a.beats,
    ties: a.ties,
    positive_beats_rate: a.compared ? a.beats / a.compared : null,
    rubric_uplift_spearman: rho(a.rubric, a.upliftWithRubric),
    rubric_uplift_pairs: a.rubric.length,
  }));
  return GroupsStatsSchema.parse({
    file,
    groups,
    groups_measured: groupsMeasured,
    traces,
    per_kind,
    rubric_uplift_spearman: rho(allRubric, allUplift),
    rubric_uplift_pairs: allRubric.length,
  });
}

/** The stats of a groups file, streamed (a bad line throws with file:line). */
export async function groupsFileStats(file: string): Promise<GroupsStats> {
  const records: GroupRecord[] = [];
  for await (const { record } of streamGroupRecords(file)) records.push(record);
  return groupsStats(records, file);
}

const fixed = (x: number | null, digits = 3, sign = false) => (x === null ? 'n/a' : `${sign && x >= 0 ? '+' : ''}${x.toFixed(digits)}`);

/** The stats as a text table. */
export function formatGroupsStats(s: GroupsStats): string {
  const header = ['kind', 'traces', 'measured', 'mean uplift', 'positive beats', 'ties', 'ρ(rubric, uplift)'];
  const rows = s.per_kind.map((k) => [
    k.kind,
    String(k.traces),
    String(k.measured),
    fixed(k.mean_uplift, 3, true),
    k.kind === POSITIVE_KIND
      ? ''
      : `${k.positive_beats}/${k.compared}${k.positive_beats_rate === null ? '' : ` (${(100 * k.positive_beats_rate).toFixed(0)}%)`}`,
    k.kind === POSITIVE_KIND ? '' : String(k.ties),
    `${fixed(k.rubric_uplift_spearman)} (n=${k.rubric_uplift_pairs})`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [
    `${s.file}: ${s.groups} groups (${s.groups_measured} fully measured), ${s.traces} traces`,
    line(header),
    ...rows.map(line),
    `rubric–uplift Spearman ρ over all traces: ${fixed(s.rubric_uplift_spearman)} (n=${s.rubric_uplift_pairs})`,
  ];
  if (s.groups_measured === 0) out.push('no measured uplift in this file: build it with --measure');
  return out.join('\n');
}
