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
  timeoutMs?: number;
  nSampling?: 'auto' | 'yes' | 'no';
  /** Embedded server only: the Python with llama-cpp-python, and the GGUF model file. */
  pythonPath?: string;
  modelPath?: string;
  log?: (line: string) => void;
}

export async function resolveExecutor(req: ExecutorRequest): Promise<ExecutorChoice> {
  if (req.url) {
    if (!req.model) throw new Error('An executor endpoint needs a model name (--executor-model).');
    const endpoint = EndpointSchema.parse({
      base_url: req.url,
      model: req.model,
      api: req.api ?? 'chat',
      api_key_env: req.apiKeyEnv ?? null,
      ...(req.concurrency ? { concurrency: req.concurrency } : {}),
      ...(req.timeoutMs ? { timeout_ms: req.timeoutMs } : {}),
      ...(req.nSampling ? { n_sampling: req.nSampling } : {}),
    });
    return { endpoint, origin: 'configured', identity: `${endpoint.base_url}|${endpoint.model}`, stop: async () => {} };
  }
  const server = new EmbeddedServer({ log: req.log, pythonPath: req.pythonPath, modelPath: req.modelPath });
  const started = await server.start();
  const endpoint = req.concurrency ? { ...started, concurrency: req.concurrency } : started;
  return { endpoint, origin: 'embedded', identity: `embedded|${server.modelFingerprint()}`, stop: () => server.stop() };
}
