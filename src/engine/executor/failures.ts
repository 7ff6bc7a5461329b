/**
 * Why an executor call failed, in words a user can act on ("timed out after
 * 20 s", "connection closed before the response was complete", "HTTP 500:
 * …"), from whatever the openai SDK or fetch threw.
 */
import OpenAI from 'openai';

/**
 * A 200 response the engine cannot use (not JSON, no choices). Thrown from
 * the client's fetch so the SDK retries it like a connection failure.
 * `detail` (a quote of the untrusted body) is kept out of `message`: the SDK
 * classes a failure as a timeout when its message says "timed out".
 */
export class InvalidResponseError extends Error {
  override name = 'InvalidResponseError';
  constructor(
    message: string,
    readonly detail: string | null = null,
  ) {
    super(message);
  }
  describe(): string {
    return this.detail ? `${this.message}: ${this.detail}` : this.message;
  }
}

/** A connection that failed or was cut, with the reason already in words. */
export class TransportError extends Error {
  override name = 'TransportError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Words for a fetch failure; `afterHeaders` when the response had started. */
export function transportReason(err: unknown, url: string, afterHeaders: boolean): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : (err as { code?: unknown } | null)?.code;
  const host = hostOf(url);
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${host}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host ${host} not found`;
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return `connection to ${host} timed out`;
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return afterHeaders ? 'connection closed before the response was complete' : 'connection closed before any response';
  }
  if (afterHeaders) return 'connection closed before the response was complete';
  const detail = typeof cause?.message === 'string' ? cause.message : err instanceof Error ? err.message : String(err);
  return `connection to ${host} failed: ${detail}`;
}

export interface CallLimits {
  timeout_ms: number;
  max_retries: number;
}

/** Statuses the SDK retries (it also honours an x-should-retry header, rarely sent). */
const RETRIED_STATUS = (status: number) => status === 408 || status === 409 || status === 429 || status >= 500;

/** The reason a call failed after the SDK's retries, in words, with the number of attempts made. */
export function describeFailure(err: unknown, limits: CallLimits): string {
  const attempts = limits.max_retries + 1;
  const retried = (reason: string) => (attempts > 1 ? `${reason} (${attempts} attempts)` : reason);
  if (err instanceof OpenAI.APIUserAbortError) return 'cancelled';
  if (err instanceof OpenAI.APIConnectionTimeoutError) return retried(`timed out after ${seconds(limits.timeout_ms)}`);
  if (err instanceof OpenAI.APIConnectionError) {
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof InvalidResponseError) return retried(cause.describe());
    if (cause instanceof TransportError) return retried(cause.message);
    return retried(cause instanceof Error ? cause.message : err.message);
  }
  if (err instanceof OpenAI.APIError && err.status !== undefined) {
    const detail = err.message.replace(/^\d{3}\s+/, '');
    const reason = `HTTP ${err.status}: ${detail}`.slice(0, 500);
    return RETRIED_STATUS(err.status) ? retried(reason) : reason;
  }
  return err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 500) : String(err).slice(0, 500);
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(ms < 1000 ? 2 : 1))} s`;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
