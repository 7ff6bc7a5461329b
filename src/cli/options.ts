/**
 * What the CLI's commands share: argument parsers, the executor flags, the
 * eval option flags derived from the contract's defaults and choices, and
 * logging. Commands import this, never main.ts (which only wires them).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { API_KINDS, EVAL_OPTION_DEFAULTS, type ApiKind } from '../engine/contract';
import type { ExecutorRequest } from '../engine/executor/resolve';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number ≥ 0');
  return n;
}

/**
 * A flag whose values are a contract enum: commander checks them, and the
 * help lists each value with its description.
 */
export function choiceOption(flags: string, what: string, descriptions: Readonly<Record<string, string>>, defaultValue?: string): Option {
  const listed = Object.entries(descriptions)
    .map(([value, description]) => `${value}: ${description}`)
    .join('; ');
  const option = new Option(flags, `${what} (${listed})`).choices(Object.keys(descriptions));
  return defaultValue === undefined ? option : option.default(defaultValue);
}

/** Executor endpoint flags shared by eval, baselines and bench. */
export function addExecutorOptions(cmd: Command): Command {
  return cmd
    .option('--executor-url <url>', 'OpenAI-compatible base URL of the executor (default: start the embedded SmolLM2-135M server)')
    .option('--executor-model <name>', 'executor model name at that endpoint')
    .addOption(new Option('--executor-api <api>', 'API flavour').choices(Object.keys(API_KINDS)).default('chat'))
    .option('--executor-key-env <VAR>', 'environment variable holding the executor API key')
    .option('--concurrency <n>', 'executor requests in flight at once', positiveInt)
    .option('--temperature <t>', 'executor sampling temperature', nonNegativeNumber, EVAL_OPTION_DEFAULTS.executorTemperature)
    .option(
      '--max-tokens <n>',
      `executor max tokens per sample (default: ${EVAL_OPTION_DEFAULTS.maxTokens.math} for math, ${EVAL_OPTION_DEFAULTS.maxTokens.code} for code)`,
      positiveInt,
    );
}

export interface ExecutorFlags {
  executorUrl?: string;
  executorModel?: string;
  executorApi?: ApiKind;
  executorKeyEnv?: string;
  concurrency?: number;
}

/** The executor the flags of addExecutorOptions ask for (the embedded default without --executor-url). */
export function executorRequestFromFlags(flags: ExecutorFlags): Omit<ExecutorRequest, 'log'> {
  return {
    url: flags.executorUrl,
    model: flags.executorModel,
    api: flags.executorApi,
    apiKeyEnv: flags.executorKeyEnv,
    concurrency: flags.concurrency,
  };
}

/** Diagnostics go to stderr so stdout stays parseable. */
export const logToStderr = (line: string) => process.stderr.write(`${line}\n`);
