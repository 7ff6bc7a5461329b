/** Picks the executor: a configured OpenAI-compatible endpoint, or the embedded default started on demand. */
import { EndpointSchema, type Endpoint } from '../contract';
import { EmbeddedServer } from './embeddedServer';

export interface ExecutorChoice {
  endpoint: Endpoint;
  origin: 'embedded' | 'configured';
  /** Stable identity for baseline cache keys: what the model is, not where it happens to listen. */
  identity: string;
  stop(): Promise<void>;
}

export interface ExecutorRequest {
  url?: string | null;
  model?: string | null;
  api?: 'chat' | 'completions';
  apiKeyEnv?: string | null;
  concurrency?: number;
  /** Per-attempt timeout; default: the contract's (the embedded server: its own, longer one). */
  timeoutMs?: number;
  /** Retries of a failed request; default: the contract's. */
  maxRetries?: number;
  /** Failed calls in a row that mark the executor down (0 = never); default: the contract's. */
  downAfterFailures?: number;
  nSampling?: 'auto' | 'yes' | 'no';
  /** Embedded server only: the Python with llama-cpp-python, and the GGUF model file. */
  pythonPath?: string;
  modelPath?: string;
  log?: (line: string) => void;
}

/** The endpoint fields a request sets explicitly (unset ones keep the endpoint's own or the contract's default). */
function overrides(req: ExecutorRequest): Partial<Endpoint> {
  return {
    ...(req.api ? { api: req.api } : {}),
    ...(req.concurrency ? { concurrency: req.concurrency } : {}),
    ...(req.timeoutMs ? { timeout_ms: req.timeoutMs } : {}),
    ...(req.maxRetries !== undefined ? { max_retries: req.maxRetries } : {}),
    ...(req.downAfterFailures !== undefined ? { down_after_failures: req.downAfterFailures } : {}),
    ...(req.nSampling ? { n_sampling: req.nSampling } : {}),
  };
}

export async function resolveExecutor(req: ExecutorRequest): Promise<ExecutorChoice> {
  if (req.url) {
    if (!req.model) throw new Error('An executor endpoint needs a model name (--executor-model).');
    const endpoint = EndpointSchema.parse({ base_url: req.url, model: req.model, api_key_env: req.apiKeyEnv ?? null, ...overrides(req) });
    return { endpoint, origin: 'configured', identity: `${endpoint.base_url}|${endpoint.model}`, stop: async () => {} };
  }
  const server = new EmbeddedServer({ log: req.log, pythonPath: req.pythonPath, modelPath: req.modelPath });
  const started = await server.start();
  // Its n-sampling is known (no); the rest may be set as for any endpoint.
  const { n_sampling: _nSampling, ...settable } = overrides(req);
  const endpoint = EndpointSchema.parse({ ...started, ...settable });
  return { endpoint, origin: 'embedded', identity: `embedded|${server.modelFingerprint()}`, stop: () => server.stop() };
}
