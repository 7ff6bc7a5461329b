import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunEventSchema, type RunEvent } from '../../src/engine/contract';
import { readEvents, RunWriter } from '../../src/engine/run/runDir';
import {
  eventsTail,
  firstCompleteLine,
  lastCompleteLine,
  listRunDirs,
  readLineAt,
  readRunConfig,
  readRunEdges,
  readRunSummary,
  type JsonlBatch,
} from '../../src/engine/run/runReader';
import { eventLine, syntheticEnded, syntheticGroup, syntheticStarted } from '../../src/extension/services/runs/syntheticRun';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tl-reader-'));
const eventsOf = (dir: string) => path.join(dir, 'events.jsonl');

function drain(tail: ReturnType<typeof eventsTail>, maxBytes?: number): JsonlBatch<RunEvent> {
  const all: JsonlBatch<RunEvent> = { records: [], issues: [], lines: 0, consumed: 0, restarted: false };
  for (;;) {
    const b = tail.readSync(maxBytes);
    all.records.push(...b.records);
    all.issues.push(...b.issues);
    all.lines += b.lines;
    all.consumed += b.consumed;
    all.restarted ||= b.restarted;
    if (b.consumed === 0) return all;
  }
}

test('reads in bounded chunks: each valid event with its line, byte offset and length; bad lines named and skipped', () => {
  const dir = tmp();
  const lines = [
    eventLine(syntheticStarted()),
    eventLine(syntheticGroup(0)),
    '{oops\n',
    '\n',
    JSON.stringify({ time: 't', type: 'step_metrics', step: -1, metrics: {} }) + '\n',
    eventLine(syntheticGroup(1, { traceChars: 5000 })), // longer than a chunk
    eventLine(syntheticEnded()),
  ];
  fs.writeFileSync(eventsOf(dir), lines.join(''));
  const tail = eventsTail(dir);
  const first = tail.readSync(300);
  assert.ok(first.consumed <= Math.max(300, Buffer.byteLength(lines[0]!)), 'a step reads about maxBytes');
  const rest = drain(tail, 300);
  const records = [...first.records, ...rest.records];
  const issues = [...first.issues, ...rest.issues];
  assert.deepEqual(
    records.map((r) => [r.line, r.value.type]),
    [
      [1, 'run_started'],
      [2, 'rollout_group'],
      [6, 'rollout_group'],
      [7, 'run_ended'],
    ],
  );
  assert.deepEqual(
    issues.map((i) => i.line),
    [3, 5],
  );
  assert.match(issues[0]!.message, /invalid JSON/);
  assert.match(issues[1]!.message, /field "step"/);
  // Offsets and lengths locate each line exactly: it can be read back alone.
  for (const r of records) {
    const again = readLineAt(eventsOf(dir), RunEventSchema, r);
    assert.deepEqual(again, r.value);
  }
  assert.equal(tail.offset, fs.statSync(eventsOf(dir)).size);
  assert.equal(tail.pendingBytes, 0);
  // The same as readEvents (the engine's thin use of the reader).
  const ref = readEvents(dir);
  assert.deepEqual(
    ref.events,
    records.map((r) => r.value),
  );
  assert.deepEqual(
    ref.issues.map((i) => [i.line, i.message]),
    issues.map((i) => [i.line, i.message]),
  );
});

test('a cut last line waits for its newline; an appended line continues the numbering', async () => {
  const dir = tmp();
  const line = eventLine(syntheticGroup(0));
  fs.writeFileSync(eventsOf(dir), eventLine(syntheticStarted()) + line.slice(0, 40));
  const tail = eventsTail(dir);
  const a = await tail.read();
  assert.equal(a.records.length, 1);
  assert.ok(tail.pendingBytes === 40);
  const b = await tail.read();
  assert.equal(b.consumed, 0, 'nothing new until the line ends');
  fs.appendFileSync(eventsOf(dir), line.slice(40));
  const c = await tail.read();
  assert.equal(c.records.length, 1);
  assert.equal(c.records[0]!.line, 2);
  assert.equal(tail.pendingBytes, 0);
});

test('a truncated or replaced file is noticed and read again from line 1; a removed one too', async () => {
  const dir = tmp();
  fs.writeFileSync(eventsOf(dir), eventLine(syntheticStarted()) + eventLine(syntheticGroup(0)) + eventLine(syntheticGroup(1)));
  const tail = eventsTail(dir);
  assert.equal((await tail.read()).records.length, 3);
  fs.writeFileSync(eventsOf(dir), eventLine(syntheticGroup(7))); // shorter: truncated
  const t = await tail.read();
  assert.equal(t.restarted, true);
  assert.deepEqual(
    t.records.map((r) => r.line),
    [1],
  );
  const replacement = path.join(dir, 'new.jsonl');
  fs.writeFileSync(replacement, eventLine(syntheticGroup(8)) + eventLine(syntheticGroup(9)) + eventLine(syntheticEnded()));
  fs.renameSync(replacement, eventsOf(dir)); // another inode, and longer
  const r = await tail.read();
  assert.equal(r.restarted, true);
  assert.equal(r.records.length, 3);
  fs.rmSync(eventsOf(dir));
  const gone = await tail.read();
  assert.equal(gone.restarted, true);
  assert.equal(tail.missing, true);
  assert.equal(tail.offset, 0);
});

test('cheap reads: config, summary, first and last complete line, without the log in between', () => {
  const root = tmp();
  const dir = path.join(root, 'run-a');
  const { writer } = RunWriter.open(dir);
  writer.writeConfig({ task: 'gsm8k', limit: 3 });
  writer.append(syntheticStarted());
  writer.append(syntheticGroup(0));
  fs.appendFileSync(eventsOf(dir), '{"time":"t","type":"run_en'); // mid-append
  fs.mkdirSync(path.join(root, 'not-a-run'));
  assert.deepEqual(listRunDirs(root), [dir]);
  assert.deepEqual(readRunConfig(dir), { config: { task: 'gsm8k', limit: 3 }, issue: null });
  assert.deepEqual(readRunSummary(dir), { summary: null, issue: null });
  assert.match(firstCompleteLine(eventsOf(dir))!, /run_started/);
  assert.match(lastCompleteLine(eventsOf(dir))!, /rollout_group/, 'the cut tail is ignored');
  const edges = readRunEdges(dir);
  assert.equal(edges.first?.type, 'run_started');
  assert.equal(edges.last?.type, 'rollout_group');
  assert.equal(lastCompleteLine(eventsOf(dir), 100), null, 'a last line longer than the window is not guessed');
  fs.writeFileSync(path.join(dir, 'summary.json'), '{"run_id": 3}');
  assert.match(readRunSummary(dir).issue!, /^summary\.json: .*run_id/);
  fs.writeFileSync(path.join(dir, 'config.json'), '[1]');
  assert.deepEqual(readRunConfig(dir), { config: null, issue: 'config.json: not a JSON object' });
});
