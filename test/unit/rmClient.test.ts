import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  parseRmDimensions,
  parseRmResponse,
  RmClientError,
  scoreTraces,
  scoreTracesDetailed,
  type RmItem,
} from '../../src/engine/reward/rmClient';

/**
 * A tiny Reason RM server implementing the official protocol. The score of an
 * item is a deterministic function of its reasoning, so tests can check order.
 * Routes:
 *   /score        {"scores":[…]}
 *   /results      {"results":[{"total_score":…}]}
 *   /list         bare list
 *   /flaky        503 on the first request, then /score behaviour
 *   /slow-once    first request hangs past the client timeout, then /score
 *   /always500    500 forever
 *   /bad400       400
 *   /malformed    {"scores":[0.5, "high"]}
 *   /malformed-obj {"results":[{"total_score":0.3},{"total_score":null}]}
 *   /short        one score fewer than items
 *   /notjson      200 with HTML
 */
interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

const scoreOf = (reasoning: string) => Math.min(1, reasoning.length / 100);

let server: http.Server;
let base = '';
let received: Received[] = [];
const hits = new Map<string, number>();

function validRequest(body: any): string | null {
  if (!body || !Array.isArray(body.items)) return 'items must be a list';
  for (const it of body.items) {
    for (const k of ['problem', 'reasoning', 'task_name', 'task_type']) {
      if (typeof it[k] !== 'string') return `item.${k} must be a string`;
    }
  }
  if (!Number.isInteger(body.max_length) || !Number.isInteger(body.batch_size)) return 'max_length/batch_size';
  return null;
}

before(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const n = (hits.get(path) ?? 0) + 1;
      hits.set(path, n);
      let body: any = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        /* leave null */
      }
      received.push({ path, headers: req.headers, body });
      const send = (status: number, payload: unknown, raw = false) => {
        res.writeHead(status, { 'content-type': raw ? 'text/html' : 'application/json' });
        res.end(raw ? String(payload) : JSON.stringify(payload));
      };
      if (req.method !== 'POST') return send(405, { error: 'POST only' });
      const problem = validRequest(body);
      if (problem) return send(422, { error: problem });
      const scores: number[] = body.items.map((it: any) => scoreOf(it.reasoning));
      switch (path) {
        case '/score':
          return send(200, { scores });
        case '/results':
          return send(200, { results: scores.map((s) => ({ total_score: s, dims: [1, 2] })) });
        case '/list':
          return send(200, scores);
        case '/flaky':
          return n === 1 ? send(503, { error: 'warming up' }) : send(200, { scores });
        case '/slow-once':
          if (n === 1) {
            setTimeout(() => {
              if (!res.writableEnded && !res.destroyed) send(200, { scores });
            }, 1_000).unref();
            return;
          }
          return send(200, { scores });
        case '/always500':
          return send(500, { error: 'boom' });
        case '/bad400':
          return send(400, { error: 'bad request' });
        case '/malformed':
          return send(200, { scores: [0.5, 'high'] });
        case '/malformed-obj':
          return send(200, { results: [{ total_score: 0.3 }, { total_score: null }] });
        case '/short':
          return send(200, { scores: scores.slice(1) });
        case '/notjson':
          return send(200, '<html>oops</html>', true);
        default:
          return send(404, { error: 'no route' });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  received = [];
  hits.clear();
});

const items = (n: number): RmItem[] =>
  Array.from({ length: n }, (_, i) => ({
    problem: `problem ${i}`,
    reasoning: 'x'.repeat(10 * (i + 1)),
    taskName: 'math',
    taskType: 'math',
  }));
const fast = { backoffMs: 5, maxBackoffMs: 20, timeoutMs: 2_000 };

describe('scoreTraces against a real HTTP server', () => {
  test('sends the official request shape and returns scores in order, batched', async () => {
    const scores = await scoreTraces(`${base}/score`, items(5), { ...fast, batchSize: 2, concurrency: 2, maxLength: 2048 });
    assert.deepEqual(scores, [0.1, 0.2, 0.3, 0.4, 0.5]);
    assert.equal(received.length, 3);
    const sizes = received.map((r) => r.body.items.length).sort();
    assert.deepEqual(sizes, [1, 2, 2]);
    const first = received.find((r) => r.body.items[0].problem === 'problem 0');
    assert.ok(first);
    assert.deepEqual(first.body, {
      items: [
        { problem: 'problem 0', reasoning: 'x'.repeat(10), task_name: 'math', task_type: 'math' },
        { problem: 'problem 1', reasoning: 'x'.repeat(20), task_name: 'math', task_type: 'math' },
      ],
      max_length: 2048,
      batch_size: 2,
    });
    assert.equal(first.headers['content-type'], 'application/json');
    assert.equal(first.headers.authorization, undefined);
  });

  test('accepts {"results":[{total_score}]} and bare lists', async () => {
    assert.deepEqual(await scoreTraces(`${base}/results`, items(3), fast), [0.1, 0.2, 0.3]);
    assert.deepEqual(await scoreTraces(`${base}/list`, items(2), fast), [0.1, 0.2]);
  });

  test('sends the API key as a Bearer token', async () => {
    await scoreTraces(`${base}/score`, items(1), { ...fast, apiKey: 'sekret' });
    assert.equal(received[0]?.headers.authorization, 'Bearer sekret');
  });

  test('503 then OK: retried', async () => {
    const scores = await scoreTraces(`${base}/flaky`, items(2), { ...fast, retries: 2 });
    assert.deepEqual(scores, [0.1, 0.2]);
    assert.equal(hits.get('/flaky'), 2);
  });

  test('timeout then OK: retried', async () => {
    const scores = await scoreTraces(`${base}/slow-once`, items(1), { ...fast, timeoutMs: 150, retries: 1 });
    assert.deepEqual(scores, [0.1]);
    assert.equal(hits.get('/slow-once'), 2);
  });

  test('timeout with no retries left: rejects naming the timeout', async () => {
    await assert.rejects(
      scoreTraces(`${base}/slow-once`, items(1), { ...fast, timeoutMs: 100, retries: 0 }),
      (e: unknown) => e instanceof RmClientError && /timed out after 100 ms/.test(e.message),
    );
  });

  test('persistent 500: gives up after retries+1 attempts', async () => {
    await assert.rejects(
      scoreTraces(`${base}/always500`, items(1), { ...fast, retries: 2 }),
      (e: unknown) => e instanceof RmClientError && /HTTP 500/.test(e.message) && /after 3 attempts/.test(e.message),
    );
    assert.equal(hits.get('/always500'), 3);
  });

  test('400 is not retried', async () => {
    await assert.rejects(scoreTraces(`${base}/bad400`, items(1), { ...fast, retries: 3 }), /HTTP 400/);
    assert.equal(hits.get('/bad400'), 1);
  });

  test('malformed response: error names the field, no retry', async () => {
    await assert.rejects(
      scoreTraces(`${base}/malformed`, items(2), { ...fast, retries: 3 }),
      (e: unknown) => e instanceof RmClientError && /field scores\[1\]/.test(e.message) && /"high"/.test(e.message),
    );
    assert.equal(hits.get('/malformed'), 1);
    await assert.rejects(
      scoreTraces(`${base}/malformed-obj`, items(2), fast),
      /field results\[1\]\.total_score: expected a finite number, got null/,
    );
  });

  test('wrong number of scores', async () => {
    await assert.rejects(scoreTraces(`${base}/short`, items(3), fast), /2 scores for 3 items/);
  });

  test('non-JSON body', async () => {
    await assert.rejects(scoreTraces(`${base}/notjson`, items(1), fast), /not JSON/);
  });

  test('connection refused is retried then reported', async () => {
    const dead = http.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    await assert.rejects(
      scoreTraces(`http://127.0.0.1:${port}/score`, items(1), { ...fast, retries: 1 }),
      (e: unknown) => e instanceof RmClientError && /failed/.test(e.message) && /after 2 attempts/.test(e.message),
    );
  });

  test('empty input makes no request; invalid items and options throw', async () => {
    assert.deepEqual(await scoreTraces(`${base}/score`, [], fast), []);
    assert.equal(received.length, 0);
    await assert.rejects(
      scoreTraces(`${base}/score`, [{ problem: 'p', reasoning: 3 as unknown as string, taskName: 'math', taskType: 'math' }]),
      /RM item 0: field reasoning/,
    );
    await assert.rejects(scoreTraces('not a url', items(1)), /not a URL/);
    await assert.rejects(scoreTraces(`${base}/score`, items(1), { batchSize: 0 }), /batchSize/);
  });

  test('a caller abort is not retried', async () => {
    const ac = new AbortController();
    const p = scoreTraces(`${base}/slow-once`, items(1), { ...fast, timeoutMs: 5_000, retries: 3, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('cancelled by user')), 50);
    await assert.rejects(p, /cancelled by user/);
    assert.equal(hits.get('/slow-once'), 1);
  });
});

describe('parseRmResponse', () => {
  test('official shapes', () => {
    assert.deepEqual(parseRmResponse([0.1, { score: 0.2 }, { reward: 0.3 }, { total: 0.4 }, { value: 0.5 }], 5), [0.1, 0.2, 0.3, 0.4, 0.5]);
    assert.deepEqual(parseRmResponse(0.7, 1), [0.7]);
    assert.deepEqual(parseRmResponse({ outputs: [0.1] }, 1), [0.1]);
    assert.deepEqual(parseRmResponse({ data: 0.9 }, 1), [0.9]);
    // first present key wins, in the official order
    assert.deepEqual(parseRmResponse({ scores: [0.1], data: [0.2, 0.3] }, 1), [0.1]);
    assert.deepEqual(parseRmResponse([{ total_score: 0.6, score: 0.1 }], 1), [0.6]);
  });
  test('malformed shapes name the field', () => {
    assert.throws(() => parseRmResponse({ foo: [1] }, 1), /field \(root\): object has none of the fields scores/);
    assert.throws(() => parseRmResponse({ scores: { a: 1 } }, 1), /field scores: expected a list of scores, got an object/);
    assert.throws(() => parseRmResponse([{ nope: 1 }], 1), /field \[0\]: object has none of the score fields/);
    assert.throws(() => parseRmResponse([true], 1), /field \[0\]: expected a number/);
    assert.throws(() => parseRmResponse('0.5', 1), /expected a list of scores/);
  });
});

describe('per-item rubric dimensions (TraceLift rm serve)', () => {
  const dims = (x: number) => ({ problem_understanding: x, step_coherence: 4 - x });

  test('parseRmDimensions: absent or null → one null per item', () => {
    assert.deepEqual(parseRmDimensions({ scores: [0.1, 0.2] }, 2), [null, null]);
    assert.deepEqual(parseRmDimensions([0.1, 0.2], 2), [null, null]);
    assert.deepEqual(parseRmDimensions({ scores: [0.1], dimensions: null }, 1), [null]);
  });

  test('parseRmDimensions: one object per item, in order', () => {
    assert.deepEqual(parseRmDimensions({ scores: [0.1, 0.2], dimensions: [dims(1), dims(3)] }, 2), [dims(1), dims(3)]);
  });

  test('parseRmDimensions: a label out of [0, 4], a wrong count or a non-list is refused, the field named', () => {
    assert.throws(
      () => parseRmDimensions({ scores: [0.1], dimensions: [{ step_coherence: 5 }] }, 1),
      /field dimensions\[0\]\.step_coherence/,
    );
    assert.throws(() => parseRmDimensions({ scores: [0.1, 0.2], dimensions: [dims(1)] }, 2), /1 dimension entries for 2 items/);
    assert.throws(() => parseRmDimensions({ scores: [0.1], dimensions: 'high' }, 1), /field dimensions/);
  });

  test('scoreTracesDetailed keeps each score with its dimensions across batches', async () => {
    const dimServer = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(raw) as { items: { reasoning: string }[] };
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            scores: body.items.map((it) => scoreOf(it.reasoning)),
            dimensions: body.items.map((it) => dims(it.reasoning.length / 10)),
          }),
        );
      });
    });
    await new Promise<void>((resolve) => dimServer.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(dimServer.address() as AddressInfo).port}/score`;
      const scored = await scoreTracesDetailed(url, items(3), { ...fast, batchSize: 2 });
      assert.deepEqual(
        scored,
        [1, 2, 3].map((i) => ({ score: i / 10, dimensions: dims(i) })),
      );
      // The plain call gives the same scores, without dimensions.
      assert.deepEqual(await scoreTraces(url, items(3), { ...fast, batchSize: 2 }), [0.1, 0.2, 0.3]);
    } finally {
      await new Promise<void>((resolve) => dimServer.close(() => resolve()));
    }
  });
});
