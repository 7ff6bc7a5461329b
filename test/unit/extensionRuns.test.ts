import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunWriter, sampleRows } from '../../src/engine/run/runDir';
import { SummaryBuilder } from '../../src/engine/run/summary';
import { describeRun, lastCompleteLine, listRunDirs, readSampleRow, RunSamplesReader, scanRun } from '../../src/extension/services/runScan';
import { rolloutGroup } from '../helpers/runFixtures';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tl-ext-runs-'));
const started = { time: 't', type: 'run_started', run_id: 'run-1', run_kind: 'eval', engine_version: '0', config: {} } as const;

function writeRun(dir: string, groups: number, ended: boolean): void {
  const { writer } = RunWriter.open(dir);
  writer.writeConfig({ task: 'gsm8k', split: 'test', limit: 10, trace_source: { kind: 'file', path: '/x/groups.jsonl', format: 'groups' }, executor: {} });
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

test('samples are read incrementally; bad lines are named; a cut line waits', () => {
  const dir = path.join(tmp(), 'r');
  writeRun(dir, 2, false);
  const reader = new RunSamplesReader(dir);
  assert.equal(reader.refresh(), 4);
  assert.deepEqual(reader.problems().map((p) => p.problem_id), ['p0', 'p1']);
  const s = reader.problem('p0')!.samples[0]!;
  assert.equal(s.sample_id, 'p0#pos0');
  assert.equal(s.with_trace_successes, 2);
  assert.equal(s.line, 1);
  assert.ok(!('trace' in s), 'trace texts are not kept');

  const rows = sampleRows(rolloutGroup('p2')).map((r) => JSON.stringify(r));
  fs.appendFileSync(path.join(dir, 'samples.jsonl'), `{"sample_id": 1}\n${rows[0]}\n${rows[1]!.slice(0, 30)}`);
  assert.equal(reader.refresh(), 1);
  assert.equal(reader.malformedCount, 1);
  assert.equal(reader.issues[0]!.line, 5);
  assert.match(reader.issues[0]!.message, /field "sample_id"/);
  fs.appendFileSync(path.join(dir, 'samples.jsonl'), `${rows[1]!.slice(30)}\n`);
  assert.equal(reader.refresh(), 1);
  assert.equal(reader.problem('p2')!.samples.length, 2);
  assert.equal(reader.problem('p2')!.samples[1]!.line, 7);
  assert.equal(reader.refresh(), 0);
});

test('a run with only events.jsonl lists its samples from the rollout groups', () => {
  const dir = path.join(tmp(), 'r');
  writeRun(dir, 2, true);
  fs.rmSync(path.join(dir, 'samples.jsonl'));
  const reader = new RunSamplesReader(dir);
  assert.equal(reader.refresh(), 4);
  assert.equal(reader.problems().length, 2);
});

test('a sample row is read back whole (with its trace) from its byte range', () => {
  const dir = path.join(tmp(), 'r');
  writeRun(dir, 2, true);
  const reader = new RunSamplesReader(dir);
  reader.refresh();
  const lite = reader.problem('p1')!.samples[1]!;
  const row = readSampleRow(dir, lite)!;
  assert.equal(row.sample_id, 'p1#neg0');
  assert.equal(row.trace, 'trace neg0 <b>bold</b>');
});
