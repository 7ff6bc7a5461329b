import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EndpointSchema, SamplingSchema } from '../../src/engine/contract';
import * as net from 'node:net';
import { getEventListeners } from 'node:events';
import OpenAI from 'openai';
import { ExecutorClient } from '../../src/engine/executor/client';
import { RequestSignals } from '../../src/engine/executor/requestSignals';
import { CircuitBreaker, ExecutorDownError } from '../../src/engine/executor/circuitBreaker';
import { completeFetch, MAX_RETRY_AFTER_MS } from '../../src/engine/executor/completeFetch';
import { describeFailure, InvalidResponseError, TransportError } from '../../src/engine/executor/failures';
import { checkCompletionBody, readChoice } from '../../src/engine/executor/wireFormat';
import { startFakeOpenAI } from '../helpers/fakeOpenAI';
import { startFaultServer } from '../helpers/faultServer';

const sampling = SamplingSchema.parse({ max_tokens: 16 });
const msgs = [{ role: 'user' as const, content: 'What is 2+2?' }];

test('n samples in one request where the server honours n', async () => {
  const srv = await startFakeOpenAI({ answer: () => '4', honourN: true });
  try {
    const client = new ExecutorClient(EndpointSchema.parse({ base_url: srv.url, model: 'm' }));
    const gens = await client.sample(msgs, sampling, 5);
    assert.equal(gens.length, 5);
    assert.ok(gens.every((g) => g.text === '4' && g.error === null));
    assert.equal(srv.requests.length, 1);
    assert.equal(srv.requests[0]!.body.n, 5);
  } finally {
    await srv.close();
  }
});

test('fans out the missing samples where the server ignores n, and remembers it', async () => {
  const srv = await startFakeOpenAI({ answer: () => '4', honourN: false });
  try {
    const client = new ExecutorClient(EndpointSchema.parse({ base_url: srv.url, model: 'm' }));
    const first = await client.sample(msgs, sampling, 4);
    assert.equal(first.length, 4);
    assert.equal(srv.requests.length, 4); // one n=4 request answered with 1 choice + 3 single requests
    const before = srv.requests.length;
    await client.sample(msgs, sampling, 3);
    assert.equal(srv.requests.length - before, 3);
    assert.ok(
      srv.requests.slice(before).every((r) => r.body.n === 1),
      'after the probe, no more n>1 requests',
    );
  } finally {
    await srv.close();
  }
});

test('retries 503 with backoff and then succeeds', async () => {
  const srv = await startFakeOpenAI({ answer: () => 'ok', failFirst: 2, failStatus: 503 });
  try {
    const client = new ExecutorClient(EndpointSchema.parse({ base_url: srv.url, model: 'm', max_retries: 3, n_sampling: 'no' }));
    const [g] = await client.sample(msgs, sampling, 1);
    assert.equal(g!.error, null);
    assert.equal(g!.text, 'ok');
    assert.equal(srv.requests.length, 3);
  } finally {
    await srv.close();
  }
});

test('a call that keeps failing is returned as an error, never as an answer', async () => {
  const srv = await startFakeOpenAI({ answer: () => 'never', alwaysFail: true, failStatus: 500 });
  try {
    const client = new ExecutorClient(EndpointSchema.parse({ base_url: srv.url, model: 'm', max_retries: 1, n_sampling: 'no' }));
    const gens = await client.sample(msgs, sampling, 2);
    assert.equal(gens.length, 2);
    for (const g of gens) {
      assert.equal(g.text, null);
      assert.match(g.error!, /500/);
    }
    assert.equal(client.stats.failed_generations, 2);
  } finally {
    await srv.close();
  }
});

test('unreachable endpoint: the call fails with "connection refused", retried, never thrown', async () => {
  const port = await closedPort();
  const client = new ExecutorClient(EndpointSchema.parse({ base_url: `http://127.0.0.1:${port}/v1`, model: 'm', max_retries: 1 }));
  const [g] = await client.sample(msgs, sampling, 1);
  assert.equal(g!.text, null);
  assert.equal(g!.error, `connection refused by 127.0.0.1:${port} (2 attempts)`);
  assert.equal(client.stats.attempts, 2);
  assert.equal(client.stats.failed_requests, 1);
});

test('concurrency bound: never more requests in flight than configured', async () => {
  let inFlight = 0;
  let peak = 0;
  const http = await import('node:http');
  const server = http.createServer((req, res) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    req.resume();
    setTimeout(() => {
      inFlight--;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'x',
          object: 'chat.completion',
          created: 0,
          model: 'm',
          choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'a' } }],
        }),
      );
    }, 30);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const client = new ExecutorClient(
      EndpointSchema.parse({ base_url: `http://127.0.0.1:${port}/v1`, model: 'm', concurrency: 3, n_sampling: 'no' }),
    );
    await Promise.all(Array.from({ length: 5 }, () => client.sample(msgs, sampling, 2)));
    assert.equal(peak, 3);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('an API key env var that is not set is a clear error', () => {
  delete process.env.TRACELIFT_TEST_MISSING_KEY;
  assert.throws(
    () =>
      new ExecutorClient(
        EndpointSchema.parse({ base_url: 'http://127.0.0.1:1/v1', model: 'm', api_key_env: 'TRACELIFT_TEST_MISSING_KEY' }),
      ),
    /TRACELIFT_TEST_MISSING_KEY/,
  );
});

async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

test('checkCompletionBody: an unusable 200 body is an InvalidResponseError in words', () => {
  const reason = (text: string) => {
    try {
      checkCompletionBody(text);
      return null;
    } catch (err) {
      assert.ok(err instanceof InvalidResponseError);
      return err.describe();
    }
  };
  assert.equal(reason('{"choices":[{"message":{"content":"4"}}]}'), null);
  assert.equal(reason(''), 'executor returned an empty body');
  assert.equal(reason('{"choices": []}'), 'executor returned no choices');
  assert.match(reason('{"choices": [{"mess')!, /^executor returned a body that is not JSON \(19 bytes\): body begins \{"choices/);
  assert.match(reason('{"id": "x"}')!, /^executor returned a response without choices: body begins \{"id"/);
  assert.equal(reason('{"error": {"message": "model not loaded"}}'), 'executor returned an error in a 200 response: model not loaded');
  assert.match(reason('[1,2]')!, /without choices/);
  // Untrusted text stays on one line and short.
  const long = reason('<html>\n' + 'x'.repeat(5000))!;
  assert.ok(!long.includes('\n') && long.length < 200, long);
});

test('readChoice: a choice without text is a failed generation, an empty string is an answer', () => {
  assert.deepEqual(readChoice({ message: { content: '' }, finish_reason: 'stop' }, 'chat'), {
    text: '',
    error: null,
    finish_reason: 'stop',
  });
  assert.deepEqual(readChoice({ text: '7', finish_reason: 'stop' }, 'completions'), { text: '7', error: null, finish_reason: 'stop' });
  assert.equal(
    readChoice({ message: { content: null }, finish_reason: 'length' }, 'chat').error,
    'executor returned a choice without message content (finish_reason: length)',
  );
  assert.equal(
    readChoice({ finish_reason: null }, 'chat').error,
    'executor returned a choice without message content (finish_reason: none)',
  );
  assert.equal(
    readChoice({ message: { content: '4' } }, 'completions').error,
    'executor returned a choice without text (finish_reason: none)',
  );
  assert.equal(readChoice('4', 'chat').error, 'executor returned a malformed choice');
  assert.equal(readChoice({ message: { content: 4 } }, 'chat').error, 'executor returned a malformed choice');
});

test('describeFailure: every SDK failure in words, with the attempts made', () => {
  const limits = { timeout_ms: 20_000, max_retries: 4 };
  assert.equal(describeFailure(new OpenAI.APIConnectionTimeoutError(), limits), 'timed out after 20 s (5 attempts)');
  assert.equal(describeFailure(new OpenAI.APIConnectionTimeoutError(), { timeout_ms: 300, max_retries: 0 }), 'timed out after 0.3 s');
  const cut = new OpenAI.APIConnectionError({ cause: new TransportError('connection closed before the response was complete') });
  assert.equal(describeFailure(cut, limits), 'connection closed before the response was complete (5 attempts)');
  const empty = new OpenAI.APIConnectionError({ cause: new InvalidResponseError('executor returned no choices') });
  assert.equal(describeFailure(empty, limits), 'executor returned no choices (5 attempts)');
  const status = (code: number) => OpenAI.APIError.generate(code, { error: { message: 'overloaded' } }, undefined, new Headers());
  assert.equal(describeFailure(status(500), limits), 'HTTP 500: overloaded (5 attempts)');
  assert.equal(describeFailure(status(429), limits), 'HTTP 429: overloaded (5 attempts)');
  assert.equal(describeFailure(status(400), limits), 'HTTP 400: overloaded', 'a 400 is not retried');
  assert.equal(describeFailure(new OpenAI.APIUserAbortError(), limits), 'cancelled');
});

test('circuit breaker: trips after N failures in a row, a success resets the count, then it fails fast', () => {
  const downs: ExecutorDownError[] = [];
  const b = new CircuitBreaker({ endpoint: 'http://h/v1 (model m)', downAfter: 3, onDown: (e) => downs.push(e) });
  assert.equal(b.recordFailure('HTTP 500: a'), null);
  assert.equal(b.recordFailure('HTTP 500: a'), null);
  assert.equal(b.health().state, 'failing');
  b.recordSuccess();
  assert.deepEqual([b.health().state, b.health().consecutive_failures, b.health().recent_failures], ['up', 0, []]);
  b.recordFailure('HTTP 500: a');
  b.recordFailure('timed out after 20 s');
  assert.equal(b.signal.aborted, false);
  const down = b.recordFailure('HTTP 500: a');
  assert.ok(down instanceof ExecutorDownError);
  assert.equal(down.consecutiveFailures, 3);
  assert.deepEqual(down.reasons, ['HTTP 500: a', 'timed out after 20 s', 'HTTP 500: a']);
  assert.equal(
    down.message,
    'executor http://h/v1 (model m) is down: 3 calls in a row failed after retries, none succeeded since (last failures: HTTP 500: a ×2; timed out after 20 s)',
  );
  assert.equal(downs.length, 1);
  assert.equal(b.signal.aborted, true, 'calls in flight are aborted');
  assert.throws(() => b.assertUp(), ExecutorDownError);
  b.recordSuccess(); // a late success does not revive it
  assert.equal(b.health().state, 'down');
  assert.equal(b.health().down_reason, down.message);
  assert.ok(b.health().down_since);
  assert.equal(b.recordFailure('x'), down);
  assert.equal(downs.length, 1, 'onDown fires once');
  return assert.rejects(b.whenDown, (e) => e === down);
});

test('circuit breaker: downAfter 0 never trips', () => {
  const b = new CircuitBreaker({ endpoint: 'e', downAfter: 0 });
  for (let i = 0; i < 100; i++) assert.equal(b.recordFailure('x'), null);
  assert.equal(b.health().state, 'failing');
});

test('completeFetch: a Retry-After of an hour is shortened, one within bounds is kept', async () => {
  const srv = await startFaultServer({
    script: [
      { kind: 'status', status: 429, retryAfter: 3600 },
      { kind: 'status', status: 429, retryAfter: 2 },
    ],
  });
  try {
    const f = completeFetch();
    const post = { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } };
    const long = await f(`${srv.url}/chat/completions`, post);
    assert.equal(long.status, 429);
    assert.equal(long.headers.get('retry-after'), String(MAX_RETRY_AFTER_MS / 1000));
    const short = await f(`${srv.url}/chat/completions`, post);
    assert.equal(short.headers.get('retry-after'), '2');
    assert.match(await short.text(), /injected 429/);
    // Not a completion: the body is passed through unchecked.
    const models = await f(`${srv.url}/models`);
    assert.equal(((await models.json()) as { data: unknown[] }).data.length, 1);
  } finally {
    await srv.close();
  }
});

test('completions API: the prompt is rendered by renderCompletion (default: ours); down_after_failures comes from the endpoint', async () => {
  const srv = await startFaultServer({ answer: () => '4' });
  try {
    const endpoint = EndpointSchema.parse({ base_url: srv.url, model: 'm', api: 'completions', max_retries: 0 });
    const system = { role: 'system' as const, content: 'Be brief.' };
    await new ExecutorClient(endpoint).sample([system, ...msgs], sampling, 1);
    await new ExecutorClient(endpoint, { renderCompletion: (m) => `RENDERED ${m.length}` }).sample([system, ...msgs], sampling, 1);
    const [ours, custom] = srv.completionRequests();
    assert.equal(ours!.path, '/v1/completions');
    assert.equal(ours!.body.prompt, 'System: Be brief.\n\nUser: What is 2+2?\n\nAssistant:');
    assert.equal(custom!.body.prompt, 'RENDERED 2');
  } finally {
    await srv.close();
  }
  const never = new ExecutorClient(EndpointSchema.parse({ base_url: 'http://127.0.0.1:9/v1', model: 'm', down_after_failures: 0 }));
  assert.equal(never.health().down_after, 0);
  const defaulted = new ExecutorClient(EndpointSchema.parse({ base_url: 'http://127.0.0.1:9/v1', model: 'm' }));
  assert.equal(defaulted.health().down_after, 8);
});

test('abort listeners do not pile up on a long-lived signal over many requests (no MaxListenersExceededWarning)', async () => {
  const srv = await startFakeOpenAI({ answer: () => '4', honourN: true, failFirst: 1 });
  const warnings: Error[] = [];
  const onWarning = (w: Error) => {
    if (w.name === 'MaxListenersExceededWarning') warnings.push(w);
  };
  process.on('warning', onWarning);
  try {
    const cancel = new AbortController();
    const client = new ExecutorClient(EndpointSchema.parse({ base_url: srv.url, model: 'm', concurrency: 12 }), { signal: cancel.signal });
    for (let i = 0; i < 25; i++) {
      // the first calls are retried: every SDK attempt adds a listener to the signal it is given
      const gens = await client.sample(msgs, sampling, 2);
      assert.ok(gens.every((g) => g.text === '4'));
      assert.equal(getEventListeners(cancel.signal, 'abort').length, 0, `after request ${i + 1}`);
    }
    const inFlight = Promise.all(Array.from({ length: 12 }, () => client.sample(msgs, sampling, 1)));
    await new Promise((r) => setImmediate(r));
    assert.equal(getEventListeners(cancel.signal, 'abort').length, 1, 'one listener while calls are in flight');
    await inFlight;
    assert.equal(getEventListeners(cancel.signal, 'abort').length, 0);
    await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
    assert.deepEqual(warnings, []);
  } finally {
    process.off('warning', onWarning);
    await srv.close();
  }
});

test('RequestSignals: any shared signal aborts the calls in flight; no listener left once they settle', async () => {
  const cancel = new AbortController();
  const breaker = new AbortController();
  const listeners = () => getEventListeners(cancel.signal, 'abort').length + getEventListeners(breaker.signal, 'abort').length;
  const signals = new RequestSignals([cancel.signal, breaker.signal]);
  assert.equal(await signals.run(async (signal) => signal.aborted), false);
  assert.equal(listeners(), 0);
  const waitForAbort = (signal: AbortSignal) =>
    new Promise<unknown>((resolve) => signal.addEventListener('abort', () => resolve(signal.reason)));
  const calls = [signals.run(waitForAbort), signals.run(waitForAbort)];
  assert.equal(listeners(), 2, 'one per shared signal, however many calls');
  breaker.abort('down');
  assert.deepEqual(await Promise.all(calls), ['down', 'down']);
  assert.equal(listeners(), 0);
  // a shared signal already aborted: the call starts aborted
  assert.equal(await signals.run(async (signal) => signal.aborted), true);
  assert.equal(listeners(), 0);
});
