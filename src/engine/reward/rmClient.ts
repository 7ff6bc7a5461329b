/**
 * HTTP client for a Reason RM scoring server speaking the official TraceLift
 * protocol (docs/official-protocol.md §2.1):
 *
 *   POST <url>   (official default http://localhost:8001/score)
 *   Content-Type: application/json, optional Authorization: Bearer <key>
 *   {"items": [{"problem", "reasoning", "task_name", "task_type"}, …],
 *    "max_length": 3072, "batch_size": <n>}
 *
 * Response: a JSON list of scores, a bare number, or an object whose first
 * present key among `scores`, `results`, `outputs`, `data` holds the list;
 * each entry is a number or an object whose first present key among
 * `total_score`, `score`, `reward`, `total`, `value` holds the number. There
 * must be exactly one score per item.
 *
 * TraceLift's own server (`tracelift rm serve`) adds `dimensions`: one object
 * per item with the expected label (0–4) of each rubric dimension. It is
 * optional; when present it must hold one entry per item.
 *
 * Beyond the official client (which sends one item per request, never
 * retries and substitutes 0.5 on any failure): items are batched, 5xx / 408 /
 * 429 / network errors / timeouts are retried with exponential backoff, the
 * response is validated with zod and a malformed one throws an Error naming
 * the offending field. Failures are thrown, never replaced by a score.
 */
import { z } from 'zod';

export interface RmItem {
  problem: string;
  reasoning: string;
  /** "math" or "code" in the official RMs (rendered as <task>…</task>). */
  taskName: string;
  /** Problem type (rendered as <type>…</type>), e.g. "math", "algorithm". */
  taskType: string;
}

export interface ScoreTracesOptions {
  /** Per-request timeout; default 120 000 ms. */
  timeoutMs?: number;
  /** Items per HTTP request; default 16. */
  batchSize?: number;
  /** Retries after the first attempt of each request; default 3. */
  retries?: number;
  /** `max_length` sent to the server (RM tokenizer truncation); default 3072. */
  maxLength?: number;
  /** `batch_size` sent to the server (its forward-pass batch); default: items in the request. */
  serverBatchSize?: number;
  /** First backoff delay; doubles per retry (with jitter), capped by maxBackoffMs. Default 500 ms. */
  backoffMs?: number;
  /** Default 10 000 ms. Also caps a server's Retry-After. */
  maxBackoffMs?: number;
  /** Requests in flight at once; default 2. */
  concurrency?: number;
  /** Sent as a Bearer token when set. */
  apiKey?: string | null;
  /** Cancels everything; an abort is never retried. */
  signal?: AbortSignal;
  /** Injected fetch (tests); default global fetch. */
  fetch?: typeof fetch;
}

export const RM_LIST_KEYS = ['scores', 'results', 'outputs', 'data'] as const;
export const RM_SCORE_KEYS = ['total_score', 'score', 'reward', 'total', 'value'] as const;

/** Error from the RM endpoint; `retryable` tells whether another attempt could help. */
export class RmClientError extends Error {
  readonly retryable: boolean;
  readonly status: number | null;
  constructor(message: string, opts: { retryable: boolean; status?: number | null; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RmClientError';
    this.retryable = opts.retryable;
    this.status = opts.status ?? null;
  }
}

// ---------------------------------------------------------------------------
// Request / response schemas
// ---------------------------------------------------------------------------

const RmItemSchema = z.object({
  problem: z.string(),
  reasoning: z.string(),
  taskName: z.string().min(1),
  taskType: z.string().min(1),
});

/** Wire format of one request (snake_case, as the official trainers send it). */
export interface RmRequestBody {
  items: { problem: string; reasoning: string; task_name: string; task_type: string }[];
  max_length: number;
  batch_size: number;
}

export function buildRmRequest(items: readonly RmItem[], maxLength: number, serverBatchSize?: number): RmRequestBody {
  return {
    items: items.map((it) => ({
      problem: it.problem,
      reasoning: it.reasoning,
      task_name: it.taskName,
      task_type: it.taskType,
    })),
    max_length: maxLength,
    batch_size: serverBatchSize ?? Math.max(1, items.length),
  };
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'string') return `a string (${JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x)})`;
  if (typeof x === 'number') return Number.isFinite(x) ? `the number ${x}` : `the non-finite number ${x}`;
  return typeof x === 'object' ? 'an object' : `a ${typeof x}`;
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** One score entry: a finite number, or an object carrying one under a known key. */
const ScoreEntrySchema = z.unknown().transform((entry, ctx): number => {
  if (typeof entry === 'number') {
    if (Number.isFinite(entry)) return entry;
    ctx.addIssue({ code: 'custom', message: `expected a finite number, got ${describe(entry)}` });
    return z.NEVER;
  }
  if (isRecord(entry)) {
    for (const key of RM_SCORE_KEYS) {
      if (key in entry) {
        const x = entry[key];
        if (typeof x === 'number' && Number.isFinite(x)) return x;
        ctx.addIssue({ code: 'custom', path: [key], message: `expected a finite number, got ${describe(x)}` });
        return z.NEVER;
      }
    }
    ctx.addIssue({ code: 'custom', message: `object has none of the score fields ${RM_SCORE_KEYS.join(', ')}` });
    return z.NEVER;
  }
  ctx.addIssue({
    code: 'custom',
    message: `expected a number or an object with one of ${RM_SCORE_KEYS.join(', ')}, got ${describe(entry)}`,
  });
  return z.NEVER;
});

/** The whole response body, reduced to its list of scores. */
export const RmResponseSchema = z.unknown().transform((body, ctx): number[] => {
  let list: unknown = body;
  let prefix: (string | number)[] = [];
  if (isRecord(body)) {
    const key = RM_LIST_KEYS.find((k) => k in body);
    if (key === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `object has none of the fields ${RM_LIST_KEYS.join(', ')} (keys: ${Object.keys(body).slice(0, 10).join(', ') || 'none'})`,
      });
      return z.NEVER;
    }
    list = body[key];
    prefix = [key];
  }
  if (typeof list === 'number') list = [list];
  if (!Array.isArray(list)) {
    ctx.addIssue({ code: 'custom', path: prefix, message: `expected a list of scores, got ${describe(list)}` });
    return z.NEVER;
  }
  const parsed = z.array(ScoreEntrySchema).safeParse(list);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      ctx.addIssue({
        code: 'custom',
        path: [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
        message: issue.message,
      });
    }
    return z.NEVER;
  }
  return parsed.data;
});

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * Validate an RM response body and return exactly `expected` scores.
 * Throws an Error naming the malformed field (e.g. `scores[1].total_score`).
 */
export function parseRmResponse(body: unknown, expected: number): number[] {
  const parsed = RmResponseSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? formatPath(issue.path) : '(root)';
    const more = parsed.error.issues.length > 1 ? ` (+${parsed.error.issues.length - 1} more)` : '';
    throw new RmClientError(`malformed RM response: field ${where}: ${issue?.message ?? 'invalid'}${more}`, {
      retryable: false,
    });
  }
  if (parsed.data.length !== expected) {
    throw new RmClientError(`malformed RM response: ${parsed.data.length} scores for ${expected} items`, {
      retryable: false,
    });
  }
  return parsed.data;
}

/** One item's rubric dimensions as the server reports them: name → expected label in [0, 4]. */
export type RmDimensions = Record<string, number>;

const DimensionsListSchema = z.array(z.record(z.string(), z.number().min(0).max(4)).nullable());

/**
 * The optional per-item `dimensions` of a response object: null per item when
 * the server sends none; throws naming the field when it sends a malformed list.
 */
export function parseRmDimensions(body: unknown, expected: number): (RmDimensions | null)[] {
  if (!isRecord(body) || !('dimensions' in body) || body.dimensions === null) return new Array<null>(expected).fill(null);
  const parsed = DimensionsListSchema.safeParse(body.dimensions);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RmClientError(
      `malformed RM response: field ${formatPath(['dimensions', ...(issue?.path ?? [])])}: ${issue?.message ?? 'invalid'}`,
      { retryable: false },
    );
  }
  if (parsed.data.length !== expected) {
    throw new RmClientError(`malformed RM response: ${parsed.data.length} dimension entries for ${expected} items`, { retryable: false });
  }
  return parsed.data;
}

/** A score with the dimensions the server reported for it (null when it reports none). */
export interface RmScore {
  score: number;
  dimensions: RmDimensions | null;
}

// ---------------------------------------------------------------------------
// Transport
// ---------------------------------------------------------------------------

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function retryAfterMs(res: Response): number | null {
  const h = res.headers.get('retry-after');
  if (!h) return null;
  const secs = Number(h);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const date = Date.parse(h);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : null;
}

async function postOnce(
  url: string,
  body: RmRequestBody,
  opts: Required<Pick<ScoreTracesOptions, 'timeoutMs'>> & ScoreTracesOptions,
): Promise<{ scores: RmScore[] } | { error: RmClientError; retryAfter: number | null }> {
  const doFetch = opts.fetch ?? fetch;
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
  let res: Response;
  let text: string;
  try {
    res = await doFetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal });
    text = await res.text();
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? err;
    if (timeout.aborted) {
      return {
        error: new RmClientError(`RM request to ${url} timed out after ${opts.timeoutMs} ms`, { retryable: true, cause: err }),
        retryAfter: null,
      };
    }
    const msg = err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err);
    return { error: new RmClientError(`RM request to ${url} failed: ${msg}`, { retryable: true, cause: err }), retryAfter: null };
  }
  if (!res.ok) {
    return {
      error: new RmClientError(`RM server ${url} answered HTTP ${res.status}: ${text.slice(0, 500)}`, {
        retryable: RETRYABLE_STATUS.has(res.status),
        status: res.status,
      }),
      retryAfter: retryAfterMs(res),
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RmClientError(`malformed RM response from ${url}: not JSON: ${text.slice(0, 200)}`, {
      retryable: false,
      status: res.status,
      cause: err,
    });
  }
  const scores = parseRmResponse(json, body.items.length);
  const dimensions = parseRmDimensions(json, body.items.length);
  return { scores: scores.map((score, i) => ({ score, dimensions: dimensions[i] ?? null })) };
}

async function postWithRetries(url: string, body: RmRequestBody, opts: ScoreTracesOptions & { timeoutMs: number }): Promise<RmScore[]> {
  const retries = opts.retries ?? 3;
  const base = opts.backoffMs ?? 500;
  const cap = opts.maxBackoffMs ?? 10_000;
  let last: RmClientError | null = null;
  for (let attempt = 0; attempt <= retries; attempt++) {
    const r = await postOnce(url, body, opts);
    if ('scores' in r) return r.scores;
    last = r.error;
    if (!r.error.retryable || attempt === retries) break;
    const backoff = Math.min(cap, base * 2 ** attempt) * (0.5 + Math.random() * 0.5);
    const wait = r.retryAfter !== null ? Math.min(cap, Math.max(backoff, r.retryAfter)) : backoff;
    await sleep(wait, opts.signal);
  }
  const attempts = last?.retryable ? ` after ${retries + 1} attempts` : '';
  throw new RmClientError(`${last?.message ?? 'RM request failed'}${attempts}`, {
    retryable: false,
    status: last?.status ?? null,
    cause: last ?? undefined,
  });
}

function positiveInt(name: string, x: number): number {
  if (!Number.isInteger(x) || x < 1) throw new RangeError(`RM client option ${name} must be a positive integer, got ${x}`);
  return x;
}

/**
 * Score traces with a Reason RM server. Returns one score per item, in order.
 * Scores are returned as the server sent them (the official RM emits [0,1];
 * the reward clamps). Throws RmClientError on HTTP / protocol failures after
 * retries, RangeError/Error on invalid items or options.
 */
export async function scoreTraces(endpointUrl: string, items: readonly RmItem[], options: ScoreTracesOptions = {}): Promise<number[]> {
  return (await scoreTracesDetailed(endpointUrl, items, options)).map((s) => s.score);
}

/** scoreTraces, keeping each item's rubric dimensions when the server reports them. */
export async function scoreTracesDetailed(
  endpointUrl: string,
  items: readonly RmItem[],
  options: ScoreTracesOptions = {},
): Promise<RmScore[]> {
  let url: URL;
  try {
    url = new URL(endpointUrl);
  } catch {
    throw new RangeError(`RM endpoint is not a URL: ${endpointUrl}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RangeError(`RM endpoint must be http(s): ${endpointUrl}`);
  items.forEach((it, i) => {
    const r = RmItemSchema.safeParse(it);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new RangeError(`RM item ${i}: field ${issue ? formatPath(issue.path) : '?'}: ${issue?.message ?? 'invalid'}`);
    }
  });
  if (items.length === 0) return [];
  const batchSize = positiveInt('batchSize', options.batchSize ?? 16);
  const concurrency = positiveInt('concurrency', options.concurrency ?? 2);
  const timeoutMs = positiveInt('timeoutMs', options.timeoutMs ?? 120_000);
  const maxLength = positiveInt('maxLength', options.maxLength ?? 3072);
  const retries = options.retries ?? 3;
  if (!Number.isInteger(retries) || retries < 0) throw new RangeError(`RM client option retries must be an integer ≥ 0, got ${retries}`);

  const chunks: RmItem[][] = [];
  for (let i = 0; i < items.length; i += batchSize) chunks.push(items.slice(i, i + batchSize));
  const results: RmScore[][] = new Array<RmScore[]>(chunks.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < chunks.length) {
      const idx = next++;
      const chunk = chunks[idx] as RmItem[];
      try {
        results[idx] = await postWithRetries(url.href, buildRmRequest(chunk, maxLength, options.serverBatchSize), {
          ...options,
          timeoutMs,
          retries,
        });
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, worker));
  return results.flat();
}
