/**
 * A well-behaved OpenAI-compatible server for protocol tests, with the few
 * misbehaviours most tests need (ignoring n, failing with a status) as plain
 * options. Answers are produced by a callback from the prompt. Built on the
 * fault-injecting server (faultServer.ts), which scripts every other fault.
 */
import { startFaultServer, type RecordedRequest } from './faultServer';

export interface FakeServerOptions {
  /** Reply text for a request (the last user message, or the completions prompt, is passed). */
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
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startFakeOpenAI(opts: FakeServerOptions): Promise<FakeServer> {
  const srv = await startFaultServer({
    honourN: opts.honourN ?? false,
    answer: (prompt, choice, req) => opts.answer(prompt, (req.index + 1) * 100 + choice),
    script: (i, req) =>
      opts.alwaysFail || i < (opts.failFirst ?? 0) || opts.failWhen?.(req.prompt)
        ? { kind: 'status', status: opts.failStatus ?? 503, message: 'overloaded' }
        : { kind: 'ok' },
  });
  return { url: srv.url, requests: srv.requests, close: srv.close };
}
