/**
 * Compare Runs: the banner of settings that differ between the two runs, and
 * the mean deltas with their 95 % intervals, paired over the shared problems
 * — through the real controller over two real run directories.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EvalConfigSchema, RolloutGroupSchema, type RolloutGroup } from '../../src/engine/contract';
import { RunTail } from '../../src/extension/services/runs/runTail';
import { eventLine, syntheticStarted } from '../../src/extension/services/runs/syntheticRun';
import { CompareController } from '../../src/extension/views/webviews/compareController';
import { checkRunConfigs, fieldLabel } from '../../src/extension/views/webviews/runConfigCheck';
import type { ViewActions } from '../../src/extension/views/webviews/types';
import { CompareStateSchema } from '../../src/webviewProtocol';
import { tally } from '../helpers/runFixtures';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tl-compare-'));

function config(over: Record<string, unknown>) {
  return EvalConfigSchema.parse({
    task: 'gsm8k',
    split: 'test',
    limit: 10,
    k: 3,
    baseline_samples: 8,
    trace_source: { kind: 'reference' },
    executor: { base_url: 'http://127.0.0.1:8000/v1', model: 'exec-a', timeout_ms: 1000 },
    executor_sampling: {},
    reward: { mode: 'exec_only' },
    prompt_version: 'p1',
    data_dir: '/data/a',
    cache_dir: '/cache/a',
    ...over,
  });
}

/** One trace per problem: k of 3 with-trace successes against a baseline of b of 4 (null uplift when k is null: every call failed). */
function group(problemId: string, index: number, k: number | null, b: number): RolloutGroup {
  const withTally = k === null ? { successes: 0, valid: 0, requested: 3, failed: 3, rate: null } : tally(k, 3);
  return RolloutGroupSchema.parse({
    time: '2026-01-01T00:00:00.000Z',
    type: 'rollout_group',
    group_index: index,
    task: 'gsm8k',
    task_kind: 'math',
    problem_id: problemId,
    problem: 'q',
    baseline: { tally: tally(b, 4), attempts: [], cache_key: 'c', from_cache: false },
    samples: [
      {
        sample_id: `${problemId}#reference`,
        source: 'reference',
        trace: 't',
        with_trace: { tally: withTally, attempts: [] },
        uplift: k === null ? null : k / 3 - b / 4,
        e2e: null,
        reward: null,
      },
    ],
  });
}

function runDir(cfg: object | null, groups: RolloutGroup[]): string {
  const dir = tmp();
  if (cfg) fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
  fs.writeFileSync(path.join(dir, 'events.jsonl'), eventLine(syntheticStarted()) + groups.map(eventLine).join(''));
  return dir;
}

async function tailed(dir: string): Promise<RunTail> {
  const tail = new RunTail(dir, { pollMs: 20 }).start();
  await new Promise((r) => setTimeout(r, 50));
  await tail.whenIdle();
  return tail;
}

const noActions: Pick<ViewActions, 'openInspector'> = { openInspector: () => undefined };

test('the banner lists each setting that changes what the numbers mean, the trace source apart, and not pacing or window fields', () => {
  const a = runDir(config({}), []);
  const b = runDir(
    config({
      k: 5,
      baseline_samples: 4,
      limit: 20, // the window: not a difference
      executor: { base_url: 'http://127.0.0.1:8000/v1', model: 'exec-b', timeout_ms: 9000 }, // timeout: pacing
      executor_sampling: { temperature: 1 },
      reward: { mode: 'llm_judge', judge: { base_url: 'http://127.0.0.1:9/v1', model: 'judge' } },
      trace_source: { kind: 'file', path: '/w/groups.jsonl', format: 'groups' },
      data_dir: '/elsewhere',
    }),
    [],
  );
  const check = checkRunConfigs(a, b);
  assert.deepEqual(check.unreadable, []);
  const byField = Object.fromEntries(check.differences.map((d) => [d.field, d]));
  assert.deepEqual(Object.keys(byField).sort(), [
    'baseline_samples',
    'executor.model',
    'executor_sampling.temperature',
    'k',
    'reward.judge',
    'reward.mode',
    'trace_source.format',
    'trace_source.kind',
    'trace_source.path',
  ]);
  assert.deepEqual(byField.k, { field: 'k', label: 'K (with-trace samples per trace)', a: '3', b: '5', kind: 'meaning' });
  assert.deepEqual(
    { a: byField.baseline_samples!.a, b: byField.baseline_samples!.b, label: byField.baseline_samples!.label },
    { a: '8', b: '4', label: 'M (no-trace baseline samples per problem)' },
  );
  assert.deepEqual([byField['executor.model']!.a, byField['executor.model']!.b], ['exec-a', 'exec-b']);
  assert.equal(byField['executor_sampling.temperature']!.label, 'executor sampling: temperature');
  assert.equal(byField['reward.mode']!.kind, 'meaning');
  assert.equal(byField['reward.judge']!.a, 'null');
  for (const f of ['trace_source.kind', 'trace_source.path', 'trace_source.format']) assert.equal(byField[f]!.kind, 'design', f);
  assert.equal(byField['trace_source.path']!.a, 'unset');
  assert.equal(fieldLabel('protocol.baseline'), 'protocol: baseline');

  assert.deepEqual(checkRunConfigs(a, runDir(config({}), [])), { differences: [], unreadable: [] }, 'same settings: no banner');
});

test('a run without a readable eval config is named instead of compared', () => {
  const a = runDir(config({}), []);
  const none = runDir(null, []);
  const train = runDir({ model: 'x', steps: 3 }, []);
  assert.deepEqual(checkRunConfigs(a, none), { differences: [], unreadable: ['Run B: no config.json'] });
  const r = checkRunConfigs(train, a);
  assert.equal(r.unreadable.length, 1);
  assert.match(r.unreadable[0]!, /^Run A: config\.json is not an eval config \(.*task/);
});

test('the compare state carries the banner and the deltas paired over shared problems, with a Student-t 95 % interval', async () => {
  // Shared p1..p3 (p4: B's calls all failed, so no uplift to pair), p5 only in A, p6 only in B.
  const dirA = runDir(config({}), [
    group('p1', 0, 0, 0),
    group('p2', 1, 1, 0),
    group('p3', 2, 3, 0),
    group('p4', 3, 2, 0),
    group('p5', 4, 3, 0),
  ]);
  const dirB = runDir(config({ k: 5 }), [
    group('p1', 0, 1, 1),
    group('p2', 1, 2, 1),
    group('p3', 2, 3, 1),
    group('p4', 3, null, 1),
    group('p6', 4, 0, 4),
  ]);
  const [ta, tb] = [await tailed(dirA), await tailed(dirB)];
  const sent: Array<{ method?: string; params?: unknown }> = [];
  const c = new CompareController(ta, tb, (m) => sent.push(m as { method?: string }), noActions, { throttleMs: 10 });
  try {
    await c.handle({ kind: 'notify', method: 'ready', params: { protocol: 1 } });
    const st = CompareStateSchema.parse(sent.find((m) => m.method === 'compareState')!.params);
    assert.deepEqual(st.counts, { both: 4, onlyA: 1, onlyB: 1 });
    assert.deepEqual(
      st.config?.differences.map((d) => [d.field, d.a, d.b]),
      [['k', '3', '5']],
    );

    // With-trace success: A 0, 1/3, 1 → B 1/3, 2/3, 1: differences 1/3, 1/3, 0.
    const s = st.paired!.success;
    assert.equal(s.n, 3);
    near(s.meanA!, 4 / 9);
    near(s.meanB!, 2 / 3);
    near(s.mean!, 2 / 9);
    near(s.sd!, Math.sqrt(1 / 27));
    near(s.se!, 1 / 9);
    near(s.lo!, 2 / 9 - T975_DF2 / 9);
    near(s.hi!, 2 / 9 + T975_DF2 / 9);

    // Uplift: B's baseline is 1/4 higher, so the differences are 1/3 − 1/4, 1/3 − 1/4, −1/4.
    const u = st.paired!.uplift;
    assert.equal(u.n, 3);
    near(u.mean!, 2 / 9 - 1 / 4);
    near(u.se!, 1 / 9);
    near(u.lo!, 2 / 9 - 1 / 4 - T975_DF2 / 9);
    near(u.hi!, 2 / 9 - 1 / 4 + T975_DF2 / 9);
    assert.ok(u.lo! < 0 && u.hi! > 0, 'three problems cannot tell these runs apart');
    near(st.meanDeltaUplift!, u.mean!);
  } finally {
    c.dispose();
    ta.dispose();
    tb.dispose();
  }
});

/** Student's t 97.5 % quantile for 2 degrees of freedom, in closed form: t = (2p − 1)·√(2 / (4p(1 − p))). */
const T975_DF2 = 0.95 * Math.sqrt(2 / (4 * 0.975 * 0.025));

function near(actual: number, expected: number): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} ≠ ${expected}`);
}
