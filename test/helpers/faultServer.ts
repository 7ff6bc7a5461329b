/**
 * A fault-injecting OpenAI-compatible server for tests: what a misbehaving
 * endpoint does (5xx, 429, bodies that are not JSON or have no choices, cut
 * connections, hangs, slowness) on demand, request by request. Serves
 * /v1/chat/completions, /v1/completions and /v1/models on 127.0.0.1 at a
 * random port, and records every request it received so tests can assert on
 * retries, n, max_tokens…
 */
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  /** A well-formed reply: `choices` choices (default: the request's n, or 1 when honourN is off). */
  | { kind: 'ok'; text?: string; choices?: number; finishReason?: string }
  /** An HTTP error with an OpenAI-style error body; retryAfter sets the Retry-After header (seconds). */
  | { kind: 'status'; status: number; message?: string; retryAfter?: number }
  /** 200 with a body that is not JSON. */
  | { kind: 'malformed' }
  /** 200 with a JSON object that has no `choices`. */
  | { kind: 'missing_choices' }
  /** 200 with `choices: []`. */
  | { kind: 'empty_choices' }
  /** 200 whose choices have `content: null` (chat) / `text: null` (completions). */
  | { kind: 'null_content' }
  /** 200 whose choices have no message / text at all. */
  | { kind: 'missing_content' }
  /** The socket is destroyed before any response byte. */
  | { kind: 'reset' }
  /** Headers of a 200 are sent, then the connection is cut. */
  | { kind: 'cut_after_headers' }
  /** Headers and half of a well-formed body are sent, then the connection is cut. */
  | { kind: 'cut_mid_body' }
  /** Never answers (or, with afterHeaders, sends the headers and then nothing) until the server closes. */
  | { kind: 'hang'; afterHeaders?: boolean }
  /** Waits, then behaves as `then` (default ok). */
  | { kind: 'slow'; delayMs: number; then?: Fault };

export interface RecordedRequest {
  /** 0-based order of arrival over all paths. */
  index: number;
  method: string;
  path: string;
  body: Record<string, unknown>;
  /** The last user message (chat) or the prompt (completions). */
  prompt: string;
  n: number;
  max_tokens: number | undefined;
  fault: Fault['kind'];
  /** Date.now() when the request body had arrived. */
  at: number;
}

export interface FaultServerOptions {
  /**
   * The fault for each completion request: a list consumed in order (then
   * `ok`), or a function of the 0-based completion-request count and the request.
   */
  script?: Fault[] | ((index: number, req: RecordedRequest) => Fault);
  /** Reply text of an ok choice when the fault names none. */
  answer?: (prompt: string, choice: number, req: RecordedRequest) => string;
  /** Whether ok replies carry the request's n choices (default true) or one. */
  honourN?: boolean;
  /** Model id listed by /v1/models. */
  model?: string;
}

export interface FaultServer {
  /** Base URL, ending in /v1. */
  url: string;
  /** Every request received, /v1/models included, in order of arrival. */
  requests: RecordedRequest[];
  /** Only the completion requests (chat and plain). */
  completionRequests(): RecordedRequest[];
  /** Destroys open connections (hung ones included) and stops listening. */
  close(): Promise<void>;
}

export async function startFaultServer(opts: FaultServerOptions = {}): Promise<FaultServer> {
  const requests: RecordedRequest[] = [];
  let completions = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      let body: Record<string, unknown>;
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'request body is not JSON' } }));
        return;
      }
      const record: RecordedRequest = {
        index: requests.length,
        method: req.method ?? 'GET',
        path,
        body,
        prompt: promptOf(body),
        n: typeof body.n === 'number' ? body.n : 1,
        max_tokens: typeof body.max_tokens === 'number' ? body.max_tokens : undefined,
        fault: 'ok',
        at: Date.now(),
      };
      requests.push(record);

      if (req.method === 'GET' && path.endsWith('/models')) {
        sendJson(res, 200, { object: 'list', data: [{ id: opts.model ?? 'fault-model', object: 'model', created: 0, owned_by: 'test' }] });
        return;
      }
      const chat = path.endsWith('/chat/completions');
      if (req.method !== 'POST' || !(chat || path.endsWith('/completions'))) {
        sendJson(res, 404, { error: { message: `no route ${req.method} ${path}` } });
        return;
      }
      const i = completions++;
      const script = opts.script;
      const fault: Fault = typeof script === 'function' ? script(i, record) : (script?.[i] ?? { kind: 'ok' });
      record.fault = fault.kind;
      respond(fault, res, record, chat);
    });
  });

  function respond(fault: Fault, res: http.ServerResponse, record: RecordedRequest, chat: boolean): void {
    const choice = (i: number, content: string | null | undefined, finishReason = 'stop') => {
      const c: Record<string, unknown> = { index: i, finish_reason: finishReason, logprobs: null };
      if (chat && content !== undefined) c.message = { role: 'assistant', content };
      if (!chat && content !== undefined) c.text = content;
      return c;
    };
    const envelope = (choices: unknown[] | undefined) => ({
      id: `fault-${record.index}`,
      object: chat ? 'chat.completion' : 'text_completion',
      created: 0,
      model: String(record.body.model ?? opts.model ?? 'fault-model'),
      ...(choices ? { choices } : {}),
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    });
    const okBody = (f: Extract<Fault, { kind: 'ok' }>) => {
      const count = f.choices ?? ((opts.honourN ?? true) ? record.n : 1);
      return envelope(
        Array.from({ length: count }, (_, i) => choice(i, f.text ?? opts.answer?.(record.prompt, i, record) ?? 'ok', f.finishReason)),
      );
    };

    switch (fault.kind) {
      case 'ok':
        sendJson(res, 200, okBody(fault));
        return;
      case 'status': {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
        res.writeHead(fault.status, headers);
        res.end(JSON.stringify({ error: { message: fault.message ?? `injected ${fault.status}`, type: 'server_error' } }));
        return;
      }
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id": "x", "choices": [{"message": {"content": "4"');
        return;
      case 'missing_choices':
        sendJson(res, 200, envelope(undefined));
        return;
      case 'empty_choices':
        sendJson(res, 200, envelope([]));
        return;
      case 'null_content':
        sendJson(res, 200, envelope(Array.from({ length: record.n }, (_, i) => choice(i, null, 'length'))));
        return;
      case 'missing_content':
        sendJson(res, 200, envelope(Array.from({ length: record.n }, (_, i) => choice(i, undefined, 'length'))));
        return;
      case 'reset':
        res.socket?.destroy();
        return;
      case 'cut_after_headers':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
        res.flushHeaders();
        later(20, () => res.socket?.destroy());
        return;
      case 'cut_mid_body': {
        const text = JSON.stringify(okBody({ kind: 'ok' }));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
        res.write(text.slice(0, Math.floor(text.length / 2)));
        later(20, () => res.socket?.destroy());
        return;
      }
      case 'hang':
        if (fault.afterHeaders) {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
          res.flushHeaders();
        }
        return;
      case 'slow':
        later(fault.delayMs, () => respond(fault.then ?? { kind: 'ok' }, res, record, chat));
        return;
    }
  }

  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    completionRequests: () => requests.filter((r) => r.path.endsWith('/completions')),
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

function promptOf(body: Record<string, unknown>): string {
  if (Array.isArray(body.messages)) {
    const messages = body.messages as { role?: unknown; content?: unknown }[];
    const user = [...messages].reverse().find((m) => m.role === 'user');
    return typeof user?.content === 'string' ? user.content : '';
  }
  return typeof body.prompt === 'string' ? body.prompt : '';
}
