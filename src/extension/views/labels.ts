/**
 * What the explorer and the pickers show for runs, problems, samples and
 * data files: labels, descriptions, tooltips (as hover tables) and quick pick
 * items, built from untrusted run and file contents through the one safe-text
 * helper (src/shared/safeText.ts). No `vscode` import, so every builder is
 * unit-tested with hostile text (test/unit/extensionSafeText.test.ts); the
 * tree providers and commands only wrap these in vscode objects.
 */
import * as path from 'node:path';
import { hasHiddenChars, safeLine } from '../../shared/safeText';
import { HIDDEN_MARK, type HoverTable } from '../services/annotate';
import { describeCounts, type Detection } from '../services/detect';
import type { ProblemSamples } from '../services/runs/runIndex';
import { BEATS_REFERENCE_FLAG, type RunRow } from '../services/runs/runRows';
import { describeRun, pct, signed, type RunInfo } from '../services/runScan';

export interface ItemText {
  label: string;
  description: string;
  /** Rendered with renderHoverMarkdown (every cell made safe and escaped). */
  tooltip: HoverTable;
}

export interface PickText {
  label: string;
  description: string;
  detail: string;
}

/** The row flag a run index sets on a sample whose trace holds hidden characters. */
export const HIDDEN_FLAG = 'hidden-text';

/** True when a sample's trace, ids, task, source or label hold invisible or reordering characters (the index's flag). */
export function sampleHasHidden(s: RunRow): boolean {
  return s.flags.includes(HIDDEN_FLAG);
}

/** "reference" for "gsm8k/test/0#reference" under its problem (raw: for webview titles, which the webview makes safe). */
export function sampleName(s: RunRow): string {
  return s.sampleId.startsWith(`${s.problemId}#`) ? s.sampleId.slice(s.problemId.length + 1) : s.sampleId;
}

/** The sample's name under its problem, safe to show. */
export function sampleLabel(s: RunRow): string {
  return safeLine(sampleName(s), 60);
}

export function describeSample(s: RunRow): string {
  const parts = [`uplift ${signed(s.uplift)}`, `reward ${s.reward === null ? 'n/a' : s.reward.toFixed(3)}`, `${s.k}/${s.K}`];
  if (s.label && s.label !== sampleName(s)) parts.push(safeLine(s.label, 30));
  if (s.errorCount) parts.push('⚠'); // sample errors or failed calls
  if (sampleHasHidden(s)) parts.push(HIDDEN_MARK);
  return parts.join(' · ');
}

/**
 * "best +0.500", and who scored it when that was a perturbed trace: "best
 * +0.500 by negative arithmetic_error" (a tie with a non-negative trace
 * credits the non-negative one).
 */
export function describeBest(samples: RunRow[]): string {
  let best: RunRow | null = null;
  for (const s of samples) {
    if (s.uplift === null) continue;
    if (!best || s.uplift > best.uplift! || (s.uplift === best.uplift && best.source === 'negative' && s.source !== 'negative')) best = s;
  }
  if (!best) return '';
  const by = best.source === 'negative' ? ` by negative${best.label ? ` ${safeLine(best.label, 30)}` : ''}` : '';
  return `best ${signed(best.uplift)}${by}`;
}

export function describeProblem(p: ProblemSamples): string {
  const ups = p.samples.map((s) => s.uplift).filter((u): u is number => u !== null);
  const base = p.samples[0];
  const parts = [`${p.samples.length} trace${p.samples.length === 1 ? '' : 's'}`];
  if (base) parts.push(`base ${pct(base.baselineRate)}`);
  if (ups.length) parts.push(describeBest(p.samples));
  const beats = p.samples.filter((s) => s.flags.includes(BEATS_REFERENCE_FLAG)).length;
  if (beats) parts.push(`${beats} negative${beats === 1 ? '' : 's'} > reference`);
  if (hasHiddenChars(p.problemId) || p.samples.some(sampleHasHidden)) parts.push(HIDDEN_MARK);
  return parts.join(' · ');
}

export function runItem(r: RunInfo): ItemText {
  const rows: Array<[string, string]> = [
    ['folder', r.dir],
    ['status', r.live ? `live (${r.status})` : r.status],
    ['kind', r.kind ?? 'unknown'],
    ['task', [r.task, r.split].filter(Boolean).join(' / ') || 'n/a'],
    ['traces', r.traceSource ?? 'n/a'],
    ['updated', r.updatedMs ? new Date(r.updatedMs).toLocaleString() : 'n/a'],
  ];
  const s = r.summary;
  if (s) {
    rows.push(
      ['problems / traces', `${s.micro.problems} / ${s.micro.traces}`],
      ['with-trace success', pct(s.with_trace_success)],
      ['no-trace success', pct(s.no_trace_success)],
      ['mean uplift', signed(s.mean_uplift)],
      ['mean reward', s.mean_reward === null ? 'n/a' : s.mean_reward.toFixed(3)],
      ['failed calls', String(s.micro.failed_calls)],
    );
  }
  return { label: safeLine(r.name, 80), description: describeRun(r), tooltip: { title: r.name, rows, notes: [] } };
}

export function problemItem(p: ProblemSamples): ItemText {
  return {
    label: safeLine(p.problemId, 80),
    description: describeProblem(p),
    tooltip: { title: p.problemId, rows: [['task', p.task]], notes: [] },
  };
}

export function sampleItem(s: RunRow): ItemText {
  const notes = sampleHasHidden(s) ? ['This sample holds invisible or reordering characters: they are shown as ⟨U+…⟩.'] : [];
  return {
    label: sampleLabel(s),
    description: describeSample(s),
    tooltip: {
      title: s.sampleId,
      rows: [
        ['source', `${s.source}${s.label ? ` (${s.label})` : ''}`],
        ['figures', describeSample(s)],
      ],
      notes,
    },
  };
}

/** A sample in a quick pick: problem · sample, its figures, its trace's start. */
export function samplePick(s: RunRow): PickText {
  return { label: `${safeLine(s.problemId, 60)} · ${sampleLabel(s)}`, description: describeSample(s), detail: safeLine(s.preview, 120) };
}

/** A run in a quick pick. */
export function runPick(r: RunInfo): PickText {
  return { label: `${r.live ? '$(sync~spin) ' : ''}${safeLine(r.name, 80)}`, description: describeRun(r), detail: safeLine(r.dir, 200) };
}

export function dataFileItem(entry: { fsPath: string; rel: string }, d: Detection): ItemText {
  const dir = path.dirname(entry.rel);
  const rows: Array<[string, string]> = [
    ['file', entry.rel],
    ['kind', d.task ? `${d.label} (task ${d.task})` : d.label],
    ['counts', describeCounts(d)],
  ];
  if (d.sources.length) rows.push(['sources', d.sources.join(', ')]);
  if (d.capped) rows.push(['note', 'large file: counted up to the first 16 MiB']);
  return {
    label: safeLine(path.basename(entry.fsPath), 80),
    description: `${describeCounts(d)}${dir && dir !== '.' ? ` — ${safeLine(dir, 60)}` : ''}`,
    tooltip: { title: path.basename(entry.fsPath), rows, notes: d.malformed.slice(0, 5).map(malformedText) },
  };
}

/** A data file in a quick pick. */
export function dataFilePick(entry: { fsPath: string; rel: string }, d: Detection): PickText {
  return {
    label: safeLine(path.basename(entry.fsPath), 80),
    description: safeLine(entry.rel, 120),
    detail: `${d.label} · ${describeCounts(d)}`,
  };
}

/** One malformed line of a data file (raw: the message may quote the file). */
export function malformedText(m: { line: number | null; item?: number; message: string }): string {
  return `${m.line !== null ? `line ${m.line}` : m.item !== undefined ? `item ${m.item}` : 'file'}: ${m.message}`;
}
