/**
 * End to end through the built CLI against the REAL embedded executor
 * (llama-cpp-python serving SmolLM2-135M-Instruct): eval writes a valid,
 * resumable run directory and prints per-sample uplift and a summary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunSummarySchema, TraceSampleRowSchema, EvalConfigSchema } from '../../src/engine/contract';
import { readEvents } from '../../src/engine/run/runDir';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'bin', 'tracelift.js');

function tracelift(args: string[]) {
  const res = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 540_000 });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

test('eval gsm8k reference traces on the embedded executor, then resume', { timeout: 600_000 }, () => {
  assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'cli.js')), 'run `npm run build` first (the README set-up does)');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-eval-'));
  const out = path.join(tmp, 'run');
  const cache = path.join(tmp, 'cache');
  const args = [
    'eval',
    '--task',
    'gsm8k',
    '--split',
    'test',
    '--limit',
    '3',
    '--traces',
    'reference',
    '-m',
    '4',
    '--out',
    out,
    '--cache-dir',
    cache,
  ];
  const first = tracelift(args);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /gsm8k\/test\/0\s+reference/);
  assert.match(first.stdout, /mean uplift/);

  const summary = RunSummarySchema.parse(JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')));
  assert.equal(summary.status, 'completed');
  assert.equal(summary.micro.problems, 3);
  assert.equal(summary.micro.traces, 3);
  assert.notEqual(summary.with_trace_success, null);
  assert.notEqual(summary.no_trace_success, null);
  assert.equal(summary.micro.failed_calls, 0);
  // 3 traces × K=3 + 3 problems × M=4 generations, none extra for e2e.
  assert.equal(summary.executor_generations, 3 * 3 + 3 * 4);

  const config = EvalConfigSchema.parse(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')));
  assert.equal(config.executor_origin, 'embedded');
  const rows = fs
    .readFileSync(path.join(out, 'samples.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => TraceSampleRowSchema.parse(JSON.parse(l)));
  assert.equal(rows.length, 3);
  for (const r of rows) {
    assert.equal(r.with_trace_valid, 3);
    assert.equal(r.baseline_valid, 4);
    assert.ok(Math.abs(r.uplift! - (r.with_trace_successes / 3 - r.baseline_rate!)) < 1e-9);
  }
  const { events, issues } = readEvents(out);
  assert.equal(issues.length, 0);
  assert.deepEqual(
    events.map((e) => e.type).filter((t) => t !== 'rollout_group'),
    ['run_started', 'run_ended'],
  );

  // Resume: the same command skips the scored problems; one more problem with --limit 4.
  const again = tracelift([...args.slice(0, 6), '4', ...args.slice(7)]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /resuming: 3 problem\(s\) already scored/);
  const after = readEvents(out).events;
  assert.equal(after.filter((e) => e.type === 'rollout_group').length, 4);
  const resumedStart = after.filter((e) => e.type === 'run_started');
  assert.equal(resumedStart.length, 2);
  assert.equal(resumedStart[1]!.type === 'run_started' && resumedStart[1]!.resumed, true);
  // The 3 scored problems were not re-scored; the new one was (3 + 4 generations), added to the first invocation's.
  const s2 = RunSummarySchema.parse(JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')));
  assert.equal(s2.micro.problems, 4);
  assert.equal(s2.executor_generations, 3 * 3 + 3 * 4 + (3 + 4));
  // config.json still holds the first invocation's config (a resume never rewrites it).
  assert.equal(EvalConfigSchema.parse(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'))).limit, 3);

  // Another K is refused, naming the field; --new-run starts a fresh run beside it.
  const otherK = tracelift([...args, '-k', '2']);
  assert.notEqual(otherK.code, 0);
  assert.match(otherK.stderr, /k: 3 in the run, 2 now/);
  const fresh = tracelift([...args, '-k', '2', '--new-run']);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.ok(fs.existsSync(path.join(`${out}-2`, 'summary.json')));
});

test('baselines estimated ahead of time are reused by evals across runs', { timeout: 600_000 }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-eval-'));
  const cache = path.join(tmp, 'cache');
  const pre = tracelift(['baselines', '--task', 'gsm8k', '--limit', '2', '-m', '3', '--cache-dir', cache]);
  assert.equal(pre.code, 0, pre.stderr);
  assert.match(pre.stdout, /gsm8k\/test\/0\t\d\/3/);
  const base = ['eval', '--task', 'gsm8k', '--limit', '2', '-m', '3', '-k', '2', '--cache-dir', cache];
  for (const name of ['a', 'b']) {
    const r = tracelift([...base, '--out', path.join(tmp, name)]);
    assert.equal(r.code, 0, r.stderr);
    const s = RunSummarySchema.parse(JSON.parse(fs.readFileSync(path.join(tmp, name, 'summary.json'), 'utf8')));
    assert.equal(s.baseline_cache_hits, 2, name);
    assert.equal(s.executor_generations, 2 * 2, `${name}: only the with-trace samples were generated`);
  }
});

test('code eval: a traces file on HumanEval runs programs in the sandbox with the no-trace baseline', { timeout: 600_000 }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-eval-code-'));
  const out = path.join(tmp, 'run');
  const traces = path.join(ROOT, 'test', 'fixtures', 'humaneval.traces.jsonl');
  const r = tracelift([
    'eval',
    '--task',
    'humaneval',
    '--traces',
    traces,
    '-k',
    '1',
    '-m',
    '1',
    '--max-tokens',
    '200',
    '--out',
    out,
    '--cache-dir',
    path.join(tmp, 'cache'),
  ]);
  assert.equal(r.code, 0, r.stderr);
  // The traces file is recorded by content too (the editor finds measurements by it after a move).
  const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as { trace_source: { path: string; sha256?: string } };
  assert.equal(config.trace_source.sha256, createHash('sha256').update(fs.readFileSync(traces)).digest('hex'));
  const { events } = readEvents(out);
  const groups = events.filter((e) => e.type === 'rollout_group');
  assert.deepEqual(groups.map((g) => g.type === 'rollout_group' && g.problem_id).sort(), ['HumanEval/0', 'HumanEval/2']);
  for (const g of groups) {
    if (g.type !== 'rollout_group') continue;
    assert.equal(g.task_kind, 'code');
    const attempts = [...g.baseline.attempts, ...g.samples[0]!.with_trace.attempts];
    assert.equal(attempts.length, 2);
    for (const a of attempts) {
      assert.ok(a.verdict, `verdict for ${g.problem_id}: ${a.error}`);
      assert.ok((a.verdict!.tests_total ?? 0) > 0, 'tests were counted');
      assert.ok(a.verdict!.status, 'a sandbox status');
    }
    assert.notEqual(g.samples[0]!.reward, null, 'exec_only reward from the shaped verdict');
  }
});

test('bad input: unknown task and missing traces file give clear errors', () => {
  const a = tracelift(['eval', '--task', 'nope']);
  assert.notEqual(a.code, 0);
  assert.match(a.stderr, /Unknown task "nope"/);
  const b = tracelift(['eval', '--task', 'gsm8k', '--traces', '/nonexistent/traces.jsonl']);
  assert.notEqual(b.code, 0);
  assert.match(b.stderr, /Traces file not found: \/nonexistent\/traces.jsonl/);
  const c = tracelift(['eval', '--task', 'gsm8k', '--offset', '5000', '--executor-url', 'http://127.0.0.1:9/v1', '--executor-model', 'm']);
  assert.notEqual(c.code, 0);
  assert.match(c.stderr, /offset 5000 is past the end of gsm8k\/test \(1319 problems\)/);
  const d = tracelift(['eval', '--task', 'gsm8k', '--reward-mode', 'tracelift']);
  assert.notEqual(d.code, 0);
  assert.match(d.stderr, /needs a Reason RM endpoint: add --rm-url/);
  const e = tracelift(['eval', '--task', 'gsm8k', '--executor-url', 'nope', '--executor-model', 'm']);
  assert.notEqual(e.code, 0);
  assert.match(e.stderr, /--executor-url: "nope" is not an http\(s\) URL/);
});
