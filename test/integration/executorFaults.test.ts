/**
 * The executor client against a misbehaving OpenAI-compatible server: each
 * fault is a failed call with its reason in words (never an exception, never
 * an answer), retried the configured number of times where a retry can help,
 * bounded by the configured timeout; a good response after transient faults
 * succeeds; an executor that keeps failing is marked down and fails fast.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EndpointSchema, RewardConfigSchema, SamplingSchema, type Endpoint, type MathProblem } from '../../src/engine/contract';
import { ExecutorClient, ExecutorDownError, type ExecutorClientOptions } from '../../src/engine/executor/client';
import { DEFAULT_PROMPTS } from '../../src/engine/prompts/templates';
import { GroupScorer } from '../../src/engine/uplift/scorer';
import { EngineVerifier } from '../../src/engine/verify';
import { startFaultServer, type Fault, type FaultServer, type FaultServerOptions } from '../helpers/faultServer';

const sampling = SamplingSchema.parse({ max_tokens: 32 });
const msgs = [{ role: 'user' as const, content: 'What is 2+2?' }];
const TIMEOUT_MS = 300;

async function withServer(opts: FaultServerOptions, fn: (srv: FaultServer) => Promise<void>): Promise<void> {
  const srv = await startFaultServer(opts);
  // Should a regression make a call hang, closing the server ends it: the test fails instead of hanging.
  const watchdog = setTimeout(() => void srv.close(), 15_000);
  try {
    await fn(srv);
  } finally {
    clearTimeout(watchdog);
    await srv.close();
  }
}

function client(srv: FaultServer, endpoint: Partial<Endpoint> = {}, opts: ExecutorClientOptions = {}): ExecutorClient {
  return new ExecutorClient(
    EndpointSchema.parse({ base_url: srv.url, model: 'm', timeout_ms: TIMEOUT_MS, max_retries: 2, n_sampling: 'yes', ...endpoint }),
    opts,
  );
}

/** Faults a retry can cure, and the reason a call gives when every attempt meets one. */
const transient: { name: string; fault: Fault; reason: RegExp }[] = [
  {
    name: 'HTTP 500',
    fault: { kind: 'status', status: 500, message: 'engine crashed' },
    reason: /^HTTP 500: engine crashed \(3 attempts\)$/,
  },
  { name: 'HTTP 503', fault: { kind: 'status', status: 503 }, reason: /^HTTP 503: injected 503 \(3 attempts\)$/ },
  {
    name: 'HTTP 429 with retry-after',
    fault: { kind: 'status', status: 429, retryAfter: 0 },
    reason: /^HTTP 429: injected 429 \(3 attempts\)$/,
  },
  {
    name: 'malformed JSON body',
    fault: { kind: 'malformed' },
    reason: /^executor returned a body that is not JSON \(\d+ bytes\): body begins \{"id"/,
  },
  {
    name: 'missing choices',
    fault: { kind: 'missing_choices' },
    reason: /^executor returned a response without choices: body begins \{.*\(3 attempts\)$/,
  },
  { name: 'empty choices', fault: { kind: 'empty_choices' }, reason: /^executor returned no choices \(3 attempts\)$/ },
  {
    name: 'connection reset before any response',
    fault: { kind: 'reset' },
    reason: /^connection closed before any response \(3 attempts\)$/,
  },
  {
    name: 'connection cut after the headers',
    fault: { kind: 'cut_after_headers' },
    reason: /^connection closed before the response was complete \(3 attempts\)$/,
  },
  {
    name: 'connection cut mid-body',
    fault: { kind: 'cut_mid_body' },
    reason: /^connection closed before the response was complete \(3 attempts\)$/,
  },
  { name: 'hang before the headers', fault: { kind: 'hang' }, reason: /^timed out after 0\.3 s \(3 attempts\)$/ },
  { name: 'hang after the headers', fault: { kind: 'hang', afterHeaders: true }, reason: /^timed out after 0\.3 s \(3 attempts\)$/ },
  { name: 'slower than the timeout', fault: { kind: 'slow', delayMs: 2000 }, reason: /^timed out after 0\.3 s \(3 attempts\)$/ },
];

// Each case has its own server, so they run side by side (the SDK's backoff is 0.5 s, then 1 s).
describe('transient faults', { concurrency: true }, () => {
  for (const { name, fault, reason } of transient) {
    test(`${name}, every attempt: a failed call in words after max_retries+1 requests, never an answer`, async () => {
      await withServer({ script: () => fault }, async (srv) => {
        const c = client(srv);
        const gens = await c.sample(msgs, sampling, 3);
        assert.equal(gens.length, 3);
        for (const g of gens) {
          assert.equal(g.text, null);
          assert.match(g.error!, reason);
        }
        const sent = srv.completionRequests();
        assert.equal(sent.length, 3, 'one call, retried twice');
        assert.ok(
          sent.every((r) => r.n === 3 && r.max_tokens === 32),
          'each retry resends the same request',
        );
        assert.deepEqual(c.stats, { requests: 1, attempts: 3, failed_requests: 1, generations: 0, failed_generations: 3 });
        assert.equal(c.health().state, 'failing');
        assert.equal(c.health().consecutive_failures, 1);
      });
    });

    test(`${name}, twice: the third attempt's good response is the answer`, async () => {
      await withServer({ script: [fault, fault], answer: () => '4' }, async (srv) => {
        const c = client(srv);
        const gens = await c.sample(msgs, sampling, 2);
        assert.deepEqual(
          gens.map((g) => [g.text, g.error]),
          [
            ['4', null],
            ['4', null],
          ],
        );
        assert.equal(srv.completionRequests().length, 3);
        assert.equal(c.health().state, 'up');
        assert.equal(c.stats.failed_requests, 0);
      });
    });
  }
});

test('a request the server rejects (HTTP 400) is not retried', async () => {
  await withServer({ script: () => ({ kind: 'status', status: 400, message: 'prompt too long' }) }, async (srv) => {
    const [g] = await client(srv).sample(msgs, sampling, 1);
    assert.equal(g!.error, 'HTTP 400: prompt too long');
    assert.equal(srv.completionRequests().length, 1);
  });
});

for (const kind of ['null_content', 'missing_content'] as const) {
  for (const api of ['chat', 'completions'] as const) {
    test(`${api}: choices without content (${kind}) are failed generations, the call itself succeeded`, async () => {
      await withServer({ script: () => ({ kind }) }, async (srv) => {
        const c = client(srv, { api });
        const gens = await c.sample(msgs, sampling, 2);
        const what = api === 'chat' ? 'message content' : 'text';
        assert.deepEqual(
          gens.map((g) => [g.text, g.error, g.finish_reason]),
          Array(2).fill([null, `executor returned a choice without ${what} (finish_reason: length)`, 'length']),
        );
        assert.equal(srv.completionRequests().length, 1, 'a well-formed reply is not retried');
        assert.equal(srv.completionRequests()[0]!.path, api === 'chat' ? '/v1/chat/completions' : '/v1/completions');
        assert.equal(c.health().state, 'up', 'the executor answered');
        assert.deepEqual([c.stats.generations, c.stats.failed_generations, c.stats.failed_requests], [0, 2, 0]);
      });
    });
  }
}

test('the completions API gets the same fault handling as chat', async () => {
  await withServer({ script: [{ kind: 'empty_choices' }, { kind: 'cut_mid_body' }], answer: () => '4' }, async (srv) => {
    const c = client(srv, { api: 'completions' });
    const [g] = await c.sample(msgs, sampling, 1);
    assert.equal(g!.text, '4');
    assert.equal(srv.completionRequests().length, 3);
    assert.ok(srv.completionRequests().every((r) => r.path === '/v1/completions' && typeof r.body.prompt === 'string'));
  });
});

test('the timeout bounds each attempt, the body included: a hang costs (max_retries+1) × timeout, not minutes', async () => {
  await withServer({ script: () => ({ kind: 'hang', afterHeaders: true }) }, async (srv) => {
    const c = client(srv, { max_retries: 0 });
    const started = Date.now();
    const [g] = await c.sample(msgs, sampling, 1);
    const elapsed = Date.now() - started;
    assert.equal(g!.error, 'timed out after 0.3 s');
    assert.ok(elapsed >= TIMEOUT_MS - 20 && elapsed < TIMEOUT_MS + 1500, `took ${elapsed} ms`);
    assert.equal(srv.completionRequests().length, 1);
  });
});

test('a slow response within the timeout is an answer', async () => {
  await withServer({ script: () => ({ kind: 'slow', delayMs: 100 }), answer: () => '4' }, async (srv) => {
    const [g] = await client(srv).sample(msgs, sampling, 1);
    assert.equal(g!.text, '4');
    assert.equal(srv.completionRequests().length, 1);
  });
});

test('a 429 is retried after the time its Retry-After asks for', async () => {
  await withServer({ script: [{ kind: 'status', status: 429, retryAfter: 1 }], answer: () => '4' }, async (srv) => {
    const [g] = await client(srv).sample(msgs, sampling, 1);
    assert.equal(g!.text, '4');
    const [first, second] = srv.completionRequests();
    assert.ok(second!.at - first!.at >= 950, `retried after ${second!.at - first!.at} ms`);
  });
});

test('an executor that fails every call is marked down: the tripping call and every later one reject with ExecutorDownError', async () => {
  await withServer({ script: () => ({ kind: 'status', status: 500, message: 'CUDA out of memory' }) }, async (srv) => {
    const downs: ExecutorDownError[] = [];
    const c = client(srv, { max_retries: 1, concurrency: 1 }, { downAfterFailures: 3, onDown: (e) => downs.push(e) });
    for (let i = 0; i < 2; i++) {
      const [g] = await c.sample(msgs, sampling, 1);
      assert.equal(g!.error, 'HTTP 500: CUDA out of memory (2 attempts)');
    }
    await assert.rejects(c.sample(msgs, sampling, 1), (err: unknown) => {
      assert.ok(err instanceof ExecutorDownError);
      assert.equal(err.consecutiveFailures, 3);
      assert.ok(err.message.includes(`${srv.url} (model m)`), err.message);
      assert.match(err.message, /3 calls in a row failed after retries.*HTTP 500: CUDA out of memory \(2 attempts\) ×3/);
      return true;
    });
    assert.equal(srv.completionRequests().length, 6);
    assert.equal(downs.length, 1);
    assert.equal(c.health().state, 'down');

    const started = Date.now();
    await assert.rejects(c.sample(msgs, sampling, 4), ExecutorDownError);
    await assert.rejects(c.requestOnce(msgs, sampling, 1), ExecutorDownError);
    assert.ok(Date.now() - started < 100, 'fails fast');
    assert.equal(srv.completionRequests().length, 6, 'no request sent once down');
    await assert.rejects(c.whenDown, (e) => e === downs[0]);
  });
});

test('failures separated by a success do not mark the executor down', async () => {
  const fail: Fault = { kind: 'status', status: 500 };
  await withServer({ script: [fail, fail, { kind: 'ok' }, fail, fail, { kind: 'ok' }] }, async (srv) => {
    const c = client(srv, { max_retries: 0, concurrency: 1 }, { downAfterFailures: 3 });
    const outcomes = [];
    for (let i = 0; i < 6; i++) outcomes.push((await c.sample(msgs, sampling, 1))[0]!.error === null);
    assert.deepEqual(outcomes, [false, false, true, false, false, true]);
    assert.equal(c.health().state, 'up');
  });
});

test('when the breaker trips, calls hanging in flight stop at once with ExecutorDownError', async () => {
  // Requests 0-2 hang; 3 and 4 fail. Two failures in a row trip the breaker.
  await withServer({ script: (i) => (i < 3 ? { kind: 'hang' } : { kind: 'status', status: 502 }) }, async (srv) => {
    const c = client(srv, { max_retries: 0, concurrency: 5, timeout_ms: 30_000 }, { downAfterFailures: 2 });
    const hanging = [0, 1, 2].map(() => c.sample(msgs, sampling, 1));
    while (srv.completionRequests().length < 3) await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    const failing = [0, 1].map(() => c.sample(msgs, sampling, 1));
    const settled = await Promise.allSettled([...hanging, ...failing]);
    assert.ok(Date.now() - started < 2000, 'nobody waited for the 30 s timeout');
    const rejected = settled.filter((s) => s.status === 'rejected');
    assert.ok(rejected.length >= 4, `${rejected.length} rejected`);
    assert.ok(rejected.every((s) => (s as PromiseRejectedResult).reason instanceof ExecutorDownError));
    assert.ok(hanging.length === 3 && settled.slice(0, 3).every((s) => s.status === 'rejected'));
  });
});

test('a cancel signal stops calls in flight: "cancelled", not counted against the executor', async () => {
  await withServer({ script: () => ({ kind: 'hang' }) }, async (srv) => {
    const cancel = new AbortController();
    const c = client(srv, { timeout_ms: 30_000 }, { signal: cancel.signal, downAfterFailures: 1 });
    const pending = c.sample(msgs, sampling, 2);
    while (srv.completionRequests().length < 1) await new Promise((r) => setTimeout(r, 5));
    cancel.abort();
    const gens = await pending;
    assert.deepEqual(
      gens.map((g) => g.error),
      ['cancelled', 'cancelled'],
    );
    assert.equal(c.health().state, 'up');
    const later = await c.sample(msgs, sampling, 1);
    assert.equal(later[0]!.error, 'cancelled');
    assert.equal(srv.completionRequests().length, 1, 'nothing sent after the cancel');
  });
});

test('n-sampling probe: a fault on the probe does not conclude that the server ignores n', async () => {
  await withServer({ script: [{ kind: 'empty_choices' }], honourN: true, answer: () => '4' }, async (srv) => {
    const c = client(srv, { n_sampling: 'auto', max_retries: 1 });
    const gens = await c.sample(msgs, sampling, 4);
    assert.ok(gens.every((g) => g.text === '4'));
    await c.sample(msgs, sampling, 4);
    assert.deepEqual(
      srv.completionRequests().map((r) => r.n),
      [4, 4, 4],
      'still one n=4 request per call',
    );
  });
});

const problem: MathProblem = {
  task: 'gsm8k',
  id: 'p1',
  kind: 'math',
  problem: 'What is 2+2?',
  answer: '4',
  reference_trace: null,
  meta: {},
};

function scorer(c: ExecutorClient): GroupScorer {
  return new GroupScorer({
    client: c,
    executorIdentity: 'fault',
    sampling,
    prompts: DEFAULT_PROMPTS,
    verifier: new EngineVerifier(),
    cache: null,
    k: 3,
    baselineSamples: 4,
    reward: RewardConfigSchema.parse({ mode: 'exec_only' }),
  });
}

test('a group whose with-trace calls get `choices: []` is scored with those calls failed and excluded, not crashed', async () => {
  // The baseline has no trace; with-trace prompts carry "Provided reasoning".
  await withServer(
    { script: (_i, req) => (req.prompt.includes('Provided reasoning') ? { kind: 'empty_choices' } : { kind: 'ok' }), answer: () => '4' },
    async (srv) => {
      const group = await scorer(client(srv, { max_retries: 1 })).scoreGroup(problem, [{ sample_id: 'a', trace: 'Add.', source: 't' }], {
        groupIndex: 0,
      });
      const a = group.samples[0]!;
      assert.equal(group.baseline.tally.valid, 4);
      assert.equal(group.baseline.tally.rate, 1);
      assert.deepEqual([a.with_trace.tally.valid, a.with_trace.tally.failed, a.with_trace.tally.rate], [0, 3, null]);
      assert.ok(a.with_trace.attempts.every((t) => t.error === 'executor returned no choices (2 attempts)' && t.verdict === null));
      assert.equal(a.uplift, null);
      assert.equal(a.reward, null, 'never a 0 score');
    },
  );
});

test('a group scored against an executor that is down rejects with ExecutorDownError', async () => {
  await withServer({ script: () => ({ kind: 'reset' }) }, async (srv) => {
    const c = client(srv, { max_retries: 0 }, { downAfterFailures: 2 });
    await assert.rejects(
      scorer(c).scoreGroup(problem, [{ sample_id: 'a', trace: 'Add.', source: 't' }], { groupIndex: 0 }),
      (err: unknown) => err instanceof ExecutorDownError && /connection closed before any response/.test(err.message),
    );
  });
});
