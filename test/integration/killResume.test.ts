/**
 * The CLI (TS entry under tsx) killed with SIGKILL at random points of a run,
 * for several seeds, then resumed: the rows and summary figures equal those
 * of an uninterrupted run. The executor is the fault server answering by a
 * hash of the prompt, so every rerun reproduces the same answers; --no-cache
 * keeps baselines inside each run.
 *
 * Compared: every samples.jsonl row, whole (rows carry no time, latency or
 * random id; those live in events.jsonl, whose run ids, times and latencies
 * differ by design), as a set (groups finish in any order), and every summary
 * figure but run_id, updated and executor_generations (work lost to a kill
 * is done again).
 * Also: SIGTERM cancels (exit 130, summary "cancelled", run_ended).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MathProblem } from '../../src/engine/contract';
import { resolveDataDir } from '../../src/engine/tasks/dataDir';
import { getTask } from '../../src/engine/tasks/registry';
import { startFaultServer, type Fault, type FaultServer } from '../helpers/faultServer';
import { checkRunFiles, comparableFigures, deterministicAnswer } from '../helpers/runCheck';

const ROOT = path.resolve(__dirname, '../..');
const dataDir = resolveDataDir();
const LIMIT = 6;
const problems = getTask('gsm8k').load(dataDir, 'test').slice(0, LIMIT) as MathProblem[];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-kill-'));

let server: FaultServer;
/** Called on every completion request (the kill trigger); returns the fault to apply, if any. */
let onRequest: (i: number) => Fault | null = () => null;

before(async () => {
  server = await startFaultServer({ honourN: true, answer: deterministicAnswer(problems), script: (i) => onRequest(i) ?? { kind: 'ok' } });
});
after(() => server.close());

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function cli(out: string): ChildProcess {
  const args = [
    '--import',
    'tsx',
    path.join(ROOT, 'src/cli/main.ts'),
    'eval',
    '--task',
    'gsm8k',
    '--limit',
    String(LIMIT),
    '-k',
    '2',
    '-m',
    '2',
  ];
  args.push(
    '--reward-mode',
    'exec_only',
    '--no-cache',
    '--executor-url',
    server.url,
    '--executor-model',
    'm',
    '--concurrency',
    '2',
    '--out',
    out,
  );
  return spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, TRACELIFT_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function finished(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume();
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
}

const rowsOf = (dir: string) => fs.readFileSync(path.join(dir, 'samples.jsonl'), 'utf8').split('\n').filter(Boolean).sort();

let kills = 0;
let reference: { figures: ReturnType<typeof comparableFigures>; rows: string[] };

test('an uninterrupted run', { timeout: 60_000 }, async () => {
  onRequest = () => null;
  const dir = path.join(tmp, 'whole');
  const res = await finished(cli(dir));
  assert.equal(res.code, 0, res.stderr);
  const run = checkRunFiles(dir);
  assert.equal(run.summary.micro.problems, LIMIT);
  reference = { figures: comparableFigures(run.summary), rows: rowsOf(dir) };
  assert.equal(reference.rows.length, LIMIT);
});

for (const seed of [1, 2, 3, 4]) {
  test(`seed ${seed}: kill -9 at a random point, resume, same rows and figures`, { timeout: 90_000 }, async () => {
    const random = mulberry32(seed);
    const dir = path.join(tmp, `seed-${seed}`);
    // The kill lands after a random number of requests (the run makes 2 per problem), a random few ms later.
    const killAt = Math.floor(random() * LIMIT * 2);
    const delayMs = Math.floor(random() * 40);
    const start = server.completionRequests().length;
    const child = cli(dir);
    const done = finished(child);
    onRequest = (i) => {
      if (i - start === killAt) setTimeout(() => child.kill('SIGKILL'), delayMs);
      return null;
    };
    const killed = await done;
    onRequest = () => null;
    if (killed.signal === 'SIGKILL') kills++;
    else assert.equal(killed.code, 0, `finished before the kill: ${killed.stderr}`);

    const resumed = await finished(cli(dir));
    assert.equal(resumed.code, 0, resumed.stderr);
    const run = checkRunFiles(dir);
    assert.deepEqual(comparableFigures(run.summary), reference.figures);
    assert.deepEqual(rowsOf(dir), reference.rows);
    // Every problem once in the rows; a problem written twice only if superseded.
    assert.equal(run.groups.size, LIMIT);
  });
}

test('the kills landed mid-run', () => {
  assert.ok(kills >= 3, `${kills} of 4 runs were killed before they ended`);
});

test('SIGTERM cancels: exit 130, summary "cancelled" and run_ended; nothing left "running"', { timeout: 60_000 }, async () => {
  const dir = path.join(tmp, 'term');
  const start = server.completionRequests().length;
  const child = cli(dir);
  const done = finished(child);
  // Slow answers; once the third request arrives a group or two are written and others are in flight.
  onRequest = (i) => {
    if (i - start === 2) setTimeout(() => child.kill('SIGTERM'), 100);
    return { kind: 'slow', delayMs: 400 };
  };
  const res = await done;
  onRequest = () => null;
  assert.equal(res.code, 130, res.stderr);
  assert.match(res.stderr, /SIGTERM: cancelling/);
  const run = checkRunFiles(dir);
  assert.equal(run.summary.status, 'cancelled');
  assert.ok(run.summary.micro.problems < LIMIT);
  const last = run.events.at(-1)!;
  assert.ok(last.type === 'run_ended' && last.status === 'cancelled');

  const resumed = await finished(cli(dir));
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(comparableFigures(checkRunFiles(dir).summary), reference.figures);
});

test('SIGTERM from a parent that closed our pipes still cancels (exit 130), never "failed: write EPIPE"', { timeout: 60_000 }, async () => {
  const dir = path.join(tmp, 'term-closed-pipes');
  const start = server.completionRequests().length;
  const child = cli(dir);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  onRequest = (i) => {
    if (i - start === 1) {
      child.stdout!.destroy();
      child.stderr!.destroy();
      setTimeout(() => child.kill('SIGTERM'), 50);
    }
    return { kind: 'slow', delayMs: 300 };
  };
  const code = await exited;
  onRequest = () => null;
  assert.equal(code, 130);
  const run = checkRunFiles(dir);
  assert.equal(run.summary.status, 'cancelled');
  assert.ok(!run.events.some((e) => e.type === 'error'), 'no error was recorded');
});
