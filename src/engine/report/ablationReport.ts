/**
 * `tracelift ablate`'s output: the reward ablation of one run as Markdown,
 * JSON and CSVs (one row per trace with each mode's reward; one row per
 * pair of modes with their rank correlations).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ablate, ALL_REWARD_MODES, rewardSettingsOf, type AblationResult } from '../analysis/ablation';
import type { LoadedRun } from '../analysis/loadRun';
import { csvCell } from '../suite/table';

export const ABLATION_FILES = {
  markdown: 'ablation.md',
  json: 'ablation.json',
  rewards: 'ablation_rewards.csv',
  correlations: 'ablation_correlations.csv',
} as const;

export const num = (x: number | null | undefined, digits = 3) => (x === null || x === undefined ? 'n/a' : x.toFixed(digits));

/** Rows of values as CSV text (null and undefined as empty cells). */
export function toCsv(header: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const cell = (v: string | number | null | undefined) => (v === null || v === undefined ? '' : csvCell(String(v)));
  return [header.map(cell).join(','), ...rows.map((r) => r.map(cell).join(','))].join('\n') + '\n';
}

/** The ablation of a run in Markdown (a section of report.md as well). */
export function ablationMarkdown(result: AblationResult, title = '## Reward ablations'): string {
  const lines = [title, ''];
  lines.push(
    `Every reward mode on the same ${result.traces.length} recorded trace(s) with the engine's reward function; ` +
      `no executor call. The run scored with ${result.recordedMode ?? 'an unrecorded mode'}.`,
    '',
    '| mode | traces scored | not scored (missing signal) |',
    '| --- | ---: | --- |',
  );
  for (const m of result.modes) {
    const why = Object.entries(m.missing)
      .map(([s, n]) => `${s === 'rm' ? 'no RM score recorded' : s === 'judge' ? 'no judge score recorded' : s}: ${n}`)
      .join('; ');
    lines.push(`| ${m.mode}${m.available ? '' : ' (unavailable)'} | ${m.scored} | ${m.unscored ? `${m.unscored} (${why})` : '0'} |`);
  }
  lines.push('');
  if (result.correlations.length) {
    lines.push(
      'Rank agreement between modes over the traces both scored:',
      '',
      '| modes | n | Spearman ρ | Kendall τ-b |',
      '| --- | ---: | ---: | ---: |',
    );
    for (const c of result.correlations) lines.push(`| ${c.a} vs ${c.b} | ${c.n} | ${num(c.spearman)} | ${num(c.kendall)} |`);
    lines.push('', 'n/a: a mode gives every trace the same reward (no ranking to compare).', '');
  } else lines.push('Fewer than two modes could score these traces: no rank correlation.', '');
  if (result.preference) {
    lines.push(
      'How often each mode prefers a perturbed trace over its group’s reference (a reward above the reference’s):',
      '',
      '| mode | pairs | prefers perturbed | ties | share |',
      '| --- | ---: | ---: | ---: | ---: |',
    );
    for (const p of result.preference) lines.push(`| ${p.mode} | ${p.pairs} | ${p.prefersPerturbed} | ${p.ties} | ${num(p.share)} |`);
    lines.push('');
  } else lines.push('Not a groups-file run (no reference and perturbed traces): no preference counts.', '');
  lines.push(
    'Reward variance within groups (GRPO’s learning signal; a group with equal rewards teaches nothing):',
    '',
    '| mode | groups (≥ 2 traces) | mean variance | share with zero variance |',
    '| --- | ---: | ---: | ---: |',
  );
  for (const v of result.withinGroup) lines.push(`| ${v.mode} | ${v.groups} | ${num(v.meanVariance, 4)} | ${num(v.zeroVarianceShare)} |`);
  return lines.join('\n') + '\n';
}

/** Ablates a loaded run and writes ablation.md, ablation.json and the two CSVs into outDir. */
export function writeAblationReport(run: LoadedRun, outDir: string): AblationResult {
  const result = ablate(run.groups, rewardSettingsOf(run.config));
  fs.mkdirSync(outDir, { recursive: true });
  const md = [`# Reward ablations: ${run.name}`, '', `Run: ${run.dir}`, '', ablationMarkdown(result)].join('\n');
  fs.writeFileSync(path.join(outDir, ABLATION_FILES.markdown), md);
  fs.writeFileSync(path.join(outDir, ABLATION_FILES.json), JSON.stringify({ run: run.dir, ...result }, null, 2) + '\n');
  fs.writeFileSync(
    path.join(outDir, ABLATION_FILES.rewards),
    toCsv(
      ['step', 'problem_id', 'sample_id', 'source', 'label', 'recorded', ...ALL_REWARD_MODES],
      result.traces.map((t) => [
        t.step,
        t.problem_id,
        t.sample_id,
        t.source,
        t.label,
        t.recorded,
        ...ALL_REWARD_MODES.map((m) => t.rewards[m]),
      ]),
    ),
  );
  fs.writeFileSync(
    path.join(outDir, ABLATION_FILES.correlations),
    toCsv(
      ['mode_a', 'mode_b', 'n', 'spearman', 'kendall_tau_b'],
      result.correlations.map((c) => [c.a, c.b, c.n, c.spearman, c.kendall]),
    ),
  );
  return result;
}
