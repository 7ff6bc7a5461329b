/**
 * Decides when an executor is down rather than unlucky. Every call has
 * already been retried by the client; when `threshold` calls in a row fail
 * that way with no success since, the breaker trips for good: calls in
 * flight are aborted and every later call fails fast with ExecutorDownError,
 * so a run can end "failed" and say why instead of scoring nothing for hours.
 */

import { EVAL_OPTION_DEFAULTS } from '../contract/config';

/** Calls in a row that mark an executor down when nothing else is configured (the contract's default). */
export const DEFAULT_DOWN_AFTER_FAILURES: number = EVAL_OPTION_DEFAULTS.executorDownAfter;

/** How many of the last failure reasons an ExecutorDownError quotes. */
const KEPT_REASONS = 20;

export class ExecutorDownError extends Error {
  override name = 'ExecutorDownError';
  constructor(
    /** Where the executor was expected (base URL and model). */
    readonly endpoint: string,
    /** Failed calls in a row when it tripped. */
    readonly consecutiveFailures: number,
    /** The last failure reasons, oldest first. */
    readonly reasons: string[],
  ) {
    super(
      `executor ${endpoint} is down: ${consecutiveFailures} calls in a row failed after retries, none succeeded since (${summarize(reasons)})`,
    );
  }
}

export interface ExecutorHealth {
  /** "failing": the last calls failed but fewer than the threshold; "down": tripped. */
  state: 'up' | 'failing' | 'down';
  endpoint: string;
  consecutive_failures: number;
  down_after: number;
  /** The last failure reasons since the last success, oldest first. */
  recent_failures: string[];
  /** Set once down: the ExecutorDownError's message, and when it tripped. */
  down_reason: string | null;
  down_since: string | null;
}

export interface CircuitBreakerOptions {
  endpoint: string;
  /** Failed calls in a row that trip it; 0 never trips. */
  downAfter: number;
  onDown?: (err: ExecutorDownError) => void;
}

export class CircuitBreaker {
  private consecutive = 0;
  private recent: string[] = [];
  private tripped: ExecutorDownError | null = null;
  private trippedAt: string | null = null;
  private readonly controller = new AbortController();
  private rejectDown!: (err: ExecutorDownError) => void;
  /** Rejects with the ExecutorDownError when the breaker trips; never resolves. */
  readonly whenDown: Promise<never>;

  constructor(private readonly opts: CircuitBreakerOptions) {
    this.whenDown = new Promise<never>((_, reject) => (this.rejectDown = reject));
    this.whenDown.catch(() => {}); // observed by whoever races it; never an unhandled rejection
  }

  /** Aborted when the breaker trips: requests in flight stop. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get down(): ExecutorDownError | null {
    return this.tripped;
  }

  /** Throws the ExecutorDownError once tripped. */
  assertUp(): void {
    if (this.tripped) throw this.tripped;
  }

  recordSuccess(): void {
    if (this.tripped) return;
    this.consecutive = 0;
    this.recent = [];
  }

  /** Counts a call that failed after retries; returns the error when this failure trips the breaker. */
  recordFailure(reason: string): ExecutorDownError | null {
    if (this.tripped) return this.tripped;
    this.consecutive++;
    this.recent.push(reason);
    if (this.recent.length > KEPT_REASONS) this.recent.shift();
    if (this.opts.downAfter <= 0 || this.consecutive < this.opts.downAfter) return null;
    this.tripped = new ExecutorDownError(this.opts.endpoint, this.consecutive, [...this.recent]);
    this.trippedAt = new Date().toISOString();
    this.rejectDown(this.tripped);
    this.controller.abort(this.tripped);
    this.opts.onDown?.(this.tripped);
    return this.tripped;
  }

  health(): ExecutorHealth {
    return {
      state: this.tripped ? 'down' : this.consecutive > 0 ? 'failing' : 'up',
      endpoint: this.opts.endpoint,
      consecutive_failures: this.consecutive,
      down_after: this.opts.downAfter,
      recent_failures: [...this.recent],
      down_reason: this.tripped?.message ?? null,
      down_since: this.trippedAt,
    };
  }
}

/** "HTTP 500: overloaded (3 attempts) ×7; timed out after 20 s ×1", most frequent first, at most 3. */
function summarize(reasons: string[]): string {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const top = [...counts].sort((a, b) => b[1] - a[1]);
  const shown = top.slice(0, 3).map(([r, c]) => (c > 1 ? `${r} ×${c}` : r));
  if (top.length > 3) shown.push(`${top.length - 3} other reason(s)`);
  return `last failures: ${shown.join('; ')}`;
}
