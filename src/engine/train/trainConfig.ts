/**
 * Reading and resolving a training config: the file is validated against
 * the contract (errors name the field), `--max-steps` is applied, and every
 * default that depends on the machine or the protocol is filled in, so
 * DIR/config.json says exactly what the run did. Also the EvalConfig the
 * engine's run factory needs to build the scorer of one task kind.
 */
import * as fs from 'node:fs';
import {
  defaultCacheDir,
  EvalConfigSchema,
  REWARD_MODE_ENDPOINT,
  resolveProtocol,
  TrainConfigSchema,
  type Endpoint,
  type EvalConfig,
  type Protocol,
  type RewardMode,
  type TaskKind,
  type TrainConfig,
} from '../contract';
import { PROMPT_SETS } from '../prompts/templates';
import { rmModelRef, type RmModelRef } from '../rm/rmModel';
import { resolveDataDir } from '../tasks/dataDir';
import { getTask } from '../tasks/registry';
import { describeZodError } from '../util/jsonl';

export class TrainConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainConfigError';
  }
}

/** A config as resolved: protocol knobs complete, prompt version, data and cache directories set. */
export type ResolvedTrainConfig = TrainConfig & { protocol: Protocol; prompt_version: string; data_dir: string; cache_dir: string };

/** Reads a JSON config file; errors name the file and the field. */
export function readTrainConfigFile(file: string): TrainConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new TrainConfigError(`${file}: not a readable JSON training config (${(err as Error).message})`);
  }
  return parseTrainConfig(raw, file);
}

export function parseTrainConfig(raw: unknown, where = 'training config'): TrainConfig {
  const parsed = TrainConfigSchema.safeParse(raw);
  if (!parsed.success) throw new TrainConfigError(`${where}: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

/** Fills in what depends on the protocol and the machine; checks the tasks exist. */
export function resolveTrainConfig(
  config: TrainConfig,
  overrides: { maxSteps?: number | null; rmModel?: string | null; rewardMode?: RewardMode | null } = {},
): ResolvedTrainConfig {
  const mode = overrides.rewardMode ?? config.reward.mode;
  const rmModel = resolveRmModel(config.reward.rm_model, overrides.rmModel);
  const needs = REWARD_MODE_ENDPOINT[mode];
  if (needs === 'rm' && !config.reward.rm_url && !rmModel) {
    throw new TrainConfigError(`field "reward.mode": "${mode}" needs a Reason RM: reward.rm_url, reward.rm_model or --rm-model DIR`);
  }
  if (needs === 'judge' && !config.reward.judge) throw new TrainConfigError(`field "reward.mode": "${mode}" needs reward.judge`);
  if (config.reward.rm_url && rmModel) throw new TrainConfigError('field "reward": give rm_url or rm_model, not both');
  let protocol: Protocol;
  try {
    protocol = resolveProtocol(config.protocol);
  } catch (err) {
    throw new TrainConfigError(`field "protocol": ${(err as Error).message}`);
  }
  const promptVersion = PROMPT_SETS[protocol.prompt_set].version;
  if (config.prompt_version !== null && config.prompt_version !== promptVersion) {
    throw new TrainConfigError(
      `field "prompt_version": "${config.prompt_version}" is not the version of the protocol's prompt set "${protocol.prompt_set}" (${promptVersion})`,
    );
  }
  config.tasks.forEach((t, i) => {
    let task;
    try {
      task = getTask(t.task);
    } catch (err) {
      throw new TrainConfigError(`field "tasks.${i}.task": ${(err as Error).message}`);
    }
    if (!task.splits.includes(t.split)) {
      throw new TrainConfigError(`field "tasks.${i}.split": task "${task.name}" has no split "${t.split}" (${task.splits.join(', ')})`);
    }
  });
  // The editor's schema link is relative to the recipe, not to the run directory.
  const { $schema: _schemaLink, ...rest } = config;
  return {
    ...rest,
    reward: { ...config.reward, mode, rm_model: rmModel },
    max_steps: overrides.maxSteps ?? config.max_steps,
    protocol,
    prompt_version: promptVersion,
    executor_sampling: { ...config.executor_sampling, top_p: config.executor_sampling.top_p ?? protocol.top_p },
    data_dir: resolveDataDir(config.data_dir),
    cache_dir: config.cache_dir ?? defaultCacheDir(),
  };
}

/**
 * The RM the engine serves for the run: its directory made absolute (a run
 * directory stands for its model/) and its content id computed — or, on a
 * resume, the recorded id kept, so a changed RM is refused when it is served.
 */
function resolveRmModel(rm: TrainConfig['reward']['rm_model'], override: string | null | undefined): RmModelRef | null {
  if (override) rm = { dir: override, id: null };
  if (!rm) return null;
  let ref: RmModelRef;
  try {
    ref = rmModelRef(rm.dir);
  } catch (err) {
    throw new TrainConfigError(`field "reward.rm_model.dir": ${(err as Error).message.replace(/^--rm-model /, '')}`);
  }
  return rm.id ? { dir: ref.dir, id: rm.id } : ref;
}

/** The task kinds a config trains on, each with the first task of that kind. */
export function taskKinds(config: TrainConfig): Map<TaskKind, string> {
  const kinds = new Map<TaskKind, string>();
  for (const t of config.tasks) {
    const task = getTask(t.task);
    if (!kinds.has(task.kind)) kinds.set(task.kind, task.name);
  }
  return kinds;
}

/**
 * The EvalConfig the run factory (buildRunComponents) builds a scorer from,
 * for the problems of one task kind: executor, sampling with that kind's
 * max_tokens, K, M, reward, protocol, directories. Its trace source is not
 * read by the factory (the planner being trained is the source).
 */
export function scorerEvalConfig(
  config: ResolvedTrainConfig,
  kind: TaskKind,
  executor: { endpoint: Endpoint; origin: 'embedded' | 'configured' },
): EvalConfig {
  const task = config.tasks.find((t) => getTask(t.task).kind === kind);
  if (!task) throw new Error(`the config has no ${kind} task`);
  const sampling = config.executor_sampling;
  return EvalConfigSchema.parse({
    task: task.task,
    split: task.split,
    limit: task.limit,
    offset: task.offset,
    k: config.k,
    baseline_samples: config.baseline_samples,
    trace_source: { kind: 'reference' },
    executor: executor.endpoint,
    executor_origin: executor.origin,
    executor_sampling: { ...sampling, max_tokens: sampling.max_tokens ?? config.protocol.max_tokens[kind] },
    reward: {
      mode: config.reward.mode,
      exec_style: config.reward.exec_style,
      e2e: config.reward.e2e,
      rm_url: config.reward.rm_url,
      rm_model: config.reward.rm_model,
      judge: config.reward.judge,
    },
    prompt_version: config.prompt_version,
    protocol: config.protocol,
    data_dir: config.data_dir,
    cache_dir: config.cache_dir,
  });
}
