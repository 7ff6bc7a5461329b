/**
 * The tracelift CLI: the engine's first front door (the VS Code extension is
 * the second). Commands: eval, verify math|code, baselines, bench reward, tasks, schemas.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_EXECUTOR_TEMPERATURE } from '../engine/eval/buildConfig';
import { resolveExecutor, type ExecutorChoice } from '../engine/executor/resolve';
import { registerEvalCommand } from './evalCommand';
import { registerBaselinesCommand } from './baselinesCommand';
import { registerBenchCommand } from './benchCommand';
import { registerMiscCommands } from './miscCommands';
import { registerVerifyCommand } from './verifyCommand';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number ≥ 0');
  return n;
}

/** Executor endpoint flags shared by eval and bench. */
export function addExecutorOptions(cmd: Command): Command {
  return cmd
    .option('--executor-url <url>', 'OpenAI-compatible base URL of the executor (default: start the embedded SmolLM2-135M server)')
    .option('--executor-model <name>', 'executor model name at that endpoint')
    .addOption(new Option('--executor-api <api>', 'API flavour').choices(['chat', 'completions']).default('chat'))
    .option('--executor-key-env <VAR>', 'environment variable holding the executor API key')
    .option('--concurrency <n>', 'executor requests in flight at once', positiveInt)
    .option('--temperature <t>', 'executor sampling temperature', nonNegativeNumber, DEFAULT_EXECUTOR_TEMPERATURE)
    .option('--max-tokens <n>', 'executor max tokens per sample', positiveInt);
}

export interface ExecutorFlags {
  executorUrl?: string;
  executorModel?: string;
  executorApi?: 'chat' | 'completions';
  executorKeyEnv?: string;
  concurrency?: number;
}

/** The executor the flags of addExecutorOptions ask for (the embedded default without --executor-url). */
export function executorFromFlags(flags: ExecutorFlags, log: (line: string) => void): Promise<ExecutorChoice> {
  return resolveExecutor({
    url: flags.executorUrl,
    model: flags.executorModel,
    api: flags.executorApi,
    apiKeyEnv: flags.executorKeyEnv,
    concurrency: flags.concurrency,
    log,
  });
}

/** Diagnostics go to stderr so stdout stays parseable. */
export const logToStderr = (line: string) => process.stderr.write(`${line}\n`);

async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program
    .name('tracelift')
    .description('Measure how much reasoning traces lift a frozen executor; score them as TraceLift rewards.')
    .showHelpAfterError();
  registerEvalCommand(program);
  registerVerifyCommand(program);
  registerBaselinesCommand(program);
  registerBenchCommand(program);
  registerMiscCommands(program);
  await program.parseAsync(argv);
}

main(process.argv).catch((err: unknown) => {
  process.stderr.write(`tracelift: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = process.exitCode || 1;
});
