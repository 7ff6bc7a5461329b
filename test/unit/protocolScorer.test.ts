/**
 * One group scored both ways — our protocol (cached M-sample baseline, e2e
 * from the K samples, verifier summary status) and the official one (K fresh
 * no-trace samples per trace, one extra e2e call, first failing test) —
 * against a scripted executor, and checked against the official formulas
 * written out here independently of src/engine/reward (docs/official-protocol.md §4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  EndpointSchema,
  OFFICIAL_PROTOCOL,
  RewardConfigSchema,
  RolloutGroupSchema,
  SamplingSchema,
  TRACELIFT_PROTOCOL,
  type CodeProblem,
  type MathProblem,
  type Problem,
  type Protocol,
  type Verdict,
} from '../../src/engine/contract';
import { ExecutorClient } from '../../src/engine/executor/client';
import { DEFAULT_PROMPTS, OFFICIAL_PROMPTS } from '../../src/engine/prompts/templates';
import { GroupScorer, type ScoredTraceSample } from '../../src/engine/uplift/scorer';
import type { OutputVerifier } from '../../src/engine/verify';
import { startFaultServer, type RecordedRequest } from '../helpers/faultServer';

const close = (actual: number | undefined, expected: number, msg = '') =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `${msg} expected ${expected}, got ${actual}`);

// ---- the official formulas, written out (docs/official-protocol.md §4) ----
const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, x));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
function officialMathReward(e2e: number, withTrace: number[], noTrace: number[], rm: number): number {
  const uplift = clamp(clamp(mean(withTrace), 0, 1) - clamp(mean(noTrace), 0, 1), -1, 1);
  return 0.5 * e2e + 0.5 * clamp(rm, 0, 1) * uplift;
}
function officialEqualCoeff(c: number, k: number): number {
  if (c <= 0) return 0;
  if (c >= k) return 1;
  if (k === 3 && c === 1) return 0.5;
  return c / k;
}
function officialCodeReward(exec: number, cw: number, cb: number, k: number, rm: number): number {
  const coeff = cw > cb ? 1 : cw < cb ? -1 : officialEqualCoeff(cw, k);
  return clamp(exec + 0.2 * clamp(rm, 0, 1) * coeff, 0, 1);
}

// ---- a fake Reason RM: scores by trace text ----
async function startFakeRm(scores: Record<string, number>): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const items = (JSON.parse(body) as { items: { reasoning: string }[] }).items;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ scores: items.map((it) => scores[it.reasoning] ?? 0) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/score`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const isWithTrace = (prompt: string) => prompt.includes('Provided reasoning');

function makeScorer(
  executorUrl: string,
  rmUrl: string,
  protocol: Protocol,
  verifier?: OutputVerifier,
  mode: 'tracelift' | 'exec_only' = 'tracelift',
) {
  const client = new ExecutorClient(EndpointSchema.parse({ base_url: executorUrl, model: 'm', max_retries: 0, concurrency: 8 }));
  return new GroupScorer({
    client,
    executorIdentity: 'fake',
    sampling: SamplingSchema.parse({}),
    prompts: protocol.prompt_set === 'official' ? OFFICIAL_PROMPTS : DEFAULT_PROMPTS,
    verifier: verifier ?? mathVerifier,
    cache: null,
    k: 3,
    baselineSamples: 8,
    reward: RewardConfigSchema.parse({ mode, rm_url: rmUrl }),
    protocol,
  });
}

/** Math verdicts without Python: the output is right when it is exactly the gold answer. */
const mathVerifier: OutputVerifier = {
  version: 'exact-test',
  async verify(problem: Problem, output: string): Promise<Verdict> {
    const answer = problem.kind === 'math' ? problem.answer : '';
    const correct = output.trim() === answer;
    return {
      correct,
      extracted: output.trim(),
      status: correct ? 'correct' : 'wrong',
      tests_passed: null,
      tests_total: null,
      detail: null,
    };
  },
  async close() {},
};

// ---------------------------------------------------------------------------
// math
// ---------------------------------------------------------------------------

const mathProblem: MathProblem = {
  task: 'gsm8k',
  id: 'p1',
  kind: 'math',
  problem: 'Janet has 16 eggs…',
  answer: '18',
  reference_trace: null,
  meta: {},
};
const GOOD = 'Subtract, then double.';
const WEAK = 'Think about ducks.';
// No-trace successes by choice index: the cached M=8 baseline sees 3/8;
// per trace (one request of n=6 dealt 3 per trace) GOOD sees 1/3, WEAK 2/3.
const NO_TRACE = [1, 0, 0, 1, 1, 0, 0, 0];

function mathAnswer(prompt: string, choice: number, req: RecordedRequest): string {
  if (!isWithTrace(prompt)) return NO_TRACE[choice] ? '18' : '7';
  if (prompt.includes(GOOD)) return '18';
  // WEAK: of the K samples only the first is right; the single extra e2e call is wrong.
  return req.n === 1 ? '7' : choice === 0 ? '18' : '7';
}

test('math group, ours vs official: each matches its own formula', async () => {
  const srv = await startFaultServer({ answer: mathAnswer });
  const rm = await startFakeRm({ [GOOD]: 0.9, [WEAK]: 0.6 });
  const traces = [
    { sample_id: 'good', trace: GOOD, source: 't' },
    { sample_id: 'weak', trace: WEAK, source: 't' },
  ];
  try {
    // Ours: cached-style baseline (M=8, b=3/8), e2e = first of the K.
    const ours = await makeScorer(srv.url, rm.url, TRACELIFT_PROTOCOL).scoreGroup(mathProblem, traces, { groupIndex: 0 });
    RolloutGroupSchema.parse(ours);
    assert.equal(ours.baseline.tally.valid, 8);
    close(ours.baseline.tally.rate!, 3 / 8);
    const [g, w] = ours.samples;
    close(g!.reward!.value, 0.5 * 1 + 0.5 * 0.9 * (1 - 3 / 8), 'ours good');
    close(w!.reward!.value, 0.5 * 1 + 0.5 * 0.6 * (1 / 3 - 3 / 8), 'ours weak');
    assert.equal(srv.completionRequests().length, 3, 'one baseline request, one per trace');

    // Official: K=3 fresh no-trace samples per trace, one extra e2e call per trace.
    const before = srv.completionRequests().length;
    const scorer = makeScorer(srv.url, rm.url, OFFICIAL_PROTOCOL);
    const official = await scorer.scoreGroup(mathProblem, traces, { groupIndex: 0 });
    RolloutGroupSchema.parse(official);
    const requests = srv.completionRequests().slice(before);
    // 1 no-trace request (n = 3 per trace), 2 with-trace requests (n = 3), 2 e2e calls (n = 1).
    assert.deepEqual(requests.map((r) => r.n).sort(), [1, 1, 3, 3, 6]);
    assert.equal(scorer.generations, 6 + 6 + 2, 'seven executor samples per trace, as the official trainer');
    const [og, ow] = official.samples as ScoredTraceSample[];
    assert.deepEqual(
      og!.no_trace!.attempts.map((a) => (a.verdict!.correct ? 1 : 0)),
      [1, 0, 0],
    );
    assert.deepEqual(
      ow!.no_trace!.attempts.map((a) => (a.verdict!.correct ? 1 : 0)),
      [1, 1, 0],
    );
    assert.equal(og!.e2e_attempt!.output, '18');
    assert.equal(ow!.e2e_attempt!.output, '7');
    close(og!.reward!.value, officialMathReward(1, [1, 1, 1], [1, 0, 0], 0.9), 'official good');
    close(ow!.reward!.value, officialMathReward(0, [1, 0, 0], [1, 1, 0], 0.6), 'official weak');
    close(ow!.reward!.value, -0.1);
    close(ow!.uplift!, 1 / 3 - 2 / 3);
    // The group's baseline record pools the per-trace samples; nothing is cached.
    assert.equal(official.baseline.tally.valid, 6);
    assert.equal(official.baseline.from_cache, false);
  } finally {
    await srv.close();
    await rm.close();
  }
});

test('official prompts: problem and trace cut at a line, empty math trace gets the no-trace prompt', async () => {
  const srv = await startFaultServer({ answer: () => '18' });
  const rm = await startFakeRm({});
  try {
    const longTrace = Array.from({ length: 300 }, (_, i) => `step ${i}: keep going`).join('\n'); // ≈ 6,000 chars
    const scorer = makeScorer(srv.url, rm.url, OFFICIAL_PROTOCOL, undefined, 'exec_only');
    await scorer.scoreGroup(mathProblem, [{ sample_id: 'long', trace: longTrace, source: 't' }], { groupIndex: 0 });
    const withTrace = srv.completionRequests().filter((r) => isWithTrace(r.prompt));
    assert.ok(withTrace.length > 0);
    for (const r of withTrace) {
      assert.match(r.prompt, /\n\.\.\.\[truncated\]\n\nUse the provided reasoning/);
      assert.ok(!r.prompt.includes('step 299'), 'the tail of the trace is not sent');
      const shownTrace = r.prompt.split('Provided reasoning:\n')[1]!.split('\n...[truncated]')[0]!;
      assert.ok(shownTrace.length <= 2000 && shownTrace.endsWith('keep going'), 'cut at a line boundary within 2,000 characters');
    }
    // The system prompt is the official one.
    const sys = (srv.completionRequests()[0]!.body.messages as { role: string; content: string }[])[0]!;
    assert.match(sys.content, /grade-school math/);

    const before = srv.completionRequests().length;
    await scorer.scoreGroup(mathProblem, [{ sample_id: 'empty', trace: '', source: 't' }], { groupIndex: 1 });
    assert.ok(
      srv
        .completionRequests()
        .slice(before)
        .every((r) => !isWithTrace(r.prompt)),
      'an empty trace is prompted without a trace',
    );

    // Ours: the same trace goes whole (within our 6,000-character budget it is not cut).
    const shortEnough = longTrace.slice(0, 5_000);
    const ours = makeScorer(srv.url, rm.url, TRACELIFT_PROTOCOL, undefined, 'exec_only');
    const mark = srv.completionRequests().length;
    await ours.scoreGroup(mathProblem, [{ sample_id: 'x', trace: shortEnough, source: 't' }], { groupIndex: 2 });
    assert.ok(
      srv
        .completionRequests()
        .slice(mark)
        .some((r) => r.prompt.includes(shortEnough)),
    );
  } finally {
    await srv.close();
    await rm.close();
  }
});

test('the cache key changes only when the problem budget cuts the problem', async () => {
  const srv = await startFaultServer({ answer: () => '18' });
  try {
    const scorer = (protocol: Protocol) => makeScorer(srv.url, 'http://127.0.0.1:9/score', protocol);
    const long: MathProblem = { ...mathProblem, id: 'long', problem: 'x\n'.repeat(2_000) };
    const cutOfficial = { ...TRACELIFT_PROTOCOL, truncation: OFFICIAL_PROTOCOL.truncation };
    assert.equal(scorer(TRACELIFT_PROTOCOL).baselineKeyFor(mathProblem), scorer(cutOfficial).baselineKeyFor(mathProblem));
    assert.notEqual(scorer(TRACELIFT_PROTOCOL).baselineKeyFor(long), scorer(cutOfficial).baselineKeyFor(long));
  } finally {
    await srv.close();
  }
});

// ---------------------------------------------------------------------------
// code
// ---------------------------------------------------------------------------

const codeProblem: CodeProblem = {
  task: 'toy_code',
  id: 'c1',
  kind: 'code',
  problem: 'Read n, print n+1.',
  tests: { kind: 'stdio', cases: [{ input: '1\n', output: '2\n' }] },
  entry_point: null,
  starter_code: null,
  reference_solution: null,
  meta: {},
} as CodeProblem;

type Scripted = Verdict;
/** Verdicts by program text, as our code verifier would report them (4 tests each). */
const PROGRAMS: Record<string, Scripted> = {
  PASS: { correct: true, extracted: null, status: 'passed', tests_passed: 4, tests_total: 4, detail: null },
  // Test 0 wrong output, test 1 crashes: our summary says runtime_error; the first failure is a wrong answer.
  WRONG_THEN_CRASH: {
    correct: false,
    extracted: null,
    status: 'runtime_error',
    tests_passed: 2,
    tests_total: 4,
    detail: 'test 0: expected 2, got 3',
    first_failure: { index: 0, status: 'failed', message: 'expected 2, got 3' },
  },
  // eval() of bad text: a SyntaxError at run time in every test.
  RUNTIME_SYNTAX: {
    correct: false,
    extracted: null,
    status: 'runtime_error',
    tests_passed: 0,
    tests_total: 4,
    detail: 'test 0: SyntaxError: invalid syntax',
    first_failure: { index: 0, status: 'runtime_error', message: 'SyntaxError: invalid syntax' },
  },
  WRONG: {
    correct: false,
    extracted: null,
    status: 'failed',
    tests_passed: 1,
    tests_total: 4,
    detail: 'test 1: wrong',
    first_failure: { index: 1, status: 'failed', message: 'wrong' },
  },
};
const codeVerifier: OutputVerifier = {
  version: 'scripted-test',
  async verify(_problem: Problem, output: string): Promise<Verdict> {
    const v = PROGRAMS[output.trim()];
    if (!v) throw new Error(`unscripted program ${output}`);
    return { ...v };
  },
  async close() {},
};

const A = 'Read the number and add one.';
const B = 'Parse with eval.';
// No-trace programs by choice: cached M=8 → 3/8 pass; per trace A gets [P,P,W] (2), B gets [P,W,W] (1).
const CODE_NO_TRACE = ['PASS', 'PASS', 'WRONG', 'PASS', 'WRONG', 'WRONG', 'WRONG', 'WRONG'];
function codeAnswer(prompt: string, choice: number, req: RecordedRequest): string {
  if (!isWithTrace(prompt)) return CODE_NO_TRACE[choice]!;
  if (prompt.includes(A)) return req.n === 1 ? 'WRONG_THEN_CRASH' : 'PASS';
  return req.n === 1 ? 'RUNTIME_SYNTAX' : choice === 0 ? 'PASS' : 'RUNTIME_SYNTAX';
}

test('code group, ours vs official: hybrid exec of the e2e program, utility coefficient, clamp', async () => {
  const srv = await startFaultServer({ answer: codeAnswer });
  const rm = await startFakeRm({ [A]: 0.5, [B]: 1.0 });
  const traces = [
    { sample_id: 'a', trace: A, source: 't' },
    { sample_id: 'b', trace: B, source: 't' },
  ];
  try {
    const ours = await makeScorer(srv.url, rm.url, TRACELIFT_PROTOCOL, codeVerifier).scoreGroup(codeProblem, traces, { groupIndex: 0 });
    const [a, b] = ours.samples;
    // e2e program = first of K = PASS → exec 1; b·K = 3/8·3 = 1.125.
    close(a!.reward!.components.coeff, 1);
    close(a!.reward!.value, 1);
    close(b!.reward!.components.coeff, -1, 'c=1 < 1.125');
    close(b!.reward!.value, clamp(1 - 0.2 * 1, 0, 1));

    const official = await makeScorer(srv.url, rm.url, OFFICIAL_PROTOCOL, codeVerifier).scoreGroup(codeProblem, traces, { groupIndex: 0 });
    const [oa, ob] = official.samples as ScoredTraceSample[];
    // A: e2e program WRONG_THEN_CRASH → failed_test → hybrid 0.8·2/4 + 0.2 = 0.6; c_w=3 > c_b=2.
    close(oa!.reward!.components.exec, 0.6);
    close(oa!.reward!.value, officialCodeReward(0.6, 3, 2, 3, 0.5), 'official a');
    // B: e2e program RUNTIME_SYNTAX → compile_error → hybrid 0; c_w=1 = c_b=1 → equal-count 0.5.
    close(ob!.reward!.components.exec, 0);
    close(ob!.reward!.components.coeff, 0.5);
    close(ob!.reward!.value, officialCodeReward(0, 1, 1, 3, 1.0), 'official b');
    assert.equal(ob!.e2e, 0);

    // Only the outcome rule back to ours: the crash after a wrong answer is a runtime error (bonus 0.05).
    const summaryRule = { ...OFFICIAL_PROTOCOL, code_outcome: 'summary' as const };
    const mixed = await makeScorer(srv.url, rm.url, summaryRule, codeVerifier).scoreGroup(codeProblem, traces, { groupIndex: 0 });
    close(mixed.samples[0]!.reward!.components.exec, 0.8 * 0.5 + 0.05);
  } finally {
    await srv.close();
    await rm.close();
  }
});

test('official: a failed e2e call leaves the reward uncomputed and says so', async () => {
  // Every single-sample request fails: with-trace K and no-trace batches succeed.
  const srv = await startFaultServer({
    answer: mathAnswer,
    script: (_i, req) => (req.n === 1 ? { kind: 'status', status: 500, message: 'boom' } : { kind: 'ok' }),
  });
  const rm = await startFakeRm({ [GOOD]: 0.9 });
  try {
    const group = await makeScorer(srv.url, rm.url, OFFICIAL_PROTOCOL).scoreGroup(
      mathProblem,
      [{ sample_id: 'g', trace: GOOD, source: 't' }],
      {
        groupIndex: 0,
      },
    );
    const s = group.samples[0] as ScoredTraceSample;
    assert.equal(s.reward, null);
    assert.equal(s.e2e, null);
    assert.ok(s.errors.some((e) => /e2e executor call failed/.test(e)));
    assert.ok(s.errors.some((e) => /reward not computed: the e2e executor call produced no output/.test(e)));
    assert.equal(s.with_trace.tally.successes, 3, 'the K with-trace samples are still reported');
  } finally {
    await srv.close();
    await rm.close();
  }
});
