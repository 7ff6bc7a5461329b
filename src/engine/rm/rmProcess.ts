/**
 * The Reason RM's Python processes (backend/tracelift_backend/rm), started
 * with the project's Python and PYTHONPATH as the GRPO launcher starts its
 * trainer:
 *   - launchRmTraining: validates and resolves the RM training config
 *     (RmTrainConfigSchema), writes DIR/config.json and runs
 *     `python -m tracelift_backend.rm.train`, which writes the run's events;
 *     a trainer that dies without its run_ended gets one written here.
 *   - startRmServer: `python -m tracelift_backend.rm.serve` on loopback,
 *     resolved once GET /health answers; stop() ends it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { RmTrainConfigSchema, type RmTrainConfig } from '../contract/rm';
import { ENGINE_VERSION } from '../eval/runEval';
import { CONFIG_FILE, EVENTS_FILE, readEvents, RunWriter } from '../run/runDir';
import { describeZodError, readJsonFile } from '../util/jsonl';
import { backendDir, resolvePython } from '../util/python';
import { findRepoRoot } from '../util/repoRoot';

export const RM_TRAIN_MODULE = 'tracelift_backend.rm.train';
export const RM_SERVE_MODULE = 'tracelift_backend.rm.serve';
/** The server reads its bearer token from this variable (never from argv, which other users can read). */
export const RM_TOKEN_ENV = 'TRACELIFT_RM_TOKEN';
/** The recipe `tracelift rm train` uses without --recipe (relative to the repository root). */
export const DEFAULT_RM_RECIPE = path.join('recipes', 'rm', 'cpu-smollm2.json');
/** Where training writes the final RM inside the run directory (the directory `rm serve --model` takes). */
export const RM_MODEL_DIR = 'model';

export const RM_TRAIN_EXIT_CODES: Readonly<Record<'completed' | 'cancelled' | 'failed', number>> = {
  completed: 0,
  cancelled: 130,
  failed: 1,
};

function pythonEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...extra,
    PYTHONPATH: [backendDir(), process.env.PYTHONPATH].filter(Boolean).join(path.delimiter),
    PYTHONUNBUFFERED: '1',
    // Detached children: they exit by themselves if this process is killed without unwinding (parent_guard.py).
    TRACELIFT_PARENT_PID: String(process.pid),
  };
}

export interface RmTrainOverrides {
  /** Replaces the recipe's groups (paths resolved against the working directory). */
  groups?: string[];
  /** The base model ("embedded", a Hugging Face id or a local directory). */
  base?: string;
  epochs?: number;
  maxSteps?: number;
}

/** The recipe with the overrides applied, validated; a bad field is an error naming it. */
export function resolveRmTrainConfig(recipe: unknown, overrides: RmTrainOverrides, recipeFile = 'config'): RmTrainConfig {
  if (typeof recipe !== 'object' || recipe === null || Array.isArray(recipe)) throw new Error(`${recipeFile}: not a JSON object`);
  const raw: Record<string, unknown> = { ...(recipe as Record<string, unknown>) };
  if (overrides.groups?.length) raw.groups = overrides.groups;
  if (overrides.base) raw.base = { model: overrides.base, gguf_file: null };
  if (overrides.epochs !== undefined) raw.epochs = overrides.epochs;
  if (overrides.maxSteps !== undefined) raw.max_steps = overrides.maxSteps;
  const parsed = RmTrainConfigSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${recipeFile}: ${describeZodError(parsed.error)}`);
  const config = parsed.data;
  if (config.groups.length === 0) throw new Error('no groups to train on: give --groups FILE…');
  // The Python process runs from the repository root: absolute paths say the same thing there.
  config.groups = config.groups.map((g) => path.resolve(g));
  for (const g of config.groups) if (!fs.existsSync(g)) throw new Error(`groups file not found: ${g}`);
  return config;
}

export interface RmTrainRequest {
  runDir: string;
  /** Recipe file (default recipes/rm/cpu-smollm2.json). */
  recipeFile?: string | null;
  overrides?: RmTrainOverrides;
  pythonPath?: string | null;
  /** The trainer's stdout and stderr as they come. */
  onOutput?: (text: string) => void;
}

export interface RmTrainingRun {
  runDir: string;
  config: RmTrainConfig;
  /** Graceful: the trainer finishes its step, evaluates, saves and ends the run cancelled; asked twice, it ends at once. */
  stop(): void;
  done: Promise<{ status: 'completed' | 'cancelled' | 'failed'; message: string | null; exitCode: number }>;
}

export function launchRmTraining(req: RmTrainRequest): RmTrainingRun {
  const runDir = path.resolve(req.runDir);
  const recipeFile = req.recipeFile ?? path.join(findRepoRoot(), DEFAULT_RM_RECIPE);
  const config = resolveRmTrainConfig(readJsonFile(recipeFile), req.overrides ?? {}, recipeFile);
  const python = resolvePython(req.pythonPath);
  const events = path.join(runDir, EVENTS_FILE);
  if (fs.existsSync(events) && fs.statSync(events).size > 0) throw new Error(`${runDir} already holds a run: pick another --out`);
  fs.mkdirSync(runDir, { recursive: true });
  fs.writeFileSync(path.join(runDir, CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');

  const args = ['-m', RM_TRAIN_MODULE, '--config', path.join(runDir, CONFIG_FILE), '--run-dir', runDir, '--engine-version', ENGINE_VERSION];
  const child = spawn(python, args, { cwd: findRepoRoot(), detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: pythonEnv() });
  const echo = (chunk: Buffer) => req.onOutput?.(chunk.toString('utf8'));
  child.stdout!.on('data', echo);
  child.stderr!.on('data', echo);
  const killGroup = () => signalGroup(child, 'SIGKILL');
  process.once('exit', killGroup);
  let stops = 0;
  const stop = () => {
    stops += 1;
    signalGroup(child, stops === 1 ? 'SIGTERM' : 'SIGKILL');
  };
  const done = new Promise<{ status: 'completed' | 'cancelled' | 'failed'; message: string | null; exitCode: number }>((resolve) => {
    let spawnError: string | null = null;
    child.once('error', (err) => (spawnError = `the RM trainer could not start: ${err.message}`));
    child.once('close', (code, signal) => {
      process.removeListener('exit', killGroup);
      const { events: written } = readEvents(runDir);
      const last = written.at(-1);
      if (last?.type === 'run_ended') {
        resolve({ status: last.status, message: last.message, exitCode: RM_TRAIN_EXIT_CODES[last.status] });
        return;
      }
      // Killed, or died before it could say so: the run still ends, with the reason.
      const message =
        spawnError ?? `the RM trainer ${signal ? `was ended by ${signal}` : `exited with code ${code}`} before ending its run`;
      const { writer } = RunWriter.open(runDir);
      writer.append({ time: new Date().toISOString(), type: 'run_ended', status: 'failed', message });
      resolve({ status: 'failed', message, exitCode: RM_TRAIN_EXIT_CODES.failed });
    });
  });
  return { runDir, config, stop, done };
}

export interface RmServerRequest {
  /** A Reason RM directory (rm_config.json), e.g. a training run's model/. */
  modelDir: string;
  /** Default: a free loopback port. */
  port?: number | null;
  host?: string;
  /** Bearer token the server requires; null: none. */
  token?: string | null;
  batchSize?: number;
  maxWaitMs?: number;
  maxQueue?: number;
  device?: string;
  pythonPath?: string | null;
  /** How long to wait for the model to load and /health to answer (default 300 s). */
  startTimeoutMs?: number;
  onOutput?: (text: string) => void;
}

export interface RmServer {
  /** The scoring endpoint: http://host:port/score. */
  scoreUrl: string;
  baseUrl: string;
  token: string | null;
  child: ChildProcess;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
  stop(): Promise<void>;
  /** Resolves with the exit code when the server exits on its own (or is stopped). */
  exited: Promise<number | null>;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export function rmServeArgs(req: RmServerRequest, host: string, port: number): string[] {
  const args = ['-m', RM_SERVE_MODULE, '--model', path.resolve(req.modelDir), '--host', host, '--port', String(port)];
  if (req.batchSize !== undefined) args.push('--batch-size', String(req.batchSize));
  if (req.maxWaitMs !== undefined) args.push('--max-wait-ms', String(req.maxWaitMs));
  if (req.maxQueue !== undefined) args.push('--max-queue', String(req.maxQueue));
  if (req.device !== undefined) args.push('--device', req.device);
  return args;
}

export async function startRmServer(req: RmServerRequest): Promise<RmServer> {
  if (!fs.existsSync(path.join(req.modelDir, 'rm_config.json'))) {
    throw new Error(`${req.modelDir} is not a Reason RM directory (no rm_config.json); train one with \`tracelift rm train\``);
  }
  const python = resolvePython(req.pythonPath);
  const host = req.host ?? '127.0.0.1';
  const port = req.port ?? (await freePort(host));
  const token = req.token ?? null;
  const child = spawn(python, rmServeArgs(req, host, port), {
    cwd: findRepoRoot(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: pythonEnv(token ? { [RM_TOKEN_ENV]: token } : { [RM_TOKEN_ENV]: '' }),
  });
  let tail = '';
  const collect = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    tail = (tail + text).slice(-4000);
    req.onOutput?.(text);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const killGroup = () => signalGroup(child, 'SIGKILL');
  process.once('exit', killGroup);
  void exited.then(() => process.removeListener('exit', killGroup));
  const stop = async () => {
    signalGroup(child, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const deadline = Date.now() + (req.startTimeoutMs ?? 300_000);
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    if (gone) throw new Error(`the RM server exited before it was ready:\n${tail.trim().split('\n').slice(-15).join('\n')}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the RM server did not answer ${baseUrl}/health within ${(req.startTimeoutMs ?? 300_000) / 1000} s`);
    }
    try {
      const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { scoreUrl: `${baseUrl}/score`, baseUrl, token, child, stop, exited };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}
