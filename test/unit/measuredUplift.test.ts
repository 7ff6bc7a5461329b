/**
 * Measured uplift of a groups file is found by the file's content (SHA-256),
 * so it survives moving the workspace; path-only origins of older runs are
 * still read and migrated to the hash when their record is unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  GROUP_COPY_FILE,
  MeasuredUplift,
  ORIGIN_FILE,
  cachedSha256,
  fileSha256,
  readOrigin,
  writeOrigin,
  type MeasuredRunRef,
} from '../../src/extension/services/measuredUplift';
import type { RunRow } from '../../src/extension/services/runs/runRows';

const FIXTURE = path.resolve(__dirname, '../fixtures/groups.gsm8k.jsonl');
const fixtureLines = fs
  .readFileSync(FIXTURE, 'utf8')
  .split('\n')
  .filter((l) => l.trim());
const PROBLEM = (JSON.parse(fixtureLines[0]!) as { problem_id: string }).problem_id;

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tl-measured-'));

/** The rows a run index would give for the measured record (only the fields the lookup reads matter). */
function rows(uplifts: Record<string, number>): RunRow[] {
  return Object.entries(uplifts).map(([id, uplift], i) => ({
    rowId: i,
    line: 2,
    groupIndex: 0,
    step: null,
    task: 'gsm8k',
    problemId: PROBLEM,
    sampleId: `${PROBLEM}#${id}`,
    source: id.startsWith('neg') ? 'negative' : 'positive',
    label: null,
    preview: '',
    k: 2,
    K: 3,
    failed: 0,
    withRate: 2 / 3,
    baselineSuccesses: 3,
    baselineValid: 8,
    baselineRate: 3 / 8,
    uplift,
    delta: null,
    reward: uplift,
    e2e: null,
    rm: null,
    flags: [],
    errorCount: 0,
  }));
}

/** A "Measure Uplift" run of record 0 of `groupsFile`, and the lookup over it. */
function setup(groupsFile: string, runDir: string, opts: { onChanged?: () => void } = {}) {
  fs.mkdirSync(runDir, { recursive: true });
  fs.writeFileSync(path.join(runDir, GROUP_COPY_FILE), fixtureLines[0] + '\n');
  const run: MeasuredRunRef = { dir: runDir, name: path.basename(runDir), traceFile: path.join(runDir, GROUP_COPY_FILE), updatedMs: 1 };
  const measured = new MeasuredUplift({
    runs: () => [run],
    problemsWithId: (dir, pid) => (dir === runDir && pid === PROBLEM ? [{ samples: rows({ pos0: 0, neg0: 0.5 }) }] : []),
    onChanged: opts.onChanged,
  });
  return { measured, run };
}

test('the hash is the SHA-256 of the bytes, streamed, and cached until the file changes', async () => {
  const dir = tmp();
  const file = path.join(dir, 'g.jsonl');
  const big = Buffer.alloc(3 * (1 << 20) + 17, 'x'); // several chunks
  fs.writeFileSync(file, big);
  const expected = createHash('sha256').update(big).digest('hex');
  assert.equal(cachedSha256(file), undefined);
  assert.equal(await fileSha256(file), expected);
  assert.equal(cachedSha256(file), expected);
  fs.appendFileSync(file, 'y');
  assert.equal(cachedSha256(file), undefined, 'a changed file is not answered from the cache');
  assert.equal(
    await fileSha256(file),
    createHash('sha256')
      .update(Buffer.concat([big, Buffer.from('y')]))
      .digest('hex'),
  );
});

test('measured uplift follows a groups file moved elsewhere (content hash), and not one whose content changed', async () => {
  const ws = tmp();
  const groups = path.join(ws, 'project', 'data', 'groups.jsonl');
  fs.mkdirSync(path.dirname(groups), { recursive: true });
  fs.copyFileSync(FIXTURE, groups);
  const runDir = path.join(ws, 'project', '.tracelift', 'runs', 'uplift-1');
  const { measured } = setup(groups, runDir);
  const origin = await writeOrigin(runDir, { groups_file: groups, record_index: 0, problem_id: PROBLEM });
  assert.match(origin.groups_sha256 ?? '', /^[0-9a-f]{64}$/);
  assert.deepEqual(readOrigin(runDir), origin);

  const before = await measured.lookup(groups, PROBLEM);
  assert.deepEqual([...before.keys()], [`${PROBLEM}#pos0`, `${PROBLEM}#neg0`]);
  assert.equal(before.get(`${PROBLEM}#neg0`)?.uplift, 0.5);

  // The workspace moves: the file has another absolute path, the same bytes.
  const moved = path.join(ws, 'elsewhere', 'renamed.jsonl');
  fs.mkdirSync(path.dirname(moved), { recursive: true });
  fs.renameSync(groups, moved);
  const after = await measured.lookup(moved, PROBLEM);
  assert.equal(after.get(`${PROBLEM}#neg0`)?.uplift, 0.5, 'found by content after the move');
  assert.equal(after.get(`${PROBLEM}#pos0`)?.K, 3);
  assert.equal((await measured.lookup(moved, 'another_problem')).size, 0);

  // Another file at the old path (or this one edited) is not the file that was measured.
  fs.writeFileSync(groups, fixtureLines[1] + '\n');
  assert.equal((await measured.lookup(groups, PROBLEM)).size, 0, 'same path, other content: not matched');
  fs.appendFileSync(moved, fixtureLines[1] + '\n');
  assert.equal((await measured.lookup(moved, PROBLEM)).size, 0, 'edited content: not matched');
});

test('a path-only origin (older runs) is still read, then migrated to the hash, and survives a move afterwards', async () => {
  const ws = tmp();
  const groups = path.join(ws, 'groups.jsonl');
  fs.copyFileSync(FIXTURE, groups);
  const runDir = path.join(ws, 'runs', 'uplift-old');
  let changed = 0;
  const { measured } = setup(groups, runDir, { onChanged: () => changed++ });
  fs.writeFileSync(path.join(runDir, ORIGIN_FILE), JSON.stringify({ groups_file: groups, record_index: 0, problem_id: PROBLEM }));
  assert.equal(readOrigin(runDir)?.groups_sha256, undefined);

  // Read by path at once (the annotations ask synchronously while the file is hashed).
  assert.equal(measured.peek(groups, PROBLEM)?.get(`${PROBLEM}#neg0`)?.uplift, 0.5);
  const found = await measured.lookup(groups, PROBLEM);
  assert.equal(found.size, 2);
  const sha = createHash('sha256').update(fs.readFileSync(groups)).digest('hex');
  for (let i = 0; i < 100 && readOrigin(runDir)?.groups_sha256 === undefined; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(readOrigin(runDir)?.groups_sha256, sha, 'origin migrated to the content hash');
  assert.ok(changed >= 1, 'the change is announced so annotations refresh');

  measured.forget();
  const moved = path.join(ws, 'moved', 'g.jsonl');
  fs.mkdirSync(path.dirname(moved));
  fs.renameSync(groups, moved);
  assert.equal((await measured.lookup(moved, PROBLEM)).get(`${PROBLEM}#pos0`)?.uplift, 0);
});

test('a path-only origin whose record changed in the file is not migrated (the hash would claim a measurement it did not make)', async () => {
  const ws = tmp();
  const groups = path.join(ws, 'groups.jsonl');
  // Record 0 of the file is now another record than the run measured.
  fs.writeFileSync(groups, fixtureLines[1] + '\n' + fixtureLines[0] + '\n');
  const runDir = path.join(ws, 'runs', 'uplift-old');
  const { measured } = setup(groups, runDir);
  fs.writeFileSync(path.join(runDir, ORIGIN_FILE), JSON.stringify({ groups_file: groups, record_index: 0, problem_id: PROBLEM }));
  await measured.lookup(groups, PROBLEM);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(readOrigin(runDir)?.groups_sha256, undefined);
});

test('an origin that is not an origin is ignored', () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, ORIGIN_FILE), JSON.stringify({ groups_file: 3, record_index: 'a' }));
  assert.equal(readOrigin(dir), null);
  fs.writeFileSync(path.join(dir, ORIGIN_FILE), '{ not json');
  assert.equal(readOrigin(dir), null);
});

test('a run whose config recorded its groups file hash is found by content after a move, and not for another file at its path', async () => {
  const ws = tmp();
  const groups = path.join(ws, 'a', 'groups.jsonl');
  fs.mkdirSync(path.dirname(groups), { recursive: true });
  fs.copyFileSync(FIXTURE, groups);
  const runDir = path.join(ws, 'runs', 'eval-1');
  fs.mkdirSync(runDir, { recursive: true });
  const sha = createHash('sha256').update(fs.readFileSync(groups)).digest('hex');
  // A Run Eval over the whole file: no origin file, the config names the file and its hash.
  const run: MeasuredRunRef = { dir: runDir, name: 'eval-1', traceFile: groups, traceFileSha256: sha, updatedMs: 1 };
  const measured = new MeasuredUplift({
    runs: () => [run],
    problemsWithId: (dir, pid) => (dir === runDir && pid === PROBLEM ? [{ samples: rows({ pos0: 0.25, neg0: 0.5 }) }] : []),
  });
  assert.equal((await measured.lookup(groups, PROBLEM)).get(`${PROBLEM}#pos0`)?.uplift, 0.25);
  const moved = path.join(ws, 'b', 'moved.jsonl');
  fs.mkdirSync(path.dirname(moved), { recursive: true });
  fs.renameSync(groups, moved);
  assert.equal((await measured.lookup(moved, PROBLEM)).get(`${PROBLEM}#neg0`)?.uplift, 0.5, 'found by content at its new path');
  fs.writeFileSync(groups, fixtureLines[1] + '\n');
  assert.equal((await measured.lookup(groups, PROBLEM)).size, 0, 'another file at the recorded path is not the measured one');
});
