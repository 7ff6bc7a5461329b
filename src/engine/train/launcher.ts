/**
 * `tracelift train`: one training run from a config (or a run directory to
 * resume), in the order the trainer's contract needs (docs/training.md):
 *   1. validate and resolve the config; refuse a GPU recipe without a GPU;
 *   2. write config.json, run_started {run_kind: "train"} and train_prompts.jsonl;
 *   3. start the executor (embedded unless configured) and the reward service;
 *   4. spawn the Python trainer with the service's URL and token, its output
 *      copied to DIR/trainer.log;
 *   5. when it exits: close the service, append run_ended, rewrite summary.json,
 *      stop the executor.
 * stop() asks the trainer to finish its step and checkpoint (SIGTERM);
 * kill() ends it at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RewardMode, RunEvent, RunSummary, TaskKind } from '../contract';
import { ENGINE_VERSION } from '../eval/runEval';
import { buildRunComponents, type RunComponents } from '../eval/runComponents';
import { resolveExecutor, type ExecutorChoice } from '../executor/resolve';
import { serveRunRm, type ServedRm } from '../rm/rmModel';
import { CONFIG_FILE, EVENTS_FILE, RunWriter } from '../run/runDir';
import { SummaryBuilder } from '../run/summary';
import type { GroupScorer } from '../uplift/scorer';
import { backendDir, resolvePython } from '../util/python';
import { findRepoRoot } from '../util/repoRoot';
import { requireGpuIfAsked } from './gpuCheck';
import { RewardService } from './rewardService';
import {
  parseTrainConfig,
  readTrainConfigFile,
  resolveTrainConfig,
  scorerEvalConfig,
  taskKinds,
  type ResolvedTrainConfig,
} from './trainConfig';
import { loadTrainingProblems, writeTrainPrompts } from './trainPrompts';

/** Tells the trainer whom to outlive no longer (backend/tracelift_backend/parent_guard.py). */
const PARENT_PID_ENV = 'TRACELIFT_PARENT_PID';

export const TRAINER_LOG_FILE = 'trainer.log';
export const REWARD_URL_ENV = 'TRACELIFT_REWARD_URL';
export const REWARD_TOKEN_ENV = 'TRACELIFT_REWARD_TOKEN';
/** The Python trainer module (backend/tracelift_backend/train). */
export const TRAINER_MODULE = 'tracelift_backend.train';

/** Exit status of `tracelift train` per run status. */
export const TRAIN_EXIT_CODES: Readonly<Record<'completed' | 'cancelled' | 'failed', number>> = { completed: 0, cancelled: 130, failed: 1 };

export interface TrainLaunchRequest {
  runDir: string;
  /** A new run from this config file; without it, `runDir` is resumed. */
  configFile?: string | null;
  /** Overrides the config's max_steps (and is recorded in config.json). */
  maxSteps?: number | null;
  /** A Reason RM trained here, served by the engine for the run (overrides the config's reward.rm_model). */
  rmModel?: string | null;
  /** Overrides the config's reward.mode (a new run only). */
  rewardMode?: RewardMode | null;
  pythonPath?: string | null;
  /** The trainer command before its arguments (default: <python> -m tracelift_backend.train). */
  trainerCommand?: string[];
  /** Extra environment for the trainer. */
  env?: NodeJS.ProcessEnv;
  /** The reward service's port (default: a free one) and token (default: random); fixed for trainers on other nodes. */
  servicePort?: number | null;
  serviceToken?: string | null;
  allowUnsandboxed?: boolean;
  log?: (line: string) => void;
  /** The trainer's stdout and stderr as they come (they also go to DIR/trainer.log). */
  onTrainerOutput?: (text: string) => void;
  /** Every event written to events.jsonl while the trainer runs. */
  onEvent?: (event: RunEvent) => void;
}

export interface TrainResult {
  runDir: string;
  status: 'completed' | 'cancelled' | 'failed';
  message: string | null;
  exitCode: number;
  summary: RunSummary;
}

export interface TrainingRun {
  runDir: string;
  runId: string;
  config: ResolvedTrainConfig;
  /** The reward service, for an adapter started beside the trainer. */
  serviceUrl: string;
  /** Graceful: the trainer finishes the step, saves a checkpoint and exits; asked twice, kill(). */
  stop(): void;
  /** Ends the trainer (its whole process group) at once. */
  kill(): void;
  done: Promise<TrainResult>;
}

/** Validates, writes the run's start, starts executor, service and trainer; resolves once the trainer runs. */
export async function launchTraining(req: TrainLaunchRequest): Promise<TrainingRun> {
  const log = req.log ?? (() => {});
  const runDir = path.resolve(req.runDir);
  const resume = !req.configFile;
  const configPath = path.join(runDir, CONFIG_FILE);

  // 1. Everything that can be refused is refused before a file is written or a process started.
  const raw = resume ? readResumedConfig(runDir) : readTrainConfigFile(req.configFile!);
  if (!resume && hasEvents(runDir)) {
    throw new Error(`${runDir} already holds a run: resume it with \`tracelift train --resume ${req.runDir}\`, or pick another --out`);
  }
  if (resume && (req.rmModel || req.rewardMode))
    throw new Error('--rm-model and --reward-mode start a new run; a resumed run keeps its reward');
  const config = resolveTrainConfig(raw, { maxSteps: req.maxSteps, rmModel: req.rmModel, rewardMode: req.rewardMode });
  const python = resolvePython(req.pythonPath);
  await requireGpuIfAsked(config.device, python);
  const problems = loadTrainingProblems(config);

  // 2. The run's start.
  const { writer, previous, issues, repairs } = RunWriter.open(runDir);
  for (const issue of issues) log(`warning: ${issue.file}:${issue.line}: ${issue.message} (line skipped)`);
  for (const repair of repairs) log(`repaired: ${repair}`);
  // A resumed run's groups count on (a repeated step's later group supersedes the earlier one).
  const summary = SummaryBuilder.fromEvents(previous);
  let runId: string = randomUUID();
  for (const e of previous) if (e.type === 'run_started') runId = e.run_id;
  writer.writeConfig(config);
  writer.append({
    time: new Date().toISOString(),
    type: 'run_started',
    run_id: runId,
    run_kind: 'train',
    engine_version: ENGINE_VERSION,
    resumed: previous.some((e) => e.type === 'run_started'),
    config: config as unknown as Record<string, unknown>,
  });
  writeTrainPrompts(runDir, config, problems.values());
  log(`training run ${runId} in ${runDir}: ${problems.size} problem(s), G=${config.num_generations}, ${config.max_steps} step(s)`);

  // 3. Executor, scorers, reward service.
  const cancelScoring = new AbortController();
  let executor: ExecutorChoice | null = null;
  const components: RunComponents[] = [];
  let service: RewardService | null = null;
  let rm: ServedRm | null = null;
  const release = async () => {
    cancelScoring.abort();
    await service?.close();
    for (const c of components.reverse()) await c.close();
    await Promise.all([executor?.stop(), rm?.server.stop()]);
  };
  const endRun = (status: TrainResult['status'], message: string | null): RunSummary => {
    const final = service ? service.summary(status) : summary.build(runId, status);
    writer.writeSummary(final);
    writer.append({
      time: new Date().toISOString(),
      type: 'run_ended',
      status,
      message,
      ...(service ? { executor_generations: service.takeGenerations() } : {}),
    });
    return final;
  };

  let child: ChildProcess;
  try {
    executor = await startExecutor(config, req.pythonPath ?? undefined, log);
    const rmModel = config.reward.rm_model;
    if (rmModel) rm = await serveRunRm({ dir: rmModel.dir, id: rmModel.id! }, { pythonPath: python, log });
    const scorers: Partial<Record<TaskKind, GroupScorer>> = {};
    for (const kind of taskKinds(config).keys()) {
      const parts = buildRunComponents(scorerEvalConfig(config, kind, executor), {
        executorIdentity: executor.identity,
        verifier: components[0]?.verifier,
        verifierOptions: { pythonPath: python, allowUnsandboxed: req.allowUnsandboxed },
        clientOptions: { signal: cancelScoring.signal },
        scorerOptions: {
          rmEndpoint: rm?.endpoint ?? null,
          rewardOptions: {
            mathE2eWeight: config.reward.weights.math_e2e,
            mathReasonWeight: config.reward.weights.math_reason,
            codeRmWeight: config.reward.weights.code_rm,
          },
        },
        log,
      });
      components.push(parts);
      scorers[kind] = parts.scorer;
    }
    service = await new RewardService({
      runId,
      writer,
      problems,
      scorers,
      groupSize: config.num_generations,
      poolBaselines: config.protocol.baseline === 'per_trace',
      summary,
      log,
      onEvent: req.onEvent,
      port: req.servicePort ?? undefined,
      token: req.serviceToken ?? undefined,
    }).start();
    log(`reward service on ${service.url}`);

    // 4. The trainer.
    const command = req.trainerCommand ?? [python, '-m', TRAINER_MODULE];
    const args = [
      '--config',
      configPath,
      '--run-dir',
      runDir,
      ...(resume ? ['--resume'] : []),
      ...(req.maxSteps ? ['--max-steps', String(req.maxSteps)] : []),
    ];
    const pythonPathEnv = [backendDir(), process.env.PYTHONPATH].filter(Boolean).join(path.delimiter);
    log(`starting the trainer: ${[...command, ...args].join(' ')}`);
    child = spawn(command[0]!, [...command.slice(1), ...args], {
      cwd: findRepoRoot(),
      // Its own process group: a Ctrl-C reaches the launcher, which asks the trainer to stop gracefully.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...req.env,
        PYTHONPATH: pythonPathEnv,
        PYTHONUNBUFFERED: '1',
        // The trainer exits when this process is killed without unwinding (parent_guard.py).
        [PARENT_PID_ENV]: String(process.pid),
        [REWARD_URL_ENV]: service.url,
        [REWARD_TOKEN_ENV]: service.token,
      },
    });
  } catch (err) {
    const message = (err as Error).message;
    await release().catch(() => {});
    writer.append({ time: new Date().toISOString(), type: 'error', message, where: 'launcher', problem_id: null, fatal: true });
    endRun('failed', message);
    throw err;
  }

  // 5. Output, signals, the end.
  const output = new TrainerOutput(path.join(runDir, TRAINER_LOG_FILE), req.onTrainerOutput);
  child.stdout!.on('data', (chunk: Buffer) => output.write(chunk));
  child.stderr!.on('data', (chunk: Buffer) => output.write(chunk));
  const killGroup = () => signalGroup(child, 'SIGKILL');
  process.once('exit', killGroup);
  let stopRequested = false;
  const kill = () => {
    stopRequested = true;
    killGroup();
  };
  const stop = () => {
    if (stopRequested) return kill();
    stopRequested = true;
    log('stopping: the trainer finishes its step and saves a checkpoint (stop again to end it now)…');
    try {
      if (child.pid) process.kill(child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };

  const done = new Promise<TrainResult>((resolve) => {
    let spawnError: string | null = null;
    child.once('error', (err) => {
      spawnError = `the trainer could not start: ${err.message}`;
    });
    child.once('close', (code, signal) => {
      process.removeListener('exit', killGroup);
      output.close();
      void (async () => {
        let status: TrainResult['status'];
        let message: string | null = null;
        if (spawnError) {
          status = 'failed';
          message = spawnError;
        } else if (stopRequested) {
          status = 'cancelled';
          message = code === 0 ? 'stopped: the trainer finished its step and exited' : `stopped (trainer ${describeExit(code, signal)})`;
        } else if (code === 0) {
          status = 'completed';
        } else {
          status = 'failed';
          message = `the trainer ${describeExit(code, signal)}; last lines of ${TRAINER_LOG_FILE}:\n${output.lastLines(20)}`;
        }
        await release().catch((err: unknown) => log(`warning: while stopping: ${(err as Error).message}`));
        const final = endRun(status, message);
        resolve({ runDir, status, message, exitCode: TRAIN_EXIT_CODES[status], summary: final });
      })();
    });
  });

  return { runDir, runId, config, serviceUrl: service.url, stop, kill, done };
}

/** The config of a run directory being resumed (as written there, re-validated). */
function readResumedConfig(runDir: string) {
  const file = path.join(runDir, CONFIG_FILE);
  if (!fs.existsSync(file)) throw new Error(`${runDir} holds no training run to resume (no ${CONFIG_FILE})`);
  return parseTrainConfig(JSON.parse(fs.readFileSync(file, 'utf8')), file);
}

function hasEvents(runDir: string): boolean {
  const file = path.join(runDir, EVENTS_FILE);
  return fs.existsSync(file) && fs.statSync(file).size > 0;
}

async function startExecutor(
  config: ResolvedTrainConfig,
  pythonPath: string | undefined,
  log: (l: string) => void,
): Promise<ExecutorChoice> {
  const e = config.executor;
  if (e) {
    // A configured endpoint is used as written; resolveExecutor gives it the identity its baselines are cached under.
    const choice = await resolveExecutor({ url: e.base_url, model: e.model, apiKeyEnv: e.api_key_env, log });
    return { ...choice, endpoint: e };
  }
  return resolveExecutor({ pythonPath, api: config.protocol.executor_api, log });
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was ended by ${signal}` : `exited with code ${code}`;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid && child.exitCode === null) process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** The trainer's output: appended to trainer.log as it comes, echoed, its tail kept for a failure message. */
class TrainerOutput {
  private readonly fd: number;
  private tail = '';

  constructor(
    file: string,
    private readonly echo?: (text: string) => void,
  ) {
    this.fd = fs.openSync(file, 'a');
  }

  write(chunk: Buffer): void {
    fs.writeSync(this.fd, chunk);
    const text = chunk.toString('utf8');
    this.tail = (this.tail + text).slice(-8000);
    this.echo?.(text);
  }

  lastLines(n: number): string {
    return this.tail.trimEnd().split('\n').slice(-n).join('\n');
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
