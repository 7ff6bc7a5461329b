import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EndpointSchema, SamplingSchema } from '../../src/engine/contract';
import { ExecutorClient } from '../../src/engine/executor/client';
import { startFakeOpenAI } from '../helpers/fakeOpenAI';

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
    assert.ok(srv.requests.slice(before).every((r) => r.body.n === 1), 'after the probe, no more n>1 requests');
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

test('unreachable endpoint fails fast with a connection error', async () => {
  const client = new ExecutorClient(EndpointSchema.parse({ base_url: 'http://127.0.0.1:9/v1', model: 'm', max_retries: 0 }));
  const [g] = await client.sample(msgs, sampling, 1);
  assert.equal(g!.text, null);
  assert.ok(g!.error && g!.error.length > 0);
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
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'a' } }] }));
    }, 30);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const client = new ExecutorClient(EndpointSchema.parse({ base_url: `http://127.0.0.1:${port}/v1`, model: 'm', concurrency: 3, n_sampling: 'no' }));
    await Promise.all(Array.from({ length: 5 }, () => client.sample(msgs, sampling, 2)));
    assert.equal(peak, 3);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('an API key env var that is not set is a clear error', () => {
  delete process.env.TRACELIFT_TEST_MISSING_KEY;
  assert.throws(
    () => new ExecutorClient(EndpointSchema.parse({ base_url: 'http://127.0.0.1:1/v1', model: 'm', api_key_env: 'TRACELIFT_TEST_MISSING_KEY' })),
    /TRACELIFT_TEST_MISSING_KEY/,
  );
});
