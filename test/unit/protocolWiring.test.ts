/**
 * The protocol reaches every part the factory builds: the prompt set, the
 * completions rendering of the executor client, the scorer's knobs, the
 * judge's truncation; the code verdict carries its first failing test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CodeVerdictSchema, EndpointSchema, OFFICIAL_PROTOCOL, SamplingSchema, TRACELIFT_PROTOCOL } from '../../src/engine/contract';
import { buildEvalConfig } from '../../src/engine/eval/buildConfig';
import { buildRunComponents } from '../../src/engine/eval/runComponents';
import { ExecutorClient } from '../../src/engine/executor/client';
import { TRUNCATION_MARKER } from '../../src/engine/prompts/truncate';
import { DEFAULT_PROMPTS, OFFICIAL_PROMPTS } from '../../src/engine/prompts/templates';
import { LlmJudge } from '../../src/engine/reward/judge';
import { firstFailure } from '../../src/engine/verify/codeSide';
import type { OutputVerifier } from '../../src/engine/verify';
import { startFaultServer } from '../helpers/faultServer';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tl-wiring-'));
const verifier: OutputVerifier = {
  version: 'v',
  verify: async (problem, output) => ({
    correct: problem.kind === 'math' && output.trim() === problem.answer,
    extracted: output.trim(),
    status: null,
    tests_passed: null,
    tests_total: null,
    detail: null,
  }),
  close: async () => {},
};

test('the factory: prompts, completions rendering and scorer knobs follow config.protocol', async () => {
  const srv = await startFaultServer({ answer: () => '7' });
  try {
    const executor = {
      endpoint: EndpointSchema.parse({ base_url: srv.url, model: 'm', api: 'completions', max_retries: 0 }),
      origin: 'configured' as const,
    };
    const base = { task: 'gsm8k', traceSource: { kind: 'reference' as const }, executor, dataDir: tmp(), cacheDir: tmp() };
    const official = buildRunComponents(buildEvalConfig({ ...base, protocol: { preset: 'official' } }), {
      executorIdentity: 'x',
      verifier,
      noCache: true,
    });
    const ours = buildRunComponents(buildEvalConfig(base), { executorIdentity: 'x', verifier, noCache: true });
    assert.equal(official.prompts, OFFICIAL_PROMPTS);
    assert.equal(ours.prompts, DEFAULT_PROMPTS);
    assert.deepEqual(official.scorer.protocol, OFFICIAL_PROTOCOL);
    assert.deepEqual(ours.scorer.protocol, TRACELIFT_PROTOCOL);
    const problem = {
      task: 'gsm8k',
      id: 'p',
      kind: 'math' as const,
      problem: 'What is 3+4?',
      answer: '7',
      reference_trace: null,
      meta: {},
    };
    await official.scorer.baseline(problem);
    await ours.scorer.baseline(problem);
    const [a, b] = srv.completionRequests();
    assert.match(a!.body.prompt as string, /^Instruction:\nYou solve grade-school math problems\.[\s\S]*\n\nFinal answer:\n$/);
    assert.match(b!.body.prompt as string, /^System: You solve math problems\.[\s\S]*\n\nAssistant:$/);
  } finally {
    await srv.close();
  }
});

test('the judge sees the problem and trace cut to the protocol’s budgets', async () => {
  const srv = await startFaultServer({ answer: () => 'Score: 7' });
  try {
    const judge = new LlmJudge(
      new ExecutorClient(EndpointSchema.parse({ base_url: srv.url, model: 'judge', max_retries: 0 })),
      DEFAULT_PROMPTS,
      SamplingSchema.parse({ temperature: 0 }),
    );
    const trace = Array.from({ length: 400 }, (_, i) => `step ${i} of a very long trace`).join('\n');
    const cut = await judge.score('What is 3+4?', trace, OFFICIAL_PROTOCOL.truncation.math);
    const whole = await judge.score('What is 3+4?', trace);
    assert.equal(cut.score, 0.7);
    assert.equal(whole.score, 0.7);
    const [first, second] = srv.completionRequests();
    assert.ok(first!.prompt.includes(TRUNCATION_MARKER), 'cut');
    assert.ok(first!.prompt.length < 2_000 + 1_000, `judge prompt of ${first!.prompt.length} characters`);
    assert.ok(second!.prompt.includes('step 399 of a very long trace'), 'without budgets: whole');
  } finally {
    await srv.close();
  }
});

test('a code verdict carries its first failing test, in test order', () => {
  const v = (tests: { index: number; status: string; message?: string }[]) =>
    CodeVerdictSchema.parse({
      passed: false,
      status: 'runtime_error',
      tests_passed: 1,
      tests_total: tests.length,
      tests,
      duration_ms: 1,
      sandboxed: true,
    });
  assert.deepEqual(
    firstFailure(
      v([
        { index: 0, status: 'passed' },
        { index: 1, status: 'failed', message: 'expected 2, got 3' },
        { index: 2, status: 'runtime_error', message: 'ZeroDivisionError' },
      ]),
    ),
    { index: 1, status: 'failed', message: 'expected 2, got 3' },
  );
  assert.deepEqual(firstFailure(v([{ index: 0, status: 'timeout' }])), { index: 0, status: 'timeout', message: null });
  assert.equal(firstFailure(v([{ index: 0, status: 'passed' }])), null);
  assert.equal(
    firstFailure(
      CodeVerdictSchema.parse({ passed: false, status: 'syntax_error', tests_passed: 0, tests_total: 3, duration_ms: 1, sandboxed: true }),
    ),
    null,
  );
});
