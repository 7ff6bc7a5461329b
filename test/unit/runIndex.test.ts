import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readEvents } from '../../src/engine/run/runDir';
import { SummaryBuilder } from '../../src/engine/run/summary';
import { RunIndex, makePreview, queryKey } from '../../src/extension/services/runs/runIndex';
import { eventLine, syntheticEnded, syntheticGroup, syntheticStarted } from '../../src/extension/services/runs/syntheticRun';
import { runStateMessage } from '../../src/extension/views/webviews/runMessages';
import { RunQuerySchema, type RunQuery } from '../../src/webviewProtocol';
import type { RolloutGroup } from '../../src/engine/contract';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tl-index-'));

/** Feeds bytes to an index the way the tailer does: whatever is not consumed is offered again with more bytes. */
function feed(idx: RunIndex, bytes: Buffer, pieces: number[]): void {
  let pending = Buffer.alloc(0);
  let pos = 0;
  for (const n of [...pieces, bytes.length]) {
    const next = bytes.subarray(pos, Math.min(bytes.length, pos + n));
    pos += next.length;
    pending = Buffer.concat([pending, next]);
    const { consumed } = idx.ingest(pending, idx.offset);
    pending = pending.subarray(consumed);
    if (pos >= bytes.length) break;
  }
  idx.reader.size = bytes.length;
}

function runFile(groups: number, extra: (i: number) => string = () => ''): { dir: string; text: string } {
  const dir = tmp();
  let text = eventLine(syntheticStarted());
  for (let i = 0; i < groups; i++) text += eventLine(syntheticGroup(i)) + extra(i);
  fs.writeFileSync(path.join(dir, 'events.jsonl'), text);
  return { dir, text };
}

test('the index reads lines exactly as readEvents does: same events, same issues (line and field)', () => {
  const { dir } = runFile(6, (i) =>
    i === 1
      ? '{oops\n'
      : i === 2
        ? '\n' + JSON.stringify({ time: 't', type: 'step_metrics', step: -1, metrics: {} }) + '\n'
        : i === 3
          ? JSON.stringify({ type: 'nope' }) + '\n'
          : '',
  );
  fs.appendFileSync(path.join(dir, 'events.jsonl'), '{"time":"t","type":"run_ended","sta'); // cut last line
  const ref = readEvents(dir);
  const idx = new RunIndex(dir);
  const bytes = fs.readFileSync(path.join(dir, 'events.jsonl'));
  feed(idx, bytes, [7, 100, 3, 5000, 1, 20000]);
  assert.equal(idx.offset, ref.offset, 'stops after the last complete line');
  assert.deepEqual(
    idx.recentIssues.map((i) => [i.line, i.message]),
    ref.issues.map((i) => [i.line, i.message]),
  );
  assert.equal(idx.groupCount, ref.events.filter((e) => e.type === 'rollout_group').length);
  assert.equal(idx.rowCount, 6 * 4);
  assert.ok(idx.pendingBytes > 0, 'the cut line is pending');
  assert.equal(idx.status, 'running');
  assert.match(idx.recentIssues[1]!.message, /field "step"/);
});

test('a truncated last line is read once it is completed; run_ended ends the run; a resumed start makes it live again', () => {
  const dir = tmp();
  const idx = new RunIndex(dir);
  assert.equal(idx.status, 'waiting');
  const start = Buffer.from(eventLine(syntheticStarted()) + eventLine(syntheticGroup(0)).slice(0, 50));
  idx.ingest(start, 0);
  assert.equal(idx.groupCount, 0);
  assert.equal(idx.status, 'running');
  const rest = Buffer.concat([
    start.subarray(idx.offset),
    Buffer.from(eventLine(syntheticGroup(0)).slice(50) + eventLine(syntheticEnded('failed'))),
  ]);
  idx.ingest(rest, idx.offset);
  assert.equal(idx.groupCount, 1);
  assert.equal(idx.status, 'failed');
  idx.ingest(Buffer.from(JSON.stringify({ ...syntheticStarted(), resumed: true }) + '\n'), idx.offset);
  assert.equal(idx.status, 'running');
});

test('summary figures match the engine SummaryBuilder; histogram and reward series stay bounded', () => {
  const groups: RolloutGroup[] = Array.from({ length: 300 }, (_, i) => syntheticGroup(i, { tasks: ['gsm8k', 'svamp', 'math500'] }));
  const idx = new RunIndex('/nowhere');
  idx.ingest(Buffer.from(groups.map(eventLine).join('')), 0);
  const sb = new SummaryBuilder();
  for (const g of groups) sb.add(g);
  const want = sb.build('r', 'running');
  // The same accumulator as summary.json: the same figures, exactly.
  assert.deepEqual(idx.summary(), want.micro);
  assert.deepEqual(
    runStateMessage(idx).tasks.map((t) => [t.task, t.figures.groups]),
    want.tasks.map((t) => [t.task, t.problems]),
  );
  const st = runStateMessage(idx);
  assert.deepEqual(st.tasks.map((t) => t.task).sort(), ['gsm8k', 'math500', 'svamp']);
  assert.equal(st.histogram.bins.reduce((a, b) => a + b, 0) + st.histogram.unknown, 1200);
  assert.ok(st.rewardSeries.points.length <= 256);
  // A long run still has at most 256 buckets.
  const big = new RunIndex('/nowhere');
  big.ingest(
    Buffer.from(
      Array.from({ length: 1000 }, (_, i) => eventLine(syntheticGroup(i, { samples: 1, traceChars: 10, outputChars: 5 }))).join(''),
    ),
    0,
  );
  assert.ok(runStateMessage(big).rewardSeries.points.length <= 256);
});

test('compact rows carry ids, k/K, baseline, uplift, reward, flags and a short preview; the full group is re-read from disk', () => {
  const { dir } = runFile(5);
  const idx = new RunIndex(dir, { previewChars: 40 });
  idx.ingest(fs.readFileSync(path.join(dir, 'events.jsonl')), 0);
  const g3 = syntheticGroup(3);
  const rowId = idx.findSample(g3.problem_id, g3.samples[2]!.sample_id);
  const row = idx.row(rowId);
  const s = g3.samples[2]!;
  assert.equal(row.problemId, g3.problem_id);
  assert.equal(row.k, s.with_trace.tally.successes);
  assert.equal(row.K, s.with_trace.tally.valid);
  assert.equal(row.baselineRate, g3.baseline.tally.rate);
  assert.equal(row.uplift, s.uplift);
  assert.equal(row.reward, s.reward?.value ?? null);
  assert.equal(row.line, 5, 'line of the group (after run_started and groups 0–2)');
  assert.ok(row.preview.length <= 40);
  const full = idx.readGroup(idx.groupOf(rowId).group);
  assert.deepEqual(JSON.parse(JSON.stringify(full)), JSON.parse(JSON.stringify(g3)));
  assert.equal(idx.findSample(g3.problem_id, 'no-such-sample'), -1);
  assert.equal(idx.findSample(g3.problem_id, s.sample_id, 99), -1, 'the line disambiguates');
});

test('a trace, sample id or label holding hidden characters flags its row "hidden-text" (not an error); tabs and line breaks do not', () => {
  const g = syntheticGroup(0, { samples: 4 });
  g.samples[0]!.trace = 'the answer is \u202E81';
  g.samples[1]!.sample_id = 'sample\u200B1';
  g.samples[2]!.label = 'calc\u2066error';
  g.samples[3]!.trace = 'line one\n\tline two\r\n';
  g.samples[3]!.label = null;
  const idx = new RunIndex('/nowhere');
  idx.ingest(Buffer.from(eventLine(g)), 0);
  const hidden = [0, 1, 2, 3].map((i) => idx.row(i).flags.includes('hidden-text'));
  assert.deepEqual(hidden, [true, true, true, false]);
  const errorsOnly = viewIds(idx, RunQuerySchema.parse({ filter: { errorsOnly: true } }));
  assert.deepEqual(
    errorsOnly,
    [0, 1, 2, 3].filter((i) => idx.row(i).flags.some((f) => f !== 'no-reward' && f !== 'hidden-text')),
    'hidden text alone does not make a row an error',
  );
  // A problem id (or task) with hidden characters flags every row of its group.
  const g2 = syntheticGroup(1, { samples: 2 });
  g2.problem_id = 'gsm8k/\u202E7';
  const idx2 = new RunIndex('/nowhere');
  idx2.ingest(Buffer.from(eventLine(g2)), 0);
  assert.deepEqual(
    [0, 1].map((i) => idx2.row(i).flags.includes('hidden-text')),
    [true, true],
  );
});

test('a later group event of the same (step, problem_id) supersedes the earlier one: only its rows are listed and counted', () => {
  const first = [0, 1, 2].map((i) => syntheticGroup(i));
  // Problem 1 re-scored by a resume: the same (step, problem_id), other figures.
  const again = syntheticGroup(1, { seed: 7 });
  assert.equal(again.problem_id, first[1]!.problem_id);
  const queries = [
    RunQuerySchema.parse({ sort: { key: 'arrival', dir: 'asc' } }),
    RunQuerySchema.parse({ sort: { key: 'arrival', dir: 'desc' } }),
    RunQuerySchema.parse({ sort: { key: 'uplift', dir: 'desc' } }),
    RunQuerySchema.parse({ filter: { task: first[1]!.task } }),
  ];
  const live = new RunIndex('/nowhere');
  live.ingest(Buffer.from(first.map(eventLine).join('')), 0);
  for (const q of queries) viewIds(live, q); // lists built before the re-score
  live.ingest(Buffer.from(eventLine(again)), live.offset);
  const whole = new RunIndex('/nowhere');
  whole.ingest(Buffer.from([...first, again].map(eventLine).join('')), 0);
  // Rows 4–7 are the first event of problem 1; rows 12–15 its later event.
  const old = [4, 5, 6, 7];
  for (const idx of [live, whole]) {
    assert.equal(idx.rowCount, 16, 'the index keeps every row');
    assert.equal(idx.liveRowCount, 12, 'the superseded group does not count');
    for (const q of queries) {
      const ids = viewIds(idx, q);
      assert.deepEqual(ids, naive(idx, q), queryKey(q));
      assert.ok(!ids.some((id) => old.includes(id)), `no superseded row listed: ${queryKey(q)}`);
    }
    assert.deepEqual(viewIds(idx, queries[0]!), [0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15]);
    for (const id of old) {
      assert.ok(idx.isSuperseded(id));
      assert.ok(idx.row(id).flags.includes('superseded'), 'a row read directly says it is superseded');
    }
    assert.ok(!idx.isSuperseded(12));
    const p1 = idx.problems().find((p) => p.problemId === again.problem_id)!;
    assert.deepEqual(
      p1.samples.map((r) => r.rowId),
      [12, 13, 14, 15],
    );
    assert.equal(idx.findSample(again.problem_id, again.samples[0]!.sample_id), 12, 'the latest sample is found');
    assert.equal(idx.row(12).uplift, again.samples[0]!.uplift);
  }
});

test('the same problem at another training step is not superseded', () => {
  const a = syntheticGroup(0, { groupsPerStep: 1 });
  const b = { ...syntheticGroup(0, { groupsPerStep: 1, seed: 3 }), step: 1 };
  const idx = new RunIndex('/nowhere');
  idx.ingest(Buffer.from(eventLine(a) + eventLine(b)), 0);
  assert.equal(idx.liveRowCount, 8);
  assert.deepEqual(viewIds(idx, RunQuerySchema.parse({ sort: { key: 'arrival', dir: 'asc' } })), [0, 1, 2, 3, 4, 5, 6, 7]);
});

test('makePreview collapses whitespace and bounds the length', () => {
  assert.equal(makePreview('a\n\n  b\tc', 10), 'a b c');
  const long = makePreview('x'.repeat(500), 20);
  assert.equal(long.length, 20);
  assert.ok(long.endsWith('…'));
  assert.equal(makePreview('<script>alert(1)</script>', 100), '<script>alert(1)</script>', 'text stays text');
});

// ------------------------------------------------------------------ queries

function naive(idx: RunIndex, q: RunQuery, match?: (trace: string) => boolean, traces?: string[]): number[] {
  const rows = Array.from({ length: idx.rowCount }, (_, i) => idx.row(i));
  const f = q.filter;
  const kept = rows.filter((r) => {
    if (f.task !== null && r.task !== f.task) return false;
    const u = r.uplift;
    if (f.upliftSign === 'positive' && !(u !== null && u > 0)) return false;
    if (f.upliftSign === 'negative' && !(u !== null && u < 0)) return false;
    if (f.upliftSign === 'zero' && u !== 0) return false;
    if (f.upliftSign === 'unknown' && u !== null) return false;
    if (f.upliftMin !== null && !(u !== null && u >= f.upliftMin)) return false;
    if (f.upliftMax !== null && !(u !== null && u <= f.upliftMax)) return false;
    if (f.success !== 'any') {
      const ok = r.e2e !== null ? r.e2e >= 0.5 : (r.withRate ?? -1) >= 0.5;
      if (ok !== (f.success === 'success')) return false;
    }
    if (r.flags.includes('superseded')) return false;
    if (f.errorsOnly && !r.flags.some((x) => x !== 'no-reward' && x !== 'hidden-text')) return false;
    if (match && !match(traces![r.rowId]!)) return false;
    return true;
  });
  const key = q.sort.key;
  const val = (r: (typeof rows)[number]) =>
    key === 'uplift'
      ? r.uplift
      : key === 'reward'
        ? r.reward
        : key === 'rm'
          ? r.rm
          : key === 'baseline'
            ? r.baselineRate
            : key === 'withRate'
              ? r.withRate
              : r.rowId;
  const asc = q.sort.dir === 'asc';
  kept.sort((a, b) => {
    const va = val(a);
    const vb = val(b);
    if (va === null || vb === null) {
      if (va !== vb) return va === null ? 1 : -1;
    } else if (va !== vb) return asc ? va - vb : vb - va;
    return asc ? a.rowId - b.rowId : b.rowId - a.rowId;
  });
  return kept.map((r) => r.rowId);
}

function viewIds(idx: RunIndex, q: RunQuery): number[] {
  const { view } = idx.view(q);
  return Array.from({ length: view.n }, (_, p) => idx.idAt(view, p));
}

test('filtered, sorted range queries agree with a naive filter+sort, also when rows arrive after the view was built', () => {
  const groups = Array.from({ length: 120 }, (_, i) => syntheticGroup(i, { tasks: ['gsm8k', 'svamp'] }));
  const idx = new RunIndex('/nowhere');
  idx.ingest(Buffer.from(groups.slice(0, 60).map(eventLine).join('')), 0);
  const queries: RunQuery[] = [];
  for (const key of ['arrival', 'uplift', 'reward', 'rm', 'baseline', 'withRate'] as const)
    for (const dir of ['asc', 'desc'] as const)
      for (const filter of [
        {},
        { task: 'svamp' },
        { upliftSign: 'positive' as const },
        { upliftSign: 'negative' as const, success: 'failure' as const },
        { upliftMin: -0.2, upliftMax: 0.3 },
        { upliftSign: 'zero' as const },
        { upliftSign: 'unknown' as const },
        { errorsOnly: true },
        { success: 'success' as const, task: 'gsm8k' },
        { task: 'not-a-task' },
      ])
        queries.push(RunQuerySchema.parse({ filter, sort: { key, dir } }));
  for (const q of queries) assert.deepEqual(viewIds(idx, q), naive(idx, q), queryKey(q));
  // More rows arrive: the cached views are extended incrementally.
  idx.ingest(Buffer.from(groups.slice(60).map(eventLine).join('')), idx.offset);
  for (const q of queries) {
    const ids = viewIds(idx, q);
    assert.deepEqual(ids, naive(idx, q), `after arrivals: ${queryKey(q)}`);
    const { view } = idx.view(q);
    for (const probe of [0, Math.floor(ids.length / 2), ids.length - 1]) {
      if (ids[probe] === undefined) continue;
      assert.equal(idx.positionOf(view, ids[probe]!), probe, 'positionOf finds a row by binary search');
    }
    const missing = Array.from({ length: idx.rowCount }, (_, i) => i).find((i) => !ids.includes(i));
    if (missing !== undefined) assert.equal(idx.positionOf(view, missing), -1);
    const win = idx.rowsAt(view, 5, 7).map((r) => r.rowId);
    assert.deepEqual(win, ids.slice(5, 12), 'a window is a slice of the list');
  }
});

test('regex search covers the full trace (not just the preview), scans groups from disk on a worker thread, older ones first, then new ones', async () => {
  const dir = tmp();
  const file = path.join(dir, 'events.jsonl');
  const groups = Array.from({ length: 40 }, (_, i) => {
    const g = syntheticGroup(i, { traceChars: 400 });
    if (i % 5 === 0) g.samples[1]!.trace += ' NEEDLE-at-the-very-end';
    return g;
  });
  fs.writeFileSync(file, groups.slice(0, 30).map(eventLine).join(''));
  const idx = new RunIndex(dir, { previewChars: 40 });
  idx.ingest(fs.readFileSync(file), 0);
  const q = RunQuerySchema.parse({ filter: { search: 'needle-AT' } });
  let { view, search } = idx.view(q);
  assert.equal(search.state, 'scanning');
  assert.equal(view.n, 0, 'older rows are not listed until scanned');
  const entry = idx.pendingSearches()[0]!;
  while (await idx.scanSearch(entry, 20_000));
  ({ view, search } = idx.view(q));
  assert.equal(search.state, 'done');
  assert.equal(view.n, 6);
  const traces = groups.flatMap((g) => g.samples.map((s) => s.trace));
  fs.appendFileSync(file, groups.slice(30).map(eventLine).join(''));
  const buf = fs.readFileSync(file).subarray(idx.offset);
  idx.ingest(buf, idx.offset);
  assert.equal(idx.view(q).search.state, 'scanning', 'new rows are searched after they arrive');
  assert.equal(idx.view(q).view.n, 6, 'and listed once searched');
  while (await idx.scanSearch(entry));
  const ids = viewIds(idx, q);
  assert.deepEqual(
    ids,
    naive(idx, q, (t) => /needle-AT/i.test(t), traces),
  );
  assert.equal(ids.length, 8);
  // Case-sensitive: no match.
  const cs = RunQuerySchema.parse({ filter: { search: 'needle-AT', caseSensitive: true } });
  const e2 = idx.search('needle-AT', true);
  assert.ok('entry' in e2);
  while (await idx.scanSearch(e2.entry));
  assert.equal(idx.view(cs).search.state, 'done');
  assert.equal(idx.view(cs).view.n, 0);
  // Invalid regex: reported, not thrown.
  const bad = idx.view(RunQuerySchema.parse({ filter: { search: '([unclosed' } }));
  assert.equal(bad.search.state, 'invalid');
  assert.match(bad.search.message!, /Invalid regular expression/);
  assert.equal(bad.view.n, 0);
  idx.dispose();
});

test('reset forgets everything (a replaced file is re-read from the start)', () => {
  const idx = new RunIndex('/nowhere');
  idx.ingest(Buffer.from(eventLine(syntheticStarted()) + eventLine(syntheticGroup(0))), 0);
  idx.view(RunQuerySchema.parse({}));
  const epoch = idx.epoch;
  idx.reset();
  assert.equal(idx.rowCount, 0);
  assert.equal(idx.offset, 0);
  assert.equal(idx.status, 'waiting');
  assert.equal(idx.epoch, epoch + 1);
  idx.ingest(Buffer.from(eventLine(syntheticGroup(5))), 0);
  assert.equal(idx.view(RunQuerySchema.parse({})).view.n, 4);
});
