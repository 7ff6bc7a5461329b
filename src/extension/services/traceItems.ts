/**
 * The traces a file holds, as pickable items for "Diff Two Traces": groups
 * records (positives and perturbations), traces files, run samples and run
 * events. Malformed lines are skipped and counted. No `vscode` import.
 */
import { RunEventSchema, TraceRecordSchema, TraceSampleRowSchema } from '../../engine/contract';
import { expandGroup, validateGroupRecord } from '../../engine/groups';
import type { DataKind } from './detect';
import { signed } from './runScan';
import { safeLine } from '../../shared/safeText';

export interface TraceItem {
  /** Safe to show (quick pick). */
  label: string;
  description: string;
  /** The raw name for the diff view's title (the webview makes it safe). */
  title: string;
  text: string;
  meta: Record<string, string | number | null>;
}

export const TRACE_KINDS: readonly DataKind[] = ['groups', 'traces', 'samples', 'events'];

interface SampleLike {
  sample_id: string;
  problem_id: string;
  trace: string;
  uplift: number | null;
  label: string | null;
  reward: { value: number } | null;
}

function sampleItem(s: SampleLike, line: number): TraceItem {
  return {
    label: safeLine(s.sample_id, 80),
    title: s.sample_id,
    description: `uplift ${signed(s.uplift)} · reward ${s.reward ? s.reward.value.toFixed(3) : 'n/a'}${s.label ? ` · ${safeLine(s.label, 30)}` : ''}`,
    text: s.trace,
    meta: { problem_id: s.problem_id, sample_id: s.sample_id, uplift: s.uplift, reward: s.reward?.value ?? null, label: s.label, line },
  };
}

export function listTraces(text: string, kind: DataKind, cap = 5000): { items: TraceItem[]; skipped: number } {
  const items: TraceItem[] = [];
  let skipped = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length && items.length < cap; i++) {
    const raw = lines[i]!.trim();
    if (!raw) continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      skipped++;
      continue;
    }
    const line = i + 1;
    if (kind === 'groups') {
      const g = validateGroupRecord(value);
      if (!g.ok) {
        skipped++;
        continue;
      }
      const problemId = g.record.problem_id;
      for (const t of expandGroup(g.record)) {
        const name = `${t.role} ${t.index}`;
        const rubric = `rubric ${t.rubricTotal ?? 'n/a'} · line ${line}`;
        items.push({
          label: `${safeLine(problemId, 60)} · ${name}`,
          title: `${problemId} · ${name}`,
          description: t.negativeKind === null ? rubric : `${safeLine(t.negativeKind, 40)} · ${rubric}`,
          text: t.text,
          meta: {
            problem_id: problemId,
            trace: name,
            ...(t.negativeKind === null ? {} : { negative_kind: t.negativeKind }),
            rubric_total: t.rubricTotal,
            line,
          },
        });
      }
    } else if (kind === 'traces') {
      const t = TraceRecordSchema.safeParse(value);
      if (!t.success) {
        skipped++;
        continue;
      }
      const id = t.data.trace_id ?? t.data.label ?? `line ${line}`;
      items.push({
        label: `${safeLine(t.data.problem_id, 60)} · ${safeLine(id, 40)}`,
        title: `${t.data.problem_id} · ${id}`,
        description: `${t.data.label ? `${safeLine(t.data.label, 30)} · ` : ''}line ${line}`,
        text: t.data.trace,
        meta: { problem_id: t.data.problem_id, trace_id: t.data.trace_id ?? null, label: t.data.label ?? null, line },
      });
    } else if (kind === 'samples') {
      const r = TraceSampleRowSchema.safeParse(value);
      if (!r.success) {
        skipped++;
        continue;
      }
      items.push(sampleItem(r.data, line));
    } else if (kind === 'events') {
      const e = RunEventSchema.safeParse(value);
      if (!e.success) {
        skipped++;
        continue;
      }
      if (e.data.type !== 'rollout_group') continue;
      for (const sample of e.data.samples) items.push(sampleItem({ ...sample, problem_id: e.data.problem_id }, line));
    }
  }
  return { items, skipped };
}
