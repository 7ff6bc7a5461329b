/**
 * The one way the engine talks to an LLM: the `openai` package against any
 * OpenAI-compatible endpoint (vLLM, SGLang, llama.cpp, hosted APIs).
 *
 * - every request of a batch is in flight together, bounded per endpoint;
 * - n samples travel in one request where the server honours `n`, and the
 *   missing ones are fanned out where it does not (probed once, then remembered);
 * - the openai client retries 408/409/429/5xx and connection errors with
 *   exponential backoff; each request has a timeout;
 * - a call that still fails becomes a Generation with `error` set. Callers
 *   exclude it from rates and count it; it is never scored as a wrong answer.
 */
import OpenAI from 'openai';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Endpoint, Sampling } from '../contract';
import type { ChatMessage } from '../prompts/templates';

export interface Generation {
  text: string | null;
  error: string | null;
  finish_reason: string | null;
  latency_ms: number;
}

export interface ClientStats {
  requests: number;
  generations: number;
  failed_generations: number;
}

export interface ExecutorClientOptions {
  /** Overrides the key read from endpoint.api_key_env. */
  apiKey?: string;
  log?: (line: string) => void;
  /** Called for every HTTP request made (benchmarks replay them). */
  onRequest?: (messages: ChatMessage[], sampling: Sampling, n: number) => void;
}

/** Placeholder key for local servers that ignore authentication. */
const NO_KEY = 'not-needed';

export class ExecutorClient {
  readonly endpoint: Endpoint;
  readonly stats: ClientStats = { requests: 0, generations: 0, failed_generations: 0 };
  private readonly openai: OpenAI;
  private readonly limit: LimitFunction;
  private readonly log: (line: string) => void;
  private readonly onRequest?: ExecutorClientOptions['onRequest'];
  /** null until probed when endpoint.n_sampling is "auto". */
  private honoursN: boolean | null;

  constructor(endpoint: Endpoint, opts: ExecutorClientOptions = {}) {
    this.endpoint = endpoint;
    this.log = opts.log ?? (() => {});
    this.onRequest = opts.onRequest;
    const apiKey = opts.apiKey ?? (endpoint.api_key_env ? process.env[endpoint.api_key_env] : undefined);
    if (endpoint.api_key_env && !apiKey) {
      throw new Error(`Environment variable ${endpoint.api_key_env} (API key for ${endpoint.base_url}) is not set.`);
    }
    this.openai = new OpenAI({
      baseURL: endpoint.base_url,
      apiKey: apiKey || NO_KEY,
      maxRetries: endpoint.max_retries,
      timeout: endpoint.timeout_ms,
    });
    this.limit = pLimit(endpoint.concurrency);
    this.honoursN = endpoint.n_sampling === 'auto' ? null : endpoint.n_sampling === 'yes';
  }

  /** What identifies this executor's behaviour, for cache keys (never the API key). */
  identity(): { base_url: string; model: string; api: string } {
    return { base_url: this.endpoint.base_url, model: this.endpoint.model, api: this.endpoint.api };
  }

  /** Exactly n generations for one prompt; failed ones carry `error`. */
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
    const rest = await Promise.all(
      Array.from({ length: missing }, () => this.request(messages, sampling, 1).then((g) => g[0]!)),
    );
    return [...first, ...rest];
  }

  /** Exactly one HTTP request as given (no fan-out), for benchmark replays. */
  requestOnce(messages: ChatMessage[], sampling: Sampling, n: number): Promise<Generation[]> {
    return this.request(messages, sampling, n);
  }

  /** One HTTP request under the concurrency bound; never throws. */
  private request(messages: ChatMessage[], sampling: Sampling, n: number): Promise<Generation[]> {
    return this.limit(async () => {
      const started = performance.now();
      this.stats.requests++;
      this.onRequest?.(messages, sampling, n);
      try {
        const out = this.endpoint.api === 'chat' ? await this.chat(messages, sampling, n) : await this.complete(messages, sampling, n);
        const latency = performance.now() - started;
        this.stats.generations += out.length;
        return out.map((o) => ({ ...o, error: null, latency_ms: latency }));
      } catch (err) {
        const latency = performance.now() - started;
        const message = describeApiError(err);
        this.log(`executor call failed after retries: ${message}`);
        this.stats.failed_generations += n;
        return Array.from({ length: n }, () => ({ text: null, error: message, finish_reason: null, latency_ms: latency }));
      }
    });
  }

  private async chat(messages: ChatMessage[], sampling: Sampling, n: number) {
    const res = await this.openai.chat.completions.create({
      model: this.endpoint.model,
      messages,
      n,
      ...samplingParams(sampling),
    });
    return res.choices.map((c) => ({ text: c.message?.content ?? '', finish_reason: c.finish_reason ?? null }));
  }

  private async complete(messages: ChatMessage[], sampling: Sampling, n: number) {
    const res = await this.openai.completions.create({
      model: this.endpoint.model,
      prompt: messagesAsPlainPrompt(messages),
      n,
      ...samplingParams(sampling),
    });
    return res.choices.map((c) => ({ text: c.text ?? '', finish_reason: c.finish_reason ?? null }));
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

/** For completions-only servers: the chat turned into one plain-text prompt. */
export function messagesAsPlainPrompt(messages: ChatMessage[]): string {
  return messages.map((m) => `${m.role === 'user' ? 'User' : m.role === 'system' ? 'System' : 'Assistant'}: ${m.content}`).join('\n\n') + '\n\nAssistant:';
}

export function describeApiError(err: unknown): string {
  if (err instanceof OpenAI.APIError) {
    const status = err.status !== undefined ? `HTTP ${err.status}` : err.constructor.name;
    return `${status}: ${err.message}`.slice(0, 500);
  }
  return err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 500) : String(err).slice(0, 500);
}
