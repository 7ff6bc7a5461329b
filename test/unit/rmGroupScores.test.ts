import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expandGroup, readGroupsFile } from '../../src/engine/groups';
import { sha256OfFile } from '../../src/engine/data/fetch';
import { startFakeRm } from '../helpers/fakeRm';
import { groupRanking, readRmGroupScores, scoreGroupsFile } from '../../src/engine/rm/groupScores';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'groups.gsm8k.jsonl');

/** An RM whose score is the trace's length / 1000 and whose one dimension is 4 × that. */
const lengthRm = () =>
  startFakeRm(
    (reasoning) => Math.min(1, reasoning.length / 1000),
    (s) => ({ step_coherence: 4 * s }),
  );

test('every trace of a groups file is scored once, with its gold total; a rerun scores nothing; an edited file is scored anew', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-rmgs-'));
  const groups = path.join(dir, 'groups.jsonl');
  fs.copyFileSync(FIXTURE, groups);
  const records = readGroupsFile(groups);
  const traces = records.flatMap((r) => expandGroup(r));
  const rm = await lengthRm();
  try {
    const first = await scoreGroupsFile({
      groupsFile: groups,
      scoresDir: path.join(dir, 'scores'),
      endpoint: { url: rm.url, apiKey: null },
      rmName: 'len',
      batchSize: 3,
    });
    assert.equal(first.total, traces.length);
    assert.equal(first.scored, traces.length);
    assert.equal(first.sha256, await sha256OfFile(groups));
    const lines = readRmGroupScores(first.scoresFile, first.sha256);
    assert.deepEqual(lines.map((l) => l.trace_id).sort(), traces.map((t) => t.id).sort());
    for (const l of lines) {
      const t = traces.find((x) => x.id === l.trace_id)!;
      assert.equal(l.score, Math.min(1, t.text.length / 1000));
      assert.deepEqual(l.dimensions, { step_coherence: 4 * l.score });
      assert.equal(l.gold_total, t.rubricTotal);
    }

    // A crash cut the last line: it is skipped, the rerun scores only what is missing.
    fs.appendFileSync(first.scoresFile, '{"groups_sha256":"');
    const again = await scoreGroupsFile({
      groupsFile: groups,
      scoresDir: path.join(dir, 'scores'),
      endpoint: { url: rm.url, apiKey: null },
      rmName: 'len',
    });
    assert.equal(again.scored, 0);
    assert.equal(again.skipped, traces.length);
    assert.equal(rm.scored(), traces.length, 'no trace sent twice');

    // Another RM name scores everything again, into the same file.
    const other = await scoreGroupsFile({
      groupsFile: groups,
      scoresDir: path.join(dir, 'scores'),
      endpoint: { url: rm.url, apiKey: null },
      rmName: 'other',
    });
    assert.equal(other.scored, traces.length);

    // The file edited: another SHA-256, another scores file; the old scores are not read for it.
    fs.appendFileSync(groups, fs.readFileSync(FIXTURE, 'utf8').split('\n')[0]!.replace('math_gsm8k_000000', 'math_gsm8k_copy') + '\n');
    const edited = await scoreGroupsFile({
      groupsFile: groups,
      scoresDir: path.join(dir, 'scores'),
      endpoint: { url: rm.url, apiKey: null },
      rmName: 'len',
    });
    assert.notEqual(edited.scoresFile, first.scoresFile);
    assert.equal(edited.scored, edited.total);
    assert.deepEqual(readRmGroupScores(first.scoresFile, edited.sha256), []);
  } finally {
    await rm.close();
  }
});

test('group ranking: the reference above every negative, and the share of pairs it wins', () => {
  const [record] = readGroupsFile(FIXTURE);
  const traces = expandGroup(record!);
  const ref = traces.find((t) => t.isReference)!;
  const negs = traces.filter((t) => t.role === 'negative');
  const scores = new Map<string, number>([[ref.id, 0.6], ...negs.map((n, i): [string, number] => [n.id, i === 0 ? 0.9 : 0.1])]);
  assert.deepEqual(groupRanking(scores, traces), { positiveFirst: false, pairAccuracy: (negs.length - 1) / negs.length });
  scores.set(negs[0]!.id, 0.2);
  assert.deepEqual(groupRanking(scores, traces), { positiveFirst: true, pairAccuracy: 1 });
  scores.delete(negs[1]!.id);
  assert.deepEqual(groupRanking(scores, traces), { positiveFirst: null, pairAccuracy: null }, 'an unscored negative: no verdict');
});
