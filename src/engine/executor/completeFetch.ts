/**
 * The fetch the executor's openai client uses. The SDK's timeout and retry
 * cover only the wait for response headers: a body that hangs, is cut, or is
 * not a usable completion escapes both. This fetch reads the whole body
 * before it returns, so the SDK's timeout covers it, and throws for a cut
 * connection or an unusable 200, so the SDK retries those like any
 * connection failure (same backoff, same max_retries). No second retry loop.
 */
import { checkCompletionBody } from './wireFormat';
import { TransportError, transportReason } from './failures';

/** A Retry-After beyond this is shortened: a run must not sleep for an hour on one header. */
export const MAX_RETRY_AFTER_MS = 60_000;

export interface CompleteFetchOptions {
  /** Called once per HTTP attempt (retries included). */
  onAttempt?: () => void;
}

export function completeFetch(opts: CompleteFetchOptions = {}): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  return async (input, init) => {
    opts.onAttempt?.();
    const url = input instanceof Request ? input.url : String(input);
    let res: Response;
    try {
      res = await fetch(input, init);
    } catch (err) {
      throw transportFailure(err, url, false);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw transportFailure(err, url, true);
    }
    const headers = new Headers(res.headers);
    // The body is already decoded and whole: its original framing no longer applies.
    headers.delete('content-length');
    headers.delete('content-encoding');
    headers.delete('transfer-encoding');
    capRetryAfter(headers);
    if (res.ok && isCompletionRequest(url, init)) {
      checkCompletionBody(text);
      headers.set('content-type', 'application/json');
    }
    const nullBody = res.status === 204 || res.status === 205 || res.status === 304;
    return new Response(nullBody ? null : text, { status: res.status, statusText: res.statusText, headers });
  };
}

/** An abort (the SDK's timeout or the caller's signal) stays an AbortError so the SDK classes it. */
function transportFailure(err: unknown, url: string, afterHeaders: boolean): unknown {
  if (err instanceof Error && err.name === 'AbortError') return err;
  return new TransportError(transportReason(err, url, afterHeaders), { cause: err });
}

function isCompletionRequest(url: string, init: RequestInit | undefined): boolean {
  return (init?.method ?? 'GET').toUpperCase() === 'POST' && /\/completions\/?$/.test(new URL(url).pathname);
}

function capRetryAfter(headers: Headers): void {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && Number(ms) > MAX_RETRY_AFTER_MS) headers.set('retry-after-ms', String(MAX_RETRY_AFTER_MS));
  const after = headers.get('retry-after');
  if (after === null) return;
  const seconds = Number(after);
  const waitMs = Number.isNaN(seconds) ? Date.parse(after) - Date.now() : seconds * 1000;
  if (waitMs > MAX_RETRY_AFTER_MS) headers.set('retry-after', String(MAX_RETRY_AFTER_MS / 1000));
}
