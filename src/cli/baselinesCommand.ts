/**
 * `tracelift baselines`: estimate the no-trace baselines of a task's problems
 * ahead of time into the cache, so that training steps and evals over those
 * problems only spend executor calls on traces. The run is assembled as an
 * eval's is (same sampling, prompts and verifier), so the cache keys match.
 */
import { Command } from 'commander';
import pLimit from 'p-limit';
import { EVAL_OPTION_DEFAULTS } from '../engine/contract';
import { assembleRun } from '../engine/eval/runComponents';
import { configWindow } from '../engine/eval/runEval';
import { resolveDataDir } from '../engine/tasks/dataDir';
import { getTask } from '../engine/tasks/registry';
import {
  addExecutorOptions,
  addProtocolOptions,
  executorRequestFromFlags,
  logToStderr,
  nonNegativeInt,
  positiveInt,
  protocolInputFromFlags,
  type ExecutorFlags,
  type ProtocolFlags,
} from './options';

interface BaselinesFlags extends ExecutorFlags, ProtocolFlags {
  task: string;
  split?: string;
  limit?: number;
  offset: number;
  m: number;
  dataDir?: string;
  cacheDir?: string;
}

export function registerBaselinesCommand(program: Command): void {
  const cmd = program
    .command('baselines')
    .description('Estimate and cache the no-trace baseline of each problem of a task (M samples each).')
    .requiredOption('--task <name>', 'task name')
    .option('--split <name>', 'dataset split')
    .option('--limit <n>', 'first n problems', positiveInt)
    .option('--offset <n>', 'skip the first n problems', nonNegativeInt, EVAL_OPTION_DEFAULTS.offset)
    .option('-m, --m <n>', 'baseline samples per problem', positiveInt, EVAL_OPTION_DEFAULTS.baselineSamples)
    .option('--data-dir <dir>', 'benchmark data directory')
    .option('--cache-dir <dir>', 'baseline cache directory');
  // Only the knobs that shape a no-trace prompt: per-trace baselines are never cached, so they have no place here.
  addProtocolOptions(addExecutorOptions(cmd), 'baseline').action(async (flags: BaselinesFlags) => {
    const log = logToStderr;
    const task = getTask(flags.task);
    const dataDir = resolveDataDir(flags.dataDir);
    const split = flags.split ?? task.defaultSplit;
    // Loaded before an executor starts: a missing or malformed file fails fast.
    const problems = configWindow({ offset: flags.offset, limit: flags.limit ?? null }, task.load(dataDir, split));
    const run = await assembleRun({
      config: {
        task: task.name,
        split,
        limit: flags.limit,
        offset: flags.offset,
        m: flags.m,
        // Baselines need no traces; the source is only part of a complete config.
        traceSource: { kind: 'reference' },
        temperature: flags.temperature,
        maxTokens: flags.maxTokens,
        topP: flags.topP,
        protocol: protocolInputFromFlags(flags),
        dataDir,
        cacheDir: flags.cacheDir,
      },
      executor: executorRequestFromFlags(flags),
      verifierOptions: { allowUnsandboxed: false },
      log,
    });
    try {
      const { scorer, cache } = run;
      const limit = pLimit(Math.max(2, run.executor.endpoint.concurrency));
      let done = 0;
      await Promise.all(
        problems.map((p) =>
          limit(async () => {
            const b = await scorer.baseline(p);
            done++;
            process.stdout.write(
              `${p.id}\t${b.tally.successes}/${b.tally.valid}${b.from_cache ? '\t(cached)' : ''}${b.tally.failed ? `\t${b.tally.failed} failed` : ''}\n`,
            );
            process.stderr.write(`progress ${done}/${problems.length}\n`);
          }),
        ),
      );
      process.stdout.write(
        `${problems.length} baselines in ${cache!.file} (${cache!.hits} were cached, ${scorer.generations} generations)\n`,
      );
    } finally {
      await run.close();
    }
  });
}
