import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunWriter, sampleRows } from '../../src/engine/run/runDir';
import { SummaryBuilder } from '../../src/engine/run/summary';
import { lastCompleteLine } from '../../src/engine/run/runReader';
import { RunIndex } from '../../src/extension/services/runs/runIndex';
import { describeRun, listRunDirs, scanRun } from '../../src/extension/services/runScan';
import { rolloutGroup } from '../helpers/runFixtures';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tl-ext-runs-'));
const started = { time: 't', type: 'run_started', run_id: 'run-1', run_kind: 'eval', engine_version: '0', config: {} } as const;

function writeRun(dir: string, groups: number, ended: boolean): void {
  const { writer } = RunWriter.open(dir);
  writer.writeConfig({
    task: 'gsm8k',
    split: 'test',
    limit: 10,
    trace_source: { kind: 'file', path: '/x/groups.jsonl', format: 'groups' },
    executor: {},
  });
  writer.append(started);
  const summary = new SummaryBuilder();
  for (let i = 0; i < groups; i++) {
    const g = writer.append(rolloutGroup(`p${i}`, i)) as ReturnType<typeof rolloutGroup>;
    writer.appendSampleRows(g);
    summary.add(g);
  }
  writer.writeSummary(summary.build('run-1', ended ? 'completed' : 'running'));
  if (ended) writer.append({ time: 't', type: 'run_ended', status: 'completed', message: null });
}

test('a finished run: status from its last event, summary figures, trace source', () => {
  const root = tmp();
  const dir = path.join(root, 'gsm8k-1');
  writeRun(dir, 2, true);
  fs.mkdirSync(path.join(root, 'not-a-run'));
  assert.deepEqual(listRunDirs(root), [dir]);
  const info = scanRun(dir);
  assert.equal(info.status, 'completed');
  assert.equal(info.live, false);
  assert.equal(info.kind, 'eval');
  assert.equal(info.runId, 'run-1');
  assert.equal(info.task, 'gsm8k');
  assert.equal(info.traceSource, 'groups: groups.jsonl');
  assert.equal(info.traceFile, '/x/groups.jsonl');
  assert.equal(info.summary?.micro.problems, 2);
  assert.match(describeRun(info), /^completed · 2 problems · uplift \+0\.000/);
});

test('a run without run_ended is live while written recently, interrupted after', () => {
  const dir = path.join(tmp(), 'r');
  writeRun(dir, 1, false);
  fs.appendFileSync(path.join(dir, 'events.jsonl'), '{"time":"t","type":"rollout_gr'); // mid-append
  assert.equal(lastCompleteLine(path.join(dir, 'events.jsonl'))?.includes('rollout_group'), true);
  const live = scanRun(dir);
  assert.equal(live.live, true);
  assert.equal(live.status, 'running');
  assert.match(describeRun(live), /^live · 1\/10 problems/);
  const later = scanRun(dir, { now: Date.now() + 3_600_000 });
  assert.equal(later.live, false);
  assert.equal(later.status, 'interrupted');
  const ours = scanRun(dir, { now: Date.now() + 3_600_000, activeDirs: new Set([path.resolve(dir)]) });
  assert.equal(ours.live, true);
});

test('a damaged summary is named and the run still lists', () => {
  const dir = path.join(tmp(), 'r');
  writeRun(dir, 1, true);
  fs.writeFileSync(path.join(dir, 'summary.json'), '{"run_id": 3');
  const info = scanRun(dir);
  assert.equal(info.status, 'completed');
  assert.equal(info.summary, null);
  assert.match(info.issues[0]!, /summary\.json/);
});

/** Reads what the run's events.jsonl holds now into the index, chunk by chunk (as the run store does). */
async function catchUp(index: RunIndex): Promise<number> {
  const before = index.rowCount;
  for (;;) {
    const batch = await index.readMore(200);
    if (batch.consumed === 0 || index.pendingBytes === 0) return index.rowCount - before;
  }
}

test("the explorer's problems and samples come from the shared run index, read incrementally; bad lines named; a cut line waits", async () => {
  const dir = path.join(tmp(), 'r');
  writeRun(dir, 2, false);
  const index = new RunIndex(dir);
  assert.equal(await catchUp(index), 4);
  assert.deepEqual(
    index.problems().map((p) => p.problemId),
    ['p0', 'p1'],
  );
  const s = index.problemsWithId('p0')[0]!.samples[0]!;
  assert.equal(s.sampleId, 'p0#pos0');
  assert.equal(s.k, 2);
  assert.equal(s.line, 2, 'line of its group in events.jsonl (after run_started)');
  assert.ok(!('trace' in s), 'trace texts are not kept');

  const events = path.join(dir, 'events.jsonl');
  const g2 = JSON.stringify(rolloutGroup('p2', 2));
  fs.appendFileSync(events, `{"type": "rollout_group"}\n${g2.slice(0, 30)}`);
  assert.equal(await catchUp(index), 0, 'a cut line waits');
  assert.equal(index.issueCount, 1);
  assert.equal(index.recentIssues[0]!.line, 4);
  assert.match(index.recentIssues[0]!.message, /field "/);
  fs.appendFileSync(events, `${g2.slice(30)}\n`);
  assert.equal(await catchUp(index), 2);
  assert.equal(index.problemsWithId('p2')[0]!.samples[1]!.line, 5);
  assert.equal(index.problemCount, 3);
  assert.deepEqual(
    index.problems(1, 1).map((p) => p.problemId),
    ['p1'],
    'a page of problems',
  );
});

test('a sample row is read back whole (with its trace) from its group', async () => {
  const dir = path.join(tmp(), 'r');
  writeRun(dir, 2, true);
  fs.rmSync(path.join(dir, 'samples.jsonl')); // the index reads events.jsonl only
  const index = new RunIndex(dir);
  await catchUp(index);
  const neg = index.problemsWithId('p1')[0]!.samples[1]!;
  const row = index.sampleRow(neg.rowId);
  assert.equal(row.sample_id, 'p1#neg0');
  assert.equal(row.trace, 'trace neg0 <b>bold</b>');
  assert.equal(row.with_trace_successes, 0);
  assert.deepEqual(row, sampleRows(rolloutGroup('p1', 1))[1]);
});
