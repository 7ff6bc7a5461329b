import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RefCounted } from '../../src/extension/services/runs/refCounted';
import { RunTail, type RunChange } from '../../src/extension/services/runs/runTail';
import { eventLine, syntheticEnded, syntheticGroup, syntheticStarted } from '../../src/extension/services/runs/syntheticRun';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tl-tail-'));

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('tails appends as they happen, including a line written in two pieces, and notices the end of the run', async () => {
  const dir = tmp();
  const file = path.join(dir, 'events.jsonl');
  fs.writeFileSync(file, eventLine(syntheticStarted()));
  const tail = new RunTail(dir, { pollMs: 50 }).start();
  const changes: RunChange[] = [];
  tail.onChange((c) => changes.push(c));
  try {
    await until(() => tail.index.status === 'running');
    fs.appendFileSync(file, eventLine(syntheticGroup(0)) + eventLine(syntheticGroup(1)));
    await until(() => tail.index.groupCount === 2);
    const line = eventLine(syntheticGroup(2));
    fs.appendFileSync(file, line.slice(0, 100));
    await new Promise((r) => setTimeout(r, 150));
    await tail.whenIdle();
    assert.equal(tail.index.groupCount, 2, 'half a line is not read');
    assert.ok(tail.index.pendingBytes >= 100);
    fs.appendFileSync(file, line.slice(100) + '{"not json\n' + eventLine(syntheticEnded()));
    await until(() => tail.index.status === 'completed');
    assert.equal(tail.index.groupCount, 3);
    assert.equal(tail.index.issueCount, 1, 'the malformed line is reported and skipped');
    assert.equal(tail.index.recentIssues[0]!.line, 5);
    assert.ok(changes.some((c) => c.rowsAdded > 0));
    assert.equal(tail.index.pendingBytes, 0);
  } finally {
    tail.dispose();
  }
});

test('a missing run directory is reported, and picked up once it appears', async () => {
  const parent = tmp();
  const dir = path.join(parent, 'later');
  const tail = new RunTail(dir, { pollMs: 30 }).start();
  try {
    await until(() => tail.index.status === 'missing');
    assert.match(tail.index.statusMessage()!, /not found/);
    fs.mkdirSync(dir);
    await until(() => tail.index.status === 'waiting');
    assert.match(tail.index.statusMessage()!, /No events\.jsonl/);
    fs.writeFileSync(path.join(dir, 'events.jsonl'), eventLine(syntheticStarted()) + eventLine(syntheticGroup(0)));
    await until(() => tail.index.groupCount === 1);
  } finally {
    tail.dispose();
  }
});

test('a truncated or replaced file is re-read from the start', async () => {
  const dir = tmp();
  const file = path.join(dir, 'events.jsonl');
  fs.writeFileSync(file, eventLine(syntheticStarted()) + eventLine(syntheticGroup(0)) + eventLine(syntheticGroup(1)));
  const tail = new RunTail(dir, { pollMs: 30 }).start();
  const resets: RunChange[] = [];
  tail.onChange((c) => c.reset && resets.push(c));
  try {
    await until(() => tail.index.groupCount === 2);
    const tmpFile = path.join(dir, 'events.jsonl.new');
    fs.writeFileSync(tmpFile, eventLine(syntheticStarted()) + eventLine(syntheticGroup(7)));
    fs.renameSync(tmpFile, file);
    await until(() => resets.length > 0 && tail.index.groupCount === 1);
    assert.equal(tail.index.row(0).problemId, syntheticGroup(7).problem_id);
  } finally {
    tail.dispose();
  }
});

test('bounded chunks: a run larger than the chunk, and a single line longer than the chunk, are read whole', async () => {
  const dir = tmp();
  const lines = [eventLine(syntheticStarted())];
  for (let i = 0; i < 30; i++) lines.push(eventLine(syntheticGroup(i, { traceChars: i === 10 ? 20_000 : 200 })));
  fs.writeFileSync(path.join(dir, 'events.jsonl'), lines.join(''));
  const tail = new RunTail(dir, { pollMs: 0, watch: false, chunkBytes: 4096 }).start();
  try {
    await until(() => tail.index.groupCount === 30);
    await tail.whenIdle();
    assert.equal(tail.index.issueCount, 0);
    assert.equal(tail.index.offset, fs.statSync(path.join(dir, 'events.jsonl')).size);
  } finally {
    tail.dispose();
  }
});

test('shared instances are ref-counted: the last release disposes (after the grace period)', async () => {
  const disposed: string[] = [];
  const shared = new RefCounted((key) => ({ key, dispose: () => disposed.push(key) }), 0);
  const a = shared.acquire('/run');
  const b = shared.acquire('/run');
  assert.equal(a.value, b.value, 'one instance per key');
  assert.equal(shared.refs('/run'), 2);
  a.dispose();
  a.dispose();
  assert.equal(shared.refs('/run'), 1, 'dispose is idempotent');
  b.dispose();
  assert.deepEqual(disposed, ['/run']);
  assert.deepEqual(shared.keys(), []);

  const graceful = new RefCounted((key) => ({ key, dispose: () => disposed.push(`g:${key}`) }), 40);
  const c = graceful.acquire('/x');
  c.dispose();
  const d = graceful.acquire('/x'); // re-acquired within the grace period: same instance, not disposed
  assert.equal(c.value, d.value);
  await new Promise((r) => setTimeout(r, 80));
  assert.ok(!disposed.includes('g:/x'));
  d.dispose();
  await new Promise((r) => setTimeout(r, 80));
  assert.ok(disposed.includes('g:/x'));
});
