/**
 * `tracelift groups stats` on a file with known measured uplifts and rubric
 * totals: per-kind means, how often the positive beats each negative (ties
 * apart), unmeasured traces left out, and Spearman's ρ (average ranks; the
 * expected value computed independently with Python's statistics module).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GroupsStatsSchema, type MeasuredUplift } from '../../src/engine/contract';
import { groupsStats, writeGroupsFile, type GroupRecordInput } from '../../src/engine/groups';

const measured = (uplift: number | null): MeasuredUplift => ({
  uplift,
  with_trace_successes: 0,
  with_trace_valid: uplift === null ? 0 : 2,
  baseline_rate: uplift === null ? null : 0,
  baseline_valid: 2,
});

/** [positive, A, B] uplifts; rubric totals are 1.0, 0.5 and 0.25. */
function record(id: string, [p, a, b]: Array<number | null>): GroupRecordInput {
  return {
    problem_id: id,
    source: 'gsm8k',
    task_type: 'math',
    problem: 'q',
    reference_solution: '1',
    positive_pool: [{ reasoning: 'p', rubric: { total: 1 }, measured: measured(p!) }],
    negative_bank: [
      { reasoning: 'a', negative_kind: 'arithmetic_error', rubric: { total: 0.5 }, measured: measured(a!) },
      { reasoning: 'b', negative_kind: 'premature_answer', rubric: { total: 0.25 }, measured: measured(b ?? null) },
    ],
  };
}

const RECORDS = [record('r1', [0.5, 0, 0.5]), record('r2', [1, -0.5, 0]), record('r3', [0, 0.5, null])];

test('groups stats: per-kind mean uplift, positive-beats rate with ties apart, rubric–uplift Spearman', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-groups-stats-'));
  const file = path.join(dir, 'g.jsonl');
  writeGroupsFile(file, RECORDS);
  const stats = groupsStats(
    fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l)),
    file,
  );
  assert.equal(stats.groups, 3);
  assert.equal(stats.groups_measured, 2, 'r3 has an unmeasured trace');
  assert.equal(stats.traces, 9);
  const kind = (k: string) => stats.per_kind.find((s) => s.kind === k)!;
  assert.deepEqual(
    stats.per_kind.map((k) => k.kind),
    ['positive', 'arithmetic_error', 'premature_answer'],
  );
  assert.equal(kind('positive').mean_uplift, 0.5);
  assert.equal(kind('positive').compared, 0);
  const a = kind('arithmetic_error');
  assert.equal(a.measured, 3);
  assert.ok(Math.abs(a.mean_uplift!) < 1e-12);
  assert.deepEqual([a.compared, a.positive_beats, a.ties], [3, 2, 0]);
  assert.ok(Math.abs(a.positive_beats_rate! - 2 / 3) < 1e-12);
  assert.equal(a.rubric_uplift_spearman, null, 'one rubric value: no ranking');
  const b = kind('premature_answer');
  assert.deepEqual([b.traces, b.measured, b.mean_uplift], [3, 2, 0.25]);
  assert.deepEqual([b.compared, b.positive_beats, b.ties, b.positive_beats_rate], [2, 1, 1, 0.5]);
  assert.equal(b.rubric_uplift_pairs, 2);
  assert.equal(b.rubric_uplift_spearman, null, 'under 3 pairs');
  assert.equal(stats.rubric_uplift_pairs, 8);
  assert.ok(Math.abs(stats.rubric_uplift_spearman! - 0.2781517949836592) < 1e-12, String(stats.rubric_uplift_spearman));
});

test('tracelift groups stats FILE --json prints the schema; the table names every kind', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-groups-stats-cli-'));
  const file = path.join(dir, 'g.jsonl');
  writeGroupsFile(file, RECORDS);
  const cli = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', path.resolve(__dirname, '../../src/cli/main.ts'), 'groups', 'stats', ...args], {
      encoding: 'utf8',
    });
  const json = cli([file, '--json']);
  assert.equal(json.status, 0, json.stderr);
  const stats = GroupsStatsSchema.parse(JSON.parse(json.stdout));
  assert.equal(stats.per_kind.find((k) => k.kind === 'arithmetic_error')!.positive_beats, 2);
  const table = cli([file]);
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /3 groups \(2 fully measured\), 9 traces/);
  assert.match(table.stdout, /arithmetic_error\s+3\s+3\s+\+0\.000\s+2\/3 \(67%\)\s+0/);
  assert.match(table.stdout, /Spearman ρ over all traces: 0\.278 \(n=8\)/);
});
