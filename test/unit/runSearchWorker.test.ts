/**
 * The run view's regex search runs on a worker thread with a deadline: a
 * catastrophic pattern times out while the host's event loop keeps turning,
 * and a new query stops the previous query's thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { RunQuerySchema } from '../../src/webviewProtocol';
import { rowQuery } from '../../src/extension/views/webviews/runMessages';
import { RunTail } from '../../src/extension/services/runs/runTail';
import { eventLine, syntheticEnded, syntheticGroup, syntheticStarted } from '../../src/extension/services/runs/syntheticRun';

/** A finished run of `groups` groups of 4 traces (~300 characters each). */
function writeRun(groups: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-search-'));
  const lines = [eventLine(syntheticStarted())];
  for (let i = 0; i < groups; i++) lines.push(eventLine(syntheticGroup(i, { samples: 4, k: 1, m: 1, traceChars: 300, outputChars: 20 })));
  lines.push(eventLine(syntheticEnded()));
  fs.writeFileSync(path.join(dir, 'events.jsonl'), lines.join(''));
  return dir;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const query = (search: string) => rowQuery(RunQuerySchema.parse({ filter: { search } }));

test('a catastrophic pattern over a few thousand traces times out within the deadline; the host keeps answering meanwhile', async () => {
  const dir = writeRun(1000);
  const deadlineMs = 1500;
  const tail = new RunTail(dir, { pollMs: 0, watch: false, searchDeadlineMs: deadlineMs }).start();
  try {
    await tail.whenIdle();
    assert.equal(tail.index.rowCount, 4000);
    const delay = monitorEventLoopDelay({ resolution: 10 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    delay.enable();
    const t0 = Date.now();
    // (.+)+ with no "QQQ" in any trace backtracks exponentially on every trace.
    const q = query('(.+)+QQQ');
    assert.equal(tail.index.view(q).search.state, 'scanning');
    tail.kick();
    await until(() => tail.index.view(q).search.state !== 'scanning', deadlineMs + 8000, 'the search to stop');
    const elapsed = Date.now() - t0;
    delay.disable();
    clearInterval(timer);
    const search = tail.index.view(q).search;
    assert.equal(search.state, 'timeout');
    assert.equal(search.message?.startsWith('search timed out after 1.5 s'), true, search.message ?? '');
    assert.ok(elapsed >= deadlineMs - 50, `stopped by the deadline, not earlier (${elapsed} ms)`);
    assert.ok(elapsed < deadlineMs + 6000, `reported soon after the deadline (${elapsed} ms)`);
    const maxDelayMs = delay.max / 1e6;
    assert.ok(maxDelayMs < 250, `the event loop never stalled (max delay ${maxDelayMs.toFixed(0)} ms)`);
    assert.ok(ticks >= (elapsed / 20) * 0.5, `a main-thread timer kept firing (${ticks} ticks in ${elapsed} ms)`);
    // A timed-out search is remembered (asking again does not rerun it) and lists no rows it did not search.
    assert.equal(tail.index.view(q).search.state, 'timeout');
    assert.equal(tail.index.view(q).view.n, 0);
  } finally {
    tail.dispose();
  }
});

test('a new query stops the previous query’s thread; the new search finishes and matches exactly', async () => {
  const dir = writeRun(200);
  const tail = new RunTail(dir, { pollMs: 0, watch: false, searchDeadlineMs: 60_000 }).start();
  try {
    await tail.whenIdle();
    const slow = query('(.+)+QQQ');
    tail.index.view(slow);
    tail.kick();
    await new Promise((r) => setTimeout(r, 300)); // the slow search's thread is busy now
    const t0 = Date.now();
    const fast = query('bolts|apples');
    assert.equal(tail.index.view(fast).search.state, 'scanning');
    tail.kick();
    await until(() => tail.index.view(fast).search.state === 'done', 20_000, 'the new search');
    assert.ok(Date.now() - t0 < 20_000);
    // The slow search did not finish and did not time out: it was stopped, and waits to be asked again.
    assert.equal(tail.index.view(slow).search.state, 'scanning');
    const { view } = tail.index.view(fast);
    const expected: number[] = [];
    for (let i = 0; i < tail.index.rowCount; i++) if (/bolts|apples/i.test(tail.index.sampleRow(i).trace)) expected.push(i);
    const got = tail.index
      .rowsAt(view, 0, view.n)
      .map((r) => r.rowId)
      .sort((a, b) => a - b); // listed newest first
    assert.deepEqual(got, expected);
    assert.ok(expected.length > 0, 'the benign pattern matches some traces');
  } finally {
    tail.dispose();
  }
});
