/**
 * `tracelift baselines`: estimate the no-trace baselines of a task's problems
 * ahead of time into the cache, so that training steps and evals over those
 * problems only spend executor calls on traces.
 */
import { Command } from 'commander';
import pLimit from 'p-limit';
import { RewardConfigSchema, SamplingSchema } from '../engine/contract';
import { ExecutorClient } from '../engine/executor/client';
import { DEFAULT_PROMPTS } from '../engine/prompts/templates';
import { resolveDataDir } from '../engine/tasks/dataDir';
import { getTask } from '../engine/tasks/registry';
import { BaselineCache } from '../engine/uplift/baselineCache';
import { GroupScorer } from '../engine/uplift/scorer';
import { EngineVerifier } from '../engine/verify';
import { defaultCacheDir, DEFAULT_MAX_TOKENS } from '../engine/eval/buildConfig';
import { addExecutorOptions, positiveInt, executorFromFlags, logToStderr } from './main';

export function registerBaselinesCommand(program: Command): void {
  const cmd = program
    .command('baselines')
    .description('Estimate and cache the no-trace baseline of each problem of a task (M samples each).')
    .requiredOption('--task <name>', 'task name')
    .option('--split <name>', 'dataset split')
    .option('--limit <n>', 'first n problems', positiveInt)
    .option('--offset <n>', 'skip the first n problems', (v) => Number(v), 0)
    .option('-m, --m <n>', 'baseline samples per problem', positiveInt, 8)
    .option('--data-dir <dir>', 'benchmark data directory')
    .option('--cache-dir <dir>', 'baseline cache directory');
  addExecutorOptions(cmd).action(async (flags) => {
    const task = getTask(flags.task);
    const problems = task.load(resolveDataDir(flags.dataDir), flags.split ?? task.defaultSplit).slice(flags.offset, flags.limit ? flags.offset + flags.limit : undefined);
    const log = logToStderr;
    const executor = await executorFromFlags(flags, log);
    const verifier = new EngineVerifier({ allowUnsandboxed: false, log });
    try {
      const cache = new BaselineCache(flags.cacheDir ?? defaultCacheDir());
      const scorer = new GroupScorer({
        client: new ExecutorClient(executor.endpoint, { log }),
        executorIdentity: executor.identity,
        // Must match what eval uses, or the cache keys differ.
        sampling: SamplingSchema.parse({ temperature: flags.temperature, max_tokens: flags.maxTokens ?? DEFAULT_MAX_TOKENS[task.kind] }),
        prompts: DEFAULT_PROMPTS,
        verifier,
        cache,
        k: 1,
        baselineSamples: flags.m,
        reward: RewardConfigSchema.parse({}),
      });
      const limit = pLimit(Math.max(2, executor.endpoint.concurrency));
      let done = 0;
      await Promise.all(
        problems.map((p) =>
          limit(async () => {
            const b = await scorer.baseline(p);
            done++;
            process.stdout.write(`${p.id}\t${b.tally.successes}/${b.tally.valid}${b.from_cache ? '\t(cached)' : ''}${b.tally.failed ? `\t${b.tally.failed} failed` : ''}\n`);
            process.stderr.write(`progress ${done}/${problems.length}\n`);
          }),
        ),
      );
      process.stdout.write(`${problems.length} baselines in ${cache.file} (${cache.hits} were cached, ${scorer.generations} generations)\n`);
    } finally {
      await verifier.close();
      await executor.stop();
    }
  });
}
