import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunTail } from '../../src/extension/services/runs/runTail';
import { eventLine, syntheticEnded, syntheticGroup, syntheticStarted } from '../../src/extension/services/runs/syntheticRun';
import { HostEndpoint } from '../../src/extension/views/webviews/bridge';
import { CompareController } from '../../src/extension/views/webviews/compareController';
import { InspectorController } from '../../src/extension/views/webviews/inspectorController';
import { RunViewController } from '../../src/extension/views/webviews/runViewController';
import { TraceDiffController } from '../../src/extension/views/webviews/traceDiffController';
import type { TraceText, ViewActions } from '../../src/extension/views/webviews/types';
import {
  CompareStateSchema,
  DiffViewSchema,
  EnvelopeSchema,
  InspectorDataSchema,
  RunQuerySchema,
  RunStateSchema,
  WindowParamsSchema,
  WindowResultSchema,
  runViewProtocol,
  type WindowResult,
} from '../../src/webviewProtocol';

const FIXTURE = path.resolve(__dirname, '..', 'fixtures', 'groups.gsm8k.jsonl');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tl-proto-'));
async function settle(cond: () => boolean, ms = 3000): Promise<void> {
  const t0 = Date.now();
  while (!cond() && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 10));
}

interface Sent {
  kind: string;
  id?: number;
  method?: string;
  ok?: boolean;
  result?: unknown;
  error?: string;
  params?: unknown;
}

function recorder() {
  const sent: Sent[] = [];
  return { sent, post: (m: unknown) => sent.push(m as Sent), of: (method: string) => sent.filter((m) => m.method === method) };
}

function actions(): ViewActions & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    calls,
    openRunView: (...a) => void calls.push(['openRunView', ...a]),
    openInspector: (...a) => void calls.push(['openInspector', ...a]),
    openTraceDiff: (...a) => void calls.push(['openTraceDiff', ...a]),
    openInDiffEditor: async (...a) => void calls.push(['openInDiffEditor', ...a]),
  };
}

function runDir(groups: number, ended = false): string {
  const dir = tmp();
  let text = eventLine(syntheticStarted());
  for (let i = 0; i < groups; i++) text += eventLine(syntheticGroup(i));
  if (ended) text += eventLine(syntheticEnded());
  fs.writeFileSync(path.join(dir, 'events.jsonl'), text);
  return dir;
}

async function started(dir: string): Promise<RunTail> {
  const tail = new RunTail(dir, { pollMs: 20 }).start();
  await new Promise((r) => setTimeout(r, 50));
  await tail.whenIdle();
  return tail;
}

test('the envelope and params are validated: bad messages are logged or answered with the field at fault', async () => {
  const r = recorder();
  const logs: string[] = [];
  const ep = new HostEndpoint(runViewProtocol, r.post, (l) => logs.push(l));
  ep.onRequest('openInspector', ({ rowId }) => {
    if (rowId === 7) throw new Error('boom');
    return null;
  });
  await ep.handle('not an object');
  await ep.handle({ kind: 'request', id: -1, method: 'window', params: {} });
  assert.equal(logs.length, 2);
  assert.equal(r.sent.length, 0);
  await ep.handle({ kind: 'request', id: 1, method: 'nope', params: {} });
  await ep.handle({ kind: 'request', id: 2, method: 'openInspector', params: { rowId: 'x' } });
  await ep.handle({ kind: 'request', id: 3, method: 'openInspector', params: { rowId: 7 } });
  await ep.handle({ kind: 'request', id: 4, method: 'openInspector', params: { rowId: 1 } });
  assert.deepEqual(
    r.sent.map((m) => [m.id, m.ok]),
    [
      [1, false],
      [2, false],
      [3, false],
      [4, true],
    ],
  );
  assert.match(r.sent[0]!.error!, /unknown method nope/);
  assert.match(r.sent[1]!.error!, /rowId/);
  assert.equal(r.sent[2]!.error, 'boom');
  for (const m of r.sent) assert.ok(EnvelopeSchema.safeParse(m).success);
  await ep.handle({ kind: 'notify', method: 'ready', params: { protocol: 'x' } });
  assert.match(logs[logs.length - 1]!, /invalid ready/);
});

test('query and window schemas: defaults, bounds', () => {
  const q = RunQuerySchema.parse({});
  assert.equal(q.sort.key, 'arrival');
  assert.equal(q.sort.dir, 'desc');
  assert.equal(q.filter.search, '');
  assert.ok(!WindowParamsSchema.safeParse({ query: q, offset: 0, count: 501 }).success, 'a window is at most 500 rows');
  assert.ok(!RunQuerySchema.safeParse({ filter: { upliftMin: 2 } }).success);
  assert.ok(!RunQuerySchema.safeParse({ sort: { key: 'bogus' } }).success);
});

test('run view: ready → init + state replay; windows answer range queries; pushes keep the anchored row in place or follow the top', async () => {
  const dir = runDir(10);
  const tail = await started(dir);
  const r = recorder();
  const a = actions();
  const c = new RunViewController(tail, r.post, a, { throttleMs: 10 });
  try {
    await c.handle({ kind: 'notify', method: 'ready', params: { protocol: 1 } });
    assert.deepEqual(
      r.sent.map((m) => m.method),
      ['init', 'runState'],
    );
    assert.ok(RunStateSchema.safeParse(r.sent[1]!.params).success);
    const query = RunQuerySchema.parse({});
    await c.handle({ kind: 'request', id: 1, method: 'window', params: { query, offset: 0, count: 5, anchor: null, follow: 'top' } });
    const w1 = WindowResultSchema.parse(r.sent[2]!.result);
    assert.equal(w1.total, 40);
    assert.deepEqual(
      w1.rows.map((x) => x.rowId),
      [39, 38, 37, 36, 35],
      'newest first',
    );
    // Anchored further down the list (row 30 at index 9, window from 5).
    r.sent.length = 0;
    await c.handle({
      kind: 'request',
      id: 2,
      method: 'window',
      params: { query, offset: 5, count: 10, anchor: { rowId: 30, index: 9 }, follow: 'none' },
    });
    assert.equal(WindowResultSchema.parse(r.sent[0]!.result).anchorIndex, 9);
    // Two groups (8 rows) arrive above it: the push moves the window with it.
    fs.appendFileSync(path.join(dir, 'events.jsonl'), eventLine(syntheticGroup(10)) + eventLine(syntheticGroup(11)));
    const until = Date.now() + 3000;
    let pushed: WindowResult | undefined;
    while (!pushed && Date.now() < until) {
      await new Promise((res) => setTimeout(res, 20));
      const p = r.of('window').pop();
      if (p) pushed = WindowResultSchema.parse(p.params);
    }
    assert.ok(pushed, 'a window is pushed after the run changed');
    assert.equal(pushed.total, 48);
    assert.equal(pushed.anchorIndex, 17);
    assert.equal(pushed.offset, 13);
    assert.equal(pushed.rows[4]!.rowId, 30);
    // Following the top: offset 0 whatever the anchor.
    const top = c.computeWindow({ query, offset: 10, count: 3, anchor: { rowId: 30, index: 17 }, follow: 'top' });
    assert.equal(top.offset, 0);
    assert.equal(top.rows[0]!.rowId, 47);
    const bottom = c.computeWindow({ query, offset: 0, count: 3, anchor: null, follow: 'bottom' });
    assert.equal(bottom.offset, 45);
    // Clicking a row opens the inspector on it.
    await c.handle({ kind: 'request', id: 3, method: 'openInspector', params: { rowId: 30 } });
    const row = tail.index.row(30);
    assert.deepEqual(a.calls[0], ['openInspector', dir, row.problemId, row.sampleId, row.line]);
    // Two marked rows open the trace diff with the full traces.
    await c.handle({ kind: 'request', id: 4, method: 'diffRows', params: { left: 0, right: 1 } });
    const [, left, right] = a.calls[1] as [string, TraceText, TraceText];
    assert.equal(left.text, syntheticGroup(0).samples[0]!.trace);
    assert.equal(right.text, syntheticGroup(0).samples[1]!.trace);
    // An invalid regex is answered as a search state, not an error.
    await c.handle({
      kind: 'request',
      id: 5,
      method: 'window',
      params: { query: RunQuerySchema.parse({ filter: { search: '(' } }), offset: 0, count: 5 },
    });
    const bad = WindowResultSchema.parse(r.sent.find((m) => m.id === 5)!.result);
    assert.equal(bad.search.state, 'invalid');
    assert.equal(bad.total, 0);
  } finally {
    c.dispose();
    tail.dispose();
  }
});

test('inspector: the full sample with baseline attempts and reward arithmetic; a sample not there yet is waited for', async () => {
  const dir = runDir(3);
  const tail = await started(dir);
  const g = syntheticGroup(1);
  const r = recorder();
  const c = new InspectorController(
    tail,
    { runDir: dir, problemId: g.problem_id, sampleId: g.samples[2]!.sample_id, line: null },
    r.post,
    actions(),
  );
  try {
    await c.handle({ kind: 'notify', method: 'ready', params: { protocol: 1 } });
    assert.deepEqual(
      r.sent.map((m) => m.method),
      ['init', 'sample'],
    );
    const d = InspectorDataSchema.parse(r.sent[1]!.params);
    assert.equal(d.sample.trace, g.samples[2]!.trace);
    assert.equal(d.baseline.attempts.length, g.baseline.attempts.length);
    assert.equal(d.sample.with_trace.attempts.length, 3);
    assert.equal(d.siblings.length, 4);
    assert.equal(d.line, 3);
    // A sample of a group not written yet: waiting in a live run…
    const later = syntheticGroup(5);
    c.show({ runDir: dir, problemId: later.problem_id, sampleId: later.samples[0]!.sample_id, line: null });
    const st = r.of('status').pop()!.params as { level: string; message: string };
    assert.equal(st.level, 'info');
    assert.match(st.message, /Waiting/);
    // …and shown when it arrives.
    fs.appendFileSync(
      path.join(dir, 'events.jsonl'),
      eventLine(syntheticGroup(3)) + eventLine(syntheticGroup(4)) + eventLine(later) + eventLine(syntheticEnded()),
    );
    const until = Date.now() + 3000;
    while (
      Date.now() < until &&
      !r.sent.some((m) => m.method === 'sample' && (m.params as { problemId: string }).problemId === later.problem_id)
    )
      await new Promise((res) => setTimeout(res, 20));
    assert.ok(r.sent.some((m) => m.method === 'sample' && (m.params as { problemId: string }).problemId === later.problem_id));
    // In an ended run, a missing sample is an error.
    c.show({ runDir: dir, problemId: 'nope', sampleId: 'nope', line: null });
    assert.equal((r.of('status').pop()!.params as { level: string }).level, 'error');
  } finally {
    c.dispose();
    tail.dispose();
  }
});

test('trace diff of a TraceLift-Groups record: reference vs each negative, labelled; bad files and indexes are reported', async () => {
  const r = recorder();
  const a = actions();
  const c = new TraceDiffController({ mode: 'groups', groupsFile: FIXTURE, recordIndex: 0 }, r.post, a);
  await c.handle({ kind: 'notify', method: 'ready', params: { protocol: 1 } });
  await settle(() => r.of('diff').length > 0);
  const d = DiffViewSchema.parse(r.of('diff')[0]!.params);
  assert.deepEqual(
    d.pairs.map((p) => p.kind),
    ['calculation_error', 'incomplete_reasoning', 'irrelevant'],
  );
  assert.equal(d.pairs[0]!.rubricTotal, 0.35);
  assert.deepEqual(
    d.pairs[0]!.rubric.find((x) => x.name === 'calculation_correctness'),
    { name: 'calculation_correctness', value: 0 },
  );
  const irrelevant = d.pairs[2]!;
  assert.ok(
    irrelevant.segments.some((s) => s.op === 'ins' && s.text.includes("<script>alert('x')</script>")),
    'markup stays text in the segments',
  );
  await c.handle({ kind: 'request', id: 1, method: 'openInDiffEditor', params: { pair: 2 } });
  const [, left, right] = a.calls[0] as [string, TraceText, TraceText];
  assert.match(left.text, /Janet sells 16 - 3 - 4/);
  assert.match(right.text, /^<script>/);

  for (const [restore, pattern] of [
    [{ mode: 'groups', groupsFile: FIXTURE, recordIndex: 999 }, /there is no record 999/],
    [{ mode: 'groups', groupsFile: path.join(tmp(), 'missing.jsonl'), recordIndex: 0 }, /not found/],
  ] as const) {
    const rr = recorder();
    const cc = new TraceDiffController(restore, rr.post, a);
    await cc.handle({ kind: 'notify', method: 'ready', params: { protocol: 1 } });
    await settle(() => rr.of('status').length > 0);
    const s = rr.of('status')[0]!.params as { level: string; message: string };
    assert.equal(s.level, 'error');
    assert.match(s.message, pattern);
  }
  const badFile = path.join(tmp(), 'bad.jsonl');
  fs.writeFileSync(badFile, '{"problem_id": 1, "source": "x"}\n');
  const rb = recorder();
  const cb = new TraceDiffController({ mode: 'groups', groupsFile: badFile, recordIndex: 0 }, rb.post, a);
  await cb.handle({ kind: 'notify', method: 'ready', params: { protocol: 1 } });
  await settle(() => rb.of('status').length > 0);
  assert.match((rb.of('status')[0]!.params as { message: string }).message, /bad\.jsonl:1: .*field "task_type"/);
});

test('compare runs: per-problem success and uplift deltas (B − A), windows and presence filters', async () => {
  const dirA = runDir(6, true);
  const dirB = tmp();
  let text = eventLine(syntheticStarted());
  for (let i = 2; i < 9; i++) text += eventLine(syntheticGroup(i, { seed: 2 }));
  fs.writeFileSync(path.join(dirB, 'events.jsonl'), text);
  const [ta, tb] = [await started(dirA), await started(dirB)];
  const r = recorder();
  const a = actions();
  const c = new CompareController(ta, tb, r.post, a, { throttleMs: 10 });
  try {
    await c.handle({ kind: 'notify', method: 'ready', params: { protocol: 1 } });
    const st = CompareStateSchema.parse(r.of('compareState')[0]!.params);
    assert.deepEqual(st.counts, { both: 4, onlyA: 2, onlyB: 3 });
    assert.equal(st.a.status, 'completed');
    assert.equal(st.b.status, 'running');
    const w = c.computeWindow({ query: { task: null, presence: 'both', sort: 'problem', dir: 'asc' }, offset: 0, count: 50 });
    assert.equal(w.total, 4);
    const row = w.rows.find((x) => x.problemId === syntheticGroup(3).problem_id)!;
    const mean = (xs: Array<number | null>) => xs.filter((x): x is number => x !== null).reduce((s, x, _, arr) => s + x / arr.length, 0);
    const ua = mean(syntheticGroup(3).samples.map((s) => s.uplift));
    const ub = mean(syntheticGroup(3, { seed: 2 }).samples.map((s) => s.uplift));
    assert.ok(Math.abs(row.deltaUplift! - (ub - ua)) < 1e-9);
    assert.equal(
      c.computeWindow({ query: { task: null, presence: 'all', sort: 'absDeltaUplift', dir: 'desc' }, offset: 0, count: 50 }).total,
      9,
    );
    const onlyB = c.computeWindow({ query: { task: null, presence: 'onlyB', sort: 'problem', dir: 'asc' }, offset: 0, count: 50 });
    assert.ok(onlyB.rows.every((x) => x.a === null && x.b !== null && x.deltaUplift === null));
    await c.handle({ kind: 'request', id: 1, method: 'openInspectorFor', params: { side: 'b', task: row.task, problemId: row.problemId } });
    assert.equal((a.calls[0] as unknown[])[1], dirB);
  } finally {
    c.dispose();
    ta.dispose();
    tb.dispose();
  }
});
