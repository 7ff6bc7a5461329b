/**
 * For fault and kill/resume tests: a deterministic executor answer (it
 * depends only on the prompt, so reruns reproduce every figure) and a check
 * that a run directory's three files agree — summary.json and samples.jsonl
 * recomputed independently from events.jsonl.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  RunSummarySchema,
  TraceSampleRowSchema,
  type MathProblem,
  type RolloutGroup,
  type RunEvent,
  type RunSummary,
  type TraceSampleRow,
} from '../../src/engine/contract';
import { readEvents } from '../../src/engine/run/runDir';

/**
 * The gold answer or a wrong one, decided by a hash of the prompt (with or
 * without a trace, the prompts differ, so uplift is not always 0).
 */
export function deterministicAnswer(problems: MathProblem[]): (prompt: string) => string {
  return (prompt) => {
    const p = problems.find((q) => prompt.includes(q.problem));
    if (!p) return 'no idea';
    const h = createHash('sha256').update(prompt).digest()[0]!;
    return h % 3 === 0 ? `${Number(p.answer) + 1}` : p.answer;
  };
}

export interface CheckedRun {
  summary: RunSummary;
  events: RunEvent[];
  /** Every rollout_group event, superseded ones included. */
  allGroups: RolloutGroup[];
  /** The last group event per problem. */
  groups: Map<string, RolloutGroup>;
  rows: TraceSampleRow[];
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const close = (a: number | null, b: number | null, what: string) => {
  if (a === null || b === null) assert.equal(a, b, what);
  else assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);
};

/** Reads a run and asserts that summary.json and samples.jsonl are what events.jsonl says. */
export function checkRunFiles(dir: string): CheckedRun {
  const { events, issues } = readEvents(dir);
  assert.deepEqual(issues, [], 'events.jsonl reads without bad lines');
  const allGroups = events.filter((e): e is RolloutGroup => e.type === 'rollout_group');
  const groups = new Map<string, RolloutGroup>();
  for (const g of allGroups) {
    groups.delete(g.problem_id);
    groups.set(g.problem_id, g);
  }
  const samplesFile = path.join(dir, 'samples.jsonl');
  const text = fs.existsSync(samplesFile) ? fs.readFileSync(samplesFile, 'utf8') : '';
  assert.ok(text === '' || text.endsWith('\n'), 'samples.jsonl ends with a whole line');
  const rows = text
    .split('\n')
    .filter(Boolean)
    .map((l) => TraceSampleRowSchema.parse(JSON.parse(l)));
  const summary = RunSummarySchema.parse(JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')));

  // samples.jsonl: one row per trace of the latest group of each problem, nothing else, no duplicate.
  const wanted = [...groups.values()].flatMap((g) => g.samples.map((s) => `${g.problem_id}|${s.sample_id}`));
  assert.deepEqual(
    rows.map((r) => `${r.problem_id}|${r.sample_id}`),
    wanted,
  );
  assert.equal(new Set(wanted).size, wanted.length, 'no sample twice');
  for (const r of rows) {
    const s = groups.get(r.problem_id)!.samples.find((x) => x.sample_id === r.sample_id)!;
    assert.equal(r.with_trace_successes, s.with_trace.tally.successes);
    assert.equal(r.failed_calls, s.with_trace.tally.failed);
  }

  // summary.json against figures recomputed here from the rows and groups.
  const latest = [...groups.values()];
  assert.equal(summary.micro.problems, groups.size);
  assert.equal(summary.micro.traces, rows.length);
  close(
    summary.with_trace_success,
    mean(rows.flatMap((r) => (r.with_trace_rate === null ? [] : [r.with_trace_rate]))),
    'with-trace success',
  );
  close(
    summary.no_trace_success,
    mean(latest.flatMap((g) => (g.baseline.tally.rate === null ? [] : [g.baseline.tally.rate]))),
    'no-trace success',
  );
  close(summary.mean_uplift, mean(rows.flatMap((r) => (r.uplift === null ? [] : [r.uplift]))), 'mean uplift');
  close(summary.mean_reward, mean(rows.flatMap((r) => (r.reward === null ? [] : [r.reward.value]))), 'mean reward');
  const failed = latest.reduce(
    (n, g) => n + (g.baseline.from_cache ? 0 : g.baseline.tally.failed) + g.samples.reduce((m, s) => m + s.with_trace.tally.failed, 0),
    0,
  );
  assert.equal(summary.micro.failed_calls, failed, 'failed calls of the latest groups');
  // Generations: the events' counts summed over every invocation.
  const generations = events.reduce(
    (n, e) => n + ((e.type === 'rollout_group' || e.type === 'run_ended') && e.executor_generations ? e.executor_generations : 0),
    0,
  );
  assert.equal(summary.executor_generations, generations);
  // The summary's status is the last run_ended's.
  const ended = events.filter((e) => e.type === 'run_ended').at(-1);
  assert.equal(summary.status, ended && ended.type === 'run_ended' ? ended.status : 'running');
  // No group was written after the run ended.
  let open = false;
  for (const e of events) {
    if (e.type === 'run_started') open = true;
    if (e.type === 'run_ended') open = false;
    if (e.type === 'rollout_group') assert.ok(open, `group ${e.problem_id} written outside a run`);
  }
  return { summary, events, allGroups, groups, rows };
}

/** The figures two runs must share (not run ids, times, latencies, or generations spent on work lost to a crash). */
export function comparableFigures(s: RunSummary) {
  const round = (x: number | null) => (x === null ? null : Math.round(x * 1e9) / 1e9);
  const row = (r: RunSummary['micro']) => ({
    ...r,
    with_trace_success: round(r.with_trace_success),
    no_trace_success: round(r.no_trace_success),
    mean_uplift: round(r.mean_uplift),
    mean_reward: round(r.mean_reward),
  });
  return {
    status: s.status,
    micro: row(s.micro),
    tasks: s.tasks.map((t) => ({ ...row(t), task: t.task })),
    baseline_cache_hits: s.baseline_cache_hits,
  };
}
