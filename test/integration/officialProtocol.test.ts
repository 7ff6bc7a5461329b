/**
 * `tracelift eval --protocol official` against a recording OpenAI-compatible
 * server: what the official code sends (completions API, the "Instruction:"
 * rendering with the "Final answer:" cue, max_tokens 256, problem and trace
 * cut to 2,500 / 2,000 characters, K fresh no-trace samples per trace, one
 * extra e2e call per trace) and the reward of its formula, computed here from
 * the answers the server gave. The default preset is checked the same way
 * against ours (chat API, max_tokens 96, a cached M-sample baseline, e2e
 * from the first of the K samples).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  EvalConfigSchema,
  OFFICIAL_PROTOCOL,
  ProblemSchema,
  RolloutGroupSchema,
  type RolloutGroup,
  type TraceSample,
} from '../../src/engine/contract';
import { TRUNCATION_MARKER } from '../../src/engine/prompts/truncate';
import { startFaultServer, type FaultServer, type RecordedRequest } from '../helpers/faultServer';

const ROOT = path.resolve(__dirname, '../..');
const K = 3;
const M = 8;

// ---- the benchmark: a long problem (cut by the official budget) and a short one ----
const LONG_PROBLEM =
  'LONG-PROBLEM: How many apples are left at the end?\n' +
  Array.from({ length: 60 }, (_, i) => `Line ${i}: a farmer moves some apples from one crate to another crate.`).join('\n');
const SHORT_PROBLEM = 'SHORT-PROBLEM: What is 3 + 4?';
const GOLD: Record<string, string> = { 'gsm8k/test/0': '42', 'gsm8k/test/1': '7' };

// ---- traces: A is longer than the official trace budget ----
const TRACE_A =
  'TRACE-A: count the apples.\n' + Array.from({ length: 50 }, (_, i) => `Step ${i}: add the apples of crate ${i} to the total.`).join('\n');
const TRACE_B = 'TRACE-B: six times seven.';
const TRACE_C = 'TRACE-C: three plus four.';
const RM_SCORES: Record<string, number> = { 'TRACE-A': 0.9, 'TRACE-B': 0.6, 'TRACE-C': 0.8 };

/** Answers by prompt and choice index: K with-trace samples, the extra e2e call (n = 1), no-trace samples. */
const WITH_TRACE: Record<string, string[]> = { 'TRACE-A': ['42', '42', '5'], 'TRACE-B': ['5', '42', '5'], 'TRACE-C': ['7', '7', '7'] };
const E2E_CALL: Record<string, string> = { 'TRACE-A': '5', 'TRACE-B': '42', 'TRACE-C': '7' };
const NO_TRACE: Record<string, string[]> = {
  'LONG-PROBLEM': ['42', '5', '5', '42', '42', '5', '5', '5'],
  'SHORT-PROBLEM': ['7', '5', '5', '5', '7', '5', '5', '5'],
};

const traceIn = (prompt: string) => Object.keys(WITH_TRACE).find((t) => prompt.includes(t)) ?? null;
const problemIn = (prompt: string) => Object.keys(NO_TRACE).find((p) => prompt.includes(p))!;

function answer(prompt: string, choice: number, req: RecordedRequest): string {
  const trace = traceIn(prompt);
  if (trace === null) return NO_TRACE[problemIn(prompt)]![choice] ?? '5';
  // The K samples travel as one request of n = K; a request of one with a trace is the extra e2e call.
  return req.n === 1 ? E2E_CALL[trace]! : WITH_TRACE[trace]![choice]!;
}

async function startFakeRm(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const items = (JSON.parse(body) as { items: { reasoning: string }[] }).items;
      const score = (reasoning: string) => RM_SCORES[Object.keys(RM_SCORES).find((t) => reasoning.includes(t)) ?? ''] ?? 0;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ scores: items.map((it) => score(it.reasoning)) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/score`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function writeFixtures(dir: string): { dataDir: string; traces: string } {
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(path.join(dataDir, 'gsm8k'), { recursive: true });
  const rows = [
    { question: LONG_PROBLEM, answer: 'Count them.\n#### 42' },
    { question: SHORT_PROBLEM, answer: '3+4=7\n#### 7' },
  ];
  fs.writeFileSync(path.join(dataDir, 'gsm8k', 'test.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const traces = path.join(dir, 'traces.jsonl');
  const records = [
    { problem_id: 'gsm8k/test/0', trace_id: 'A', trace: TRACE_A },
    { problem_id: 'gsm8k/test/0', trace_id: 'B', trace: TRACE_B },
    { problem_id: 'gsm8k/test/1', trace_id: 'C', trace: TRACE_C },
  ];
  fs.writeFileSync(traces, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return { dataDir, traces };
}

/** The CLI from source (no build needed), asynchronously: the servers live in this process. */
function tracelift(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface Scored {
  config: ReturnType<typeof EvalConfigSchema.parse>;
  groups: RolloutGroup[];
  requests: RecordedRequest[];
}

async function runEval(extraArgs: string[]): Promise<Scored> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-protocol-'));
  const { dataDir, traces } = writeFixtures(tmp);
  const rm = await startFakeRm();
  const srv: FaultServer = await startFaultServer({ answer });
  try {
    const out = path.join(tmp, 'run');
    const r = await tracelift([
      'eval',
      '--task',
      'gsm8k',
      '--traces',
      traces,
      '-k',
      String(K),
      '-m',
      String(M),
      '--executor-url',
      srv.url,
      '--executor-model',
      'm',
      '--reward-mode',
      'tracelift',
      '--rm-url',
      rm.url,
      '--data-dir',
      dataDir,
      '--cache-dir',
      path.join(tmp, 'cache'),
      '--out',
      out,
      '--json',
      ...extraArgs,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const config = EvalConfigSchema.parse(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')));
    const groups = fs
      .readFileSync(path.join(out, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string })
      .filter((e) => e.type === 'rollout_group')
      .map((e) => RolloutGroupSchema.parse(e))
      .sort((a, b) => a.problem_id.localeCompare(b.problem_id));
    assert.equal(groups.length, 2);
    return { config, groups, requests: srv.completionRequests() };
  } finally {
    await srv.close();
    await rm.close();
  }
}

const correct = (outputs: (string | null)[], gold: string) => outputs.map((o) => (o?.trim() === gold ? 1 : 0));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, x));
/** The official math reward (trainers' compute_rewards): 0.5·e2e + 0.5·clamp(rm)·(mean(with) − mean(no-trace)). */
const officialMathReward = (e2e: number, withTrace: number[], noTrace: number[], rm: number) =>
  0.5 * e2e + 0.5 * clamp(rm, 0, 1) * clamp(mean(withTrace) - mean(noTrace), -1, 1);
const rmOf = (s: TraceSample) => RM_SCORES[Object.keys(RM_SCORES).find((t) => s.trace.includes(t))!]!;
const close = (actual: number | undefined | null, expected: number, msg: string) =>
  assert.ok(typeof actual === 'number' && Math.abs(actual - expected) < 1e-9, `${msg}: expected ${expected}, got ${actual}`);

test('--protocol official sends what the official code sends and scores with its formula', { timeout: 180_000 }, async () => {
  const { config, groups, requests } = await runEval([
    '--protocol',
    'official',
    '--executor-timeout',
    '30',
    '--executor-retries',
    '1',
    '--executor-down-after',
    '5',
  ]);
  assert.deepEqual(config.protocol, OFFICIAL_PROTOCOL, 'the resolved knobs are written into config.json');
  assert.equal(config.executor.api, 'completions');
  assert.equal(config.executor.timeout_ms, 30_000);
  assert.equal(config.executor.max_retries, 1);
  assert.equal(config.executor.down_after_failures, 5);
  assert.equal(config.prompt_version, 'tracelift-prompts/official-421bd40');

  // Completions API, the official rendering and budgets, on every request.
  assert.ok(requests.length > 0);
  for (const r of requests) {
    assert.equal(r.path, '/v1/completions', 'completions API, never chat');
    const prompt = r.body.prompt as string;
    assert.match(
      prompt,
      /^Instruction:\nYou solve grade-school math problems\. Return only the final numeric answer, no explanation\.\n\nProblem:\n/,
    );
    assert.ok(prompt.endsWith('\n\nFinal answer:\n'), 'the official cue ends the prompt');
    assert.equal(r.max_tokens, 256);
    assert.ok(r.body.top_p === undefined || r.body.top_p === 1, `top_p ${String(r.body.top_p)}: the server default`);
  }
  const longPrompts = requests.filter((r) => r.prompt.includes('LONG-PROBLEM'));
  for (const r of longPrompts) {
    const problem = /Problem:\n([\s\S]*?)\n\n(?:Provided reasoning|Return only)/.exec(r.prompt)![1]!;
    assert.ok(problem.endsWith(TRUNCATION_MARKER), 'the problem is cut');
    assert.ok(problem.length - TRUNCATION_MARKER.length <= 2_500, `problem kept ${problem.length} characters`);
    assert.ok(LONG_PROBLEM.startsWith(problem.slice(0, -TRUNCATION_MARKER.length)), 'cut at a line, the start kept');
  }
  for (const r of requests.filter((q) => q.prompt.includes('TRACE-A'))) {
    const trace = /Provided reasoning:\n([\s\S]*?)\n\nUse the provided reasoning/.exec(r.prompt)![1]!;
    assert.ok(trace.endsWith(TRUNCATION_MARKER), 'the trace is cut');
    assert.ok(trace.length - TRUNCATION_MARKER.length <= 2_000, `trace kept ${trace.length} characters`);
  }

  // Per-trace baselines: K fresh no-trace samples for every trace; one extra e2e call per trace.
  const noTraceSamples = (marker: string) =>
    requests.filter((r) => traceIn(r.prompt) === null && r.prompt.includes(marker)).reduce((n, r) => n + r.n, 0);
  assert.equal(noTraceSamples('LONG-PROBLEM'), 2 * K, 'two traces × K');
  assert.equal(noTraceSamples('SHORT-PROBLEM'), 1 * K, 'one trace × K');
  for (const trace of Object.keys(WITH_TRACE)) {
    const calls = requests.filter((r) => traceIn(r.prompt) === trace);
    assert.deepEqual(calls.map((r) => r.n).sort(), [1, K], `${trace}: the K samples and one e2e call`);
  }

  // The reward: the official formula over what the server answered.
  for (const g of groups) {
    const gold = GOLD[g.problem_id]!;
    assert.equal(g.baseline.from_cache, false);
    for (const s of g.samples) {
      assert.ok(s.e2e_attempt, `${s.sample_id}: the extra e2e call is recorded`);
      assert.ok(s.no_trace, `${s.sample_id}: its own no-trace samples are recorded`);
      assert.equal(s.no_trace.attempts.length, K);
      const trace = traceIn(s.trace)!;
      assert.equal(s.e2e_attempt.output, E2E_CALL[trace], 'e2e is the extra call, not one of the K');
      const e2e = correct([s.e2e_attempt.output], gold)[0]!;
      const withTrace = correct(
        s.with_trace.attempts.map((a) => a.output),
        gold,
      );
      const noTrace = correct(
        s.no_trace.attempts.map((a) => a.output),
        gold,
      );
      assert.deepEqual(
        s.with_trace.attempts.map((a) => a.output),
        WITH_TRACE[trace],
      );
      close(s.reward?.value, officialMathReward(e2e, withTrace, noTrace, rmOf(s)), s.sample_id);
      close(s.uplift, mean(withTrace) - mean(noTrace), `${s.sample_id} uplift against its own baseline`);
    }
  }
  // The two traces of the long problem drew different no-trace samples (1/3 and 2/3 correct here).
  const [a, b] = groups[0]!.samples;
  assert.notDeepEqual(
    a!.no_trace!.attempts.map((x) => x.output),
    b!.no_trace!.attempts.map((x) => x.output),
  );
});

test(
  'the default preset sends ours: chat, max_tokens 96, a cached M-sample baseline, e2e from the K samples',
  { timeout: 180_000 },
  async () => {
    const { config, groups, requests } = await runEval([]);
    assert.equal(config.protocol.preset, 'tracelift');
    assert.equal(config.executor.api, 'chat');
    assert.equal(config.prompt_version, 'tracelift-prompts/v1');
    for (const r of requests) {
      assert.equal(r.path, '/v1/chat/completions');
      const messages = r.body.messages as { role: string; content: string }[];
      assert.equal(messages[0]!.role, 'system');
      assert.equal(messages[0]!.content, 'You solve math problems. Return only the final answer, no explanation.');
      assert.equal(r.max_tokens, 96);
      assert.equal(r.body.top_p, 0.95);
      assert.ok(!r.prompt.includes(TRUNCATION_MARKER), 'nothing shipped here is over our budgets');
    }
    const noTraceSamples = (marker: string) =>
      requests.filter((r) => traceIn(r.prompt) === null && r.prompt.includes(marker)).reduce((n, r) => n + r.n, 0);
    assert.equal(noTraceSamples('LONG-PROBLEM'), M, 'one M-sample baseline per problem, shared by its traces');
    assert.equal(noTraceSamples('SHORT-PROBLEM'), M);
    for (const trace of Object.keys(WITH_TRACE)) {
      assert.deepEqual(
        requests.filter((r) => traceIn(r.prompt) === trace).map((r) => r.n),
        [K],
        `${trace}: K samples, no extra e2e call`,
      );
    }
    for (const g of groups) {
      const gold = GOLD[g.problem_id]!;
      const baseline = mean(
        correct(
          g.baseline.attempts.map((x) => x.output),
          gold,
        ),
      );
      assert.equal(g.baseline.attempts.length, M);
      for (const s of g.samples) {
        assert.equal(s.e2e_attempt ?? null, null);
        assert.equal(s.no_trace ?? null, null);
        const withTrace = correct(
          s.with_trace.attempts.map((x) => x.output),
          gold,
        );
        // Ours: e2e is the first of the K samples; the baseline is the problem's M-sample rate.
        close(s.reward?.value, 0.5 * withTrace[0]! + 0.5 * rmOf(s) * clamp(mean(withTrace) - baseline, -1, 1), s.sample_id);
      }
    }
  },
);

test(
  'a code verdict from the sandbox carries its first failing test (the official outcome rule reads it)',
  { skip: process.env.TRACELIFT_SKIP_SANDBOX_TESTS === '1', timeout: 120_000 },
  async () => {
    const { EngineVerifier } = await import('../../src/engine/verify');
    const { classifyExecution } = await import('../../src/engine/reward/rewards');
    const verifier = new EngineVerifier({ expectedCacheDir: fs.mkdtempSync(path.join(os.tmpdir(), 'tl-expected-')) });
    try {
      const problem = ProblemSchema.parse({
        task: 'mbpp',
        id: 'first-failure',
        kind: 'code',
        problem: 'Write double(x).',
        tests: {
          kind: 'asserts',
          asserts: ['assert double(1) == 2', 'assert double(2) == 4', 'assert double(0) == 0'],
          entry_point: 'double',
        },
        entry_point: 'double',
        meta: {},
      });
      // Test 0 passes, test 1 is a wrong answer, test 2 crashes: ours summarises runtime_error, the official rule failed_test.
      const program = '```python\ndef double(x):\n    if x == 0:\n        raise ValueError("zero")\n    return 2 * x if x == 1 else 5\n```';
      const v = await verifier.verify(problem, program);
      assert.equal(v.correct, false);
      assert.equal(v.tests_total, 3);
      assert.equal(v.first_failure?.index, 1, JSON.stringify(v));
      assert.equal(v.first_failure?.status, 'failed');
      const summary = {
        passed: v.correct,
        status: v.status!,
        testsPassed: v.tests_passed!,
        testsTotal: v.tests_total!,
        firstFailure: v.first_failure,
      };
      assert.equal(classifyExecution(summary, 'summary'), 'runtime_error');
      assert.equal(classifyExecution(summary, 'first_failure'), 'failed_test');
    } finally {
      await verifier.close();
    }
  },
);
