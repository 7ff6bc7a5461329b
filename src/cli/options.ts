/**
 * What the CLI's commands share: argument parsers, the executor flags, the
 * eval option flags derived from the contract's defaults and choices, and
 * logging. Commands import this, never main.ts (which only wires them).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  API_KINDS,
  BASELINE_ESTIMATORS,
  CODE_OUTCOME_RULES,
  COMPLETION_PROMPTS,
  EMPTY_TRACE_PROMPTS,
  EVAL_OPTION_DEFAULTS,
  OFFICIAL_PROTOCOL,
  PROMPT_SET_CHOICES,
  PROTOCOL_PRESET_CHOICES,
  TRACELIFT_PROTOCOL,
  type ApiKind,
  type Protocol,
  type ProtocolInput,
  type ProtocolPreset,
} from '../engine/contract';
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

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number > 0');
  return n;
}

/** A nucleus-sampling probability: 0 < p ≤ 1. */
export function probability(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new InvalidArgumentError('expected a number in (0, 1]');
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

/** "per_trace" as a flag value: "per-trace" (the underscore form is accepted too). */
const flagValue = (value: string) => value.replace(/_/g, '-');

/**
 * A flag for a protocol knob: its values are the contract's, written with
 * hyphens; the parsed value is the contract's (underscores). No default: an
 * unset knob is the protocol preset's.
 */
export function knobOption(flags: string, what: string, descriptions: Readonly<Record<string, string>>): Option {
  const values = Object.keys(descriptions);
  const listed = values.map((v) => `${flagValue(v)}: ${descriptions[v]}`).join('; ');
  return new Option(flags, `${what} (${listed})`).argParser((raw: string) => {
    const value = raw.trim().replace(/-/g, '_');
    if (!values.includes(value)) throw new InvalidArgumentError(`expected one of: ${values.map(flagValue).join(', ')}`);
    return value;
  });
}

/** "tracelift: X; official: Y": what each preset sets a knob to, for help texts. */
export function presetValues(pick: (p: Protocol) => unknown): string {
  return `tracelift: ${flagValue(String(pick(TRACELIFT_PROTOCOL)))}, official: ${flagValue(String(pick(OFFICIAL_PROTOCOL)))}`;
}

/** Executor endpoint flags shared by eval, baselines and bench. */
export function addExecutorOptions(cmd: Command): Command {
  const d = EVAL_OPTION_DEFAULTS;
  return cmd
    .option('--executor-url <url>', 'OpenAI-compatible base URL of the executor (default: start the embedded SmolLM2-135M server)')
    .option('--executor-model <name>', 'executor model name at that endpoint')
    .addOption(
      choiceOption('--executor-api <api>', `API flavour; default: the protocol's (${presetValues((p) => p.executor_api)})`, API_KINDS),
    )
    .option('--executor-key-env <VAR>', 'environment variable holding the executor API key')
    .option(
      '--executor-timeout <seconds>',
      `seconds one executor request may take, each attempt (default: ${d.executorTimeoutS})`,
      positiveNumber,
    )
    .option(
      '--executor-retries <n>',
      `retries of a failed executor request: 429, 5xx, cut connections, unusable bodies (default: ${d.executorRetries})`,
      nonNegativeInt,
    )
    .option(
      '--executor-down-after <n>',
      `failed executor calls in a row (after retries) that mark the executor down and end the run; 0 = never (default: ${d.executorDownAfter})`,
      nonNegativeInt,
    )
    .option('--concurrency <n>', 'executor requests in flight at once', positiveInt)
    .option('--temperature <t>', 'executor sampling temperature', nonNegativeNumber, d.executorTemperature)
    .option(
      '--max-tokens <n>',
      `executor max tokens per sample; default: the protocol's (math ${presetValues((p) => p.max_tokens.math)}; code ${presetValues((p) => p.max_tokens.code)})`,
      positiveInt,
    )
    .option('--top-p <p>', `executor nucleus sampling; default: the protocol's (${presetValues((p) => p.top_p)})`, probability);
}

export interface ExecutorFlags {
  executorUrl?: string;
  executorModel?: string;
  executorApi?: ApiKind;
  executorKeyEnv?: string;
  executorTimeout?: number;
  executorRetries?: number;
  executorDownAfter?: number;
  concurrency?: number;
  temperature: number;
  maxTokens?: number;
  topP?: number;
}

/** The executor the flags of addExecutorOptions ask for (the embedded default without --executor-url). */
export function executorRequestFromFlags(flags: ExecutorFlags): Omit<ExecutorRequest, 'log'> {
  return {
    url: flags.executorUrl,
    model: flags.executorModel,
    api: flags.executorApi,
    apiKeyEnv: flags.executorKeyEnv,
    concurrency: flags.concurrency,
    timeoutMs: flags.executorTimeout === undefined ? undefined : Math.round(flags.executorTimeout * 1000),
    maxRetries: flags.executorRetries,
    downAfterFailures: flags.executorDownAfter,
  };
}

/** Which protocol flags a command offers: all of them (eval, bench) or those that shape a no-trace baseline. */
export type ProtocolFlagSet = 'all' | 'baseline';

/**
 * --protocol and the knob flags (docs/official-protocol.md §5). Knob flags
 * have no default: unset, the preset decides. --e2e is eval's own (it
 * combines the reward's e2e mode with the protocol's e2e source).
 */
export function addProtocolOptions(cmd: Command, set: ProtocolFlagSet = 'all'): Command {
  cmd
    .addOption(choiceOption('--protocol <preset>', 'protocol preset', PROTOCOL_PRESET_CHOICES, EVAL_OPTION_DEFAULTS.protocol))
    .addOption(
      knobOption('--prompts <set>', `prompt wording; default: the preset's (${presetValues((p) => p.prompt_set)})`, PROMPT_SET_CHOICES),
    )
    .addOption(
      knobOption(
        '--completion-prompt <how>',
        `how the prompt is rendered on the completions API; default: the preset's (${presetValues((p) => p.completion_prompt)})`,
        COMPLETION_PROMPTS,
      ),
    )
    .option(
      '--max-problem-chars <n>',
      `cut the problem to n characters at a line before prompting; 0 = no limit; default: the preset's (math ${presetValues((p) => p.truncation.math.problem)}; code ${presetValues((p) => p.truncation.code.problem)})`,
      nonNegativeInt,
    );
  if (set === 'baseline') return cmd;
  return cmd
    .option(
      '--max-trace-chars <n>',
      `cut the trace to n characters at a line before prompting; 0 = no limit; default: the preset's (math ${presetValues((p) => p.truncation.math.trace)}; code ${presetValues((p) => p.truncation.code.trace)})`,
      nonNegativeInt,
    )
    .addOption(
      knobOption(
        '--empty-trace <prompt>',
        `which prompt an empty trace gets; default: the preset's (math ${presetValues((p) => p.empty_trace.math)})`,
        EMPTY_TRACE_PROMPTS,
      ),
    )
    .addOption(
      knobOption('--baseline <how>', `no-trace baseline; default: the preset's (${presetValues((p) => p.baseline)})`, BASELINE_ESTIMATORS),
    )
    .addOption(
      knobOption(
        '--code-outcome <rule>',
        `code outcome class for coderl/hybrid; default: the preset's (${presetValues((p) => p.code_outcome)})`,
        CODE_OUTCOME_RULES,
      ),
    );
}

export interface ProtocolFlags {
  protocol?: ProtocolPreset;
  prompts?: Protocol['prompt_set'];
  completionPrompt?: Protocol['completion_prompt'];
  maxProblemChars?: number;
  maxTraceChars?: number;
  emptyTrace?: Protocol['empty_trace']['math'];
  baseline?: Protocol['baseline'];
  codeOutcome?: Protocol['code_outcome'];
}

/** The protocol request of the flags: the preset and the knobs given (a character limit of 0 is no limit). */
export function protocolInputFromFlags(flags: ProtocolFlags): ProtocolInput {
  const limit = (n: number | undefined) => (n === undefined ? undefined : n === 0 ? null : n);
  const problem = limit(flags.maxProblemChars);
  const trace = limit(flags.maxTraceChars);
  const perKind = { ...(problem !== undefined ? { problem } : {}), ...(trace !== undefined ? { trace } : {}) };
  return {
    preset: flags.protocol,
    prompt_set: flags.prompts,
    completion_prompt: flags.completionPrompt,
    baseline: flags.baseline,
    code_outcome: flags.codeOutcome,
    ...(Object.keys(perKind).length ? { truncation: { math: perKind, code: perKind } } : {}),
    ...(flags.emptyTrace ? { empty_trace: { math: flags.emptyTrace, code: flags.emptyTrace } } : {}),
  };
}

/** Diagnostics go to stderr so stdout stays parseable. */
export const logToStderr = (line: string) => process.stderr.write(`${line}\n`);
