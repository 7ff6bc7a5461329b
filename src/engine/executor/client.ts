/**
 * The one way the engine talks to an LLM: the `openai` package against any
 * OpenAI-compatible endpoint (vLLM, SGLang, llama.cpp, hosted APIs).
 *
 * - every request of a batch is in flight together, bounded per endpoint;
 * - n samples travel in one request where the server honours `n`, and the
 *   missing ones are fanned out where it does not (probed once, then remembered);
 * - the openai client retries 408/409/429/5xx, connection failures, cut
 *   bodies and unusable 200s (not JSON, no choices) with exponential backoff,
 *   up to endpoint.max_retries; endpoint.timeout_ms bounds each attempt,
 *   body included (see completeFetch.ts);
 * - a call that still fails becomes Generations with `error` set, in words
 *   (failures.ts). Callers exclude them from rates and count them; they are
 *   never scored as wrong answers, and never thrown;
 * - except when the executor is down: after endpoint.down_after_failures failed calls
 *   in a row the circuit breaker trips and every call, in flight or later,
 *   rejects with ExecutorDownError, which the run must end on.
 */
import OpenAI from 'openai';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Endpoint, Sampling } from '../contract';
import { renderTraceliftCompletion } from '../prompts/render';
import type { ChatMessage } from '../prompts/templates';
import { CircuitBreaker, ExecutorDownError, type ExecutorHealth } from './circuitBreaker';
import { completeFetch } from './completeFetch';
import { describeFailure } from './failures';
import { RequestSignals } from './requestSignals';
import { readChoice, type ChoiceOutcome } from './wireFormat';

export { ExecutorDownError, type ExecutorHealth } from './circuitBreaker';

export interface Generation {
  text: string | null;
  error: string | null;
  finish_reason: string | null;
  latency_ms: number;
}

export interface ClientStats {
  /** Calls made (one per request the engine asked for; retries not counted). */
  requests: number;
  /** HTTP attempts sent, retries included. */
  attempts: number;
  /** Calls that failed after retries. */
  failed_requests: number;
  generations: number;
  failed_generations: number;
}

export interface ExecutorClientOptions {
  /** Overrides the key read from endpoint.api_key_env. */
  apiKey?: string;
  log?: (line: string) => void;
  /** Called for every HTTP request made (benchmarks replay them). */
  onRequest?: (messages: ChatMessage[], sampling: Sampling, n: number) => void;
  /** Failed calls in a row (after retries) that mark the executor down; 0 never does. Default: endpoint.down_after_failures. */
  downAfterFailures?: number;
  /**
   * How chat messages become one prompt on the completions API (the
   * protocol's completion_prompt). Default: our "System: … Assistant:" turns.
   */
  renderCompletion?: (messages: ChatMessage[]) => string;
  /** Called once when the executor is marked down. */
  onDown?: (err: ExecutorDownError) => void;
  /** Cancels calls in flight and later ones: they come back as failed generations ("cancelled"), never counted against the executor. */
  signal?: AbortSignal;
}

/** Placeholder key for local servers that ignore authentication. */
const NO_KEY = 'not-needed';

export class ExecutorClient {
  readonly endpoint: Endpoint;
  readonly stats: ClientStats = { requests: 0, attempts: 0, failed_requests: 0, generations: 0, failed_generations: 0 };
  private readonly openai: OpenAI;
  private readonly limit: LimitFunction;
  private readonly log: (line: string) => void;
  private readonly onRequest?: ExecutorClientOptions['onRequest'];
  private readonly renderCompletion: (messages: ChatMessage[]) => string;
  private readonly breaker: CircuitBreaker;
  /** Per-call signals that the caller's signal and the breaker's abort. */
  private readonly requestSignals: RequestSignals;
  private readonly cancelSignal?: AbortSignal;
  /** null until probed when endpoint.n_sampling is "auto". */
  private honoursN: boolean | null;

  constructor(endpoint: Endpoint, opts: ExecutorClientOptions = {}) {
    this.endpoint = endpoint;
    this.log = opts.log ?? (() => {});
    this.onRequest = opts.onRequest;
    this.renderCompletion = opts.renderCompletion ?? renderTraceliftCompletion;
    const apiKey = opts.apiKey ?? (endpoint.api_key_env ? process.env[endpoint.api_key_env] : undefined);
    if (endpoint.api_key_env && !apiKey) {
      throw new Error(`Environment variable ${endpoint.api_key_env} (API key for ${endpoint.base_url}) is not set.`);
    }
    this.openai = new OpenAI({
      baseURL: endpoint.base_url,
      apiKey: apiKey || NO_KEY,
      maxRetries: endpoint.max_retries,
      timeout: endpoint.timeout_ms,
      fetch: completeFetch({ onAttempt: () => this.stats.attempts++ }),
    });
    this.limit = pLimit(endpoint.concurrency);
    this.honoursN = endpoint.n_sampling === 'auto' ? null : endpoint.n_sampling === 'yes';
    this.breaker = new CircuitBreaker({
      endpoint: `${endpoint.base_url} (model ${endpoint.model})`,
      downAfter: opts.downAfterFailures ?? endpoint.down_after_failures,
      onDown: (err) => {
        this.log(err.message);
        opts.onDown?.(err);
      },
    });
    this.cancelSignal = opts.signal;
    this.requestSignals = new RequestSignals(opts.signal ? [opts.signal, this.breaker.signal] : [this.breaker.signal]);
  }

  /** What identifies this executor's behaviour, for cache keys (never the API key). */
  identity(): { base_url: string; model: string; api: string } {
    return { base_url: this.endpoint.base_url, model: this.endpoint.model, api: this.endpoint.api };
  }

  /** Whether the executor answers, is failing, or has been marked down (and why). */
  health(): ExecutorHealth {
    return this.breaker.health();
  }

  /** Rejects with ExecutorDownError when the executor is marked down; never resolves. */
  get whenDown(): Promise<never> {
    return this.breaker.whenDown;
  }

  /**
   * Exactly n generations for one prompt; failed ones carry `error`.
   * Rejects only with ExecutorDownError, once the executor is marked down.
   */
  async sample(messages: ChatMessage[], sampling: Sampling, n: number): Promise<Generation[]> {
    if (n <= 0) return [];
    if (n === 1 || this.honoursN === false) {
      return Promise.all(Array.from({ length: n }, () => this.request(messages, sampling, 1).then((g) => g[0]!)));
    }
    const first = await this.request(messages, sampling, n);
    if (this.honoursN === null && first.every((g) => g.error === null)) {
      this.honoursN = first.length >= n;
      this.log(`executor ${this.endpoint.base_url}: n-sampling ${this.honoursN ? 'supported' : 'not supported, fanning out'}`);
    }
    if (first.length >= n) return first.slice(0, n);
    const missing = n - first.length;
    const rest = await Promise.all(Array.from({ length: missing }, () => this.request(messages, sampling, 1).then((g) => g[0]!)));
    return [...first, ...rest];
  }

  /** Exactly one HTTP request as given (no fan-out), for benchmark replays. */
  requestOnce(messages: ChatMessage[], sampling: Sampling, n: number): Promise<Generation[]> {
    return this.request(messages, sampling, n);
  }

  /**
   * One call (the SDK retries inside it) under the concurrency bound. A
   * failure comes back as n failed generations; only ExecutorDownError is thrown.
   */
  private request(messages: ChatMessage[], sampling: Sampling, n: number): Promise<Generation[]> {
    return this.limit(async () => {
      this.breaker.assertUp();
      const started = performance.now();
      if (this.cancelSignal?.aborted) return this.failed(n, 'cancelled', started);
      this.stats.requests++;
      this.onRequest?.(messages, sampling, n);
      try {
        const call = this.endpoint.api === 'chat' ? this.chat(messages, sampling, n) : this.complete(messages, sampling, n);
        const out = await Promise.race([call, this.breaker.whenDown]);
        this.breaker.recordSuccess();
        const latency = performance.now() - started;
        const generations = out.map((o) => ({ ...o, latency_ms: latency }));
        const failed = generations.filter((g) => g.error !== null).length;
        this.stats.generations += generations.length - failed;
        this.stats.failed_generations += failed;
        return generations;
      } catch (err) {
        if (err instanceof ExecutorDownError) throw err;
        this.breaker.assertUp(); // aborted because the breaker tripped meanwhile
        if (this.cancelSignal?.aborted) return this.failed(n, 'cancelled', started);
        const reason = describeFailure(err, this.endpoint);
        this.stats.failed_requests++;
        this.log(`executor call failed: ${reason}`);
        const down = this.breaker.recordFailure(reason);
        if (down) throw down;
        return this.failed(n, reason, started);
      }
    });
  }

  private failed(n: number, reason: string, started: number): Generation[] {
    this.stats.failed_generations += n;
    const latency = performance.now() - started;
    return Array.from({ length: n }, () => ({ text: null, error: reason, finish_reason: null, latency_ms: latency }));
  }

  private async chat(messages: ChatMessage[], sampling: Sampling, n: number): Promise<ChoiceOutcome[]> {
    const res = await this.requestSignals.run((signal) =>
      this.openai.chat.completions.create({ model: this.endpoint.model, messages, n, ...samplingParams(sampling) }, { signal }),
    );
    return res.choices.map((c) => readChoice(c, 'chat'));
  }

  private async complete(messages: ChatMessage[], sampling: Sampling, n: number): Promise<ChoiceOutcome[]> {
    const res = await this.requestSignals.run((signal) =>
      this.openai.completions.create(
        { model: this.endpoint.model, prompt: this.renderCompletion(messages), n, ...samplingParams(sampling) },
        { signal },
      ),
    );
    return res.choices.map((c) => readChoice(c, 'completions'));
  }
}

function samplingParams(s: Sampling) {
  return {
    temperature: s.temperature,
    top_p: s.top_p,
    max_tokens: s.max_tokens,
    ...(s.seed !== null ? { seed: s.seed } : {}),
    ...(s.stop.length ? { stop: s.stop } : {}),
  };
}
