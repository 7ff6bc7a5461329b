/**
 * A minimal OpenAI-compatible HTTP server for protocol tests: behaviours a
 * real server shows only under load or by configuration (ignoring n, 503s,
 * hanging) on demand. Answers are produced by a callback from the prompt.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeServerOptions {
  /** Reply text for a chat request (the last user message is passed). */
  answer: (userMessage: string, index: number) => string;
  honourN?: boolean;
  /** Fail the first `failFirst` requests with this status. */
  failFirst?: number;
  failStatus?: number;
  /** Fail every request with failStatus. */
  alwaysFail?: boolean;
  /** Fail requests whose last user message matches. */
  failWhen?: (userMessage: string) => boolean;
}

export interface FakeServer {
  url: string;
  requests: { path: string; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

export async function startFakeOpenAI(opts: FakeServerOptions): Promise<FakeServer> {
  const requests: FakeServer['requests'] = [];
  let count = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      requests.push({ path: req.url ?? '', body });
      count++;
      const lastUser = ((body.messages ?? []) as { role: string; content: string }[]).filter((m) => m.role === 'user').pop()?.content ?? '';
      if (opts.alwaysFail || count <= (opts.failFirst ?? 0) || opts.failWhen?.(lastUser)) {
        res.writeHead(opts.failStatus ?? 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'overloaded' } }));
        return;
      }
      const messages = (body.messages ?? []) as { role: string; content: string }[];
      const user = [...messages].reverse().find((m) => m.role === 'user')?.content ?? String(body.prompt ?? '');
      const n = opts.honourN ? Number(body.n ?? 1) : 1;
      const choices = Array.from({ length: n }, (_, i) => ({
        index: i,
        finish_reason: 'stop',
        message: { role: 'assistant', content: opts.answer(user, count * 100 + i) },
        text: opts.answer(user, count * 100 + i),
      }));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `c${count}`, object: 'chat.completion', created: 0, model: body.model, choices }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
