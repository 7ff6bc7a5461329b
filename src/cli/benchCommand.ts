/** `tracelift bench reward`: the official scoring loop vs the engine on one GRPO-shaped batch. */
import { Command } from 'commander';
import { runRewardBench } from '../engine/bench/rewardBench';
import { resolveDataDir } from '../engine/tasks/dataDir';
import { EngineVerifier } from '../engine/verify';
import { addExecutorOptions, positiveInt, executorFromFlags, logToStderr } from './main';

export function registerBenchCommand(program: Command): void {
  const bench = program.command('bench').description('Benchmarks that print their numbers (last line JSON).');
  const reward = bench
    .command('reward')
    .description('Score one GRPO batch as the official code does and with the engine; compare generations and wall time.')
    .option('--problems <n>', 'problems in the batch', positiveInt, 4)
    .option('--traces <n>', 'traces per problem (GRPO num_generations; official: 4)', positiveInt, 4)
    .option('-k, --k <n>', 'with-trace samples per trace', positiveInt, 3)
    .option('-m, --m <n>', 'baseline samples per problem', positiveInt, 8)
    .option('--data-dir <dir>', 'benchmark data directory');
  addExecutorOptions(reward).action(async (flags) => {
    const log = logToStderr;
    const executor = await executorFromFlags(flags, log);
    const verifier = new EngineVerifier({ log });
    try {
      const result = await runRewardBench({
        endpoint: executor.endpoint,
        executorIdentity: executor.identity,
        verifier,
        dataDir: resolveDataDir(flags.dataDir),
        problems: flags.problems,
        tracesPerProblem: flags.traces,
        k: flags.k,
        baselineSamples: flags.m,
        maxTokens: flags.maxTokens ?? 96,
        log,
      });
      process.stdout.write(
        `generations: official ${result.official_generations}, engine ${result.engine_generations} (warm cache ${result.engine_warm_generations})\n` +
          `wall: official ${result.official_wall_s} s, engine ${result.engine_wall_s} s (warm ${result.engine_warm_wall_s} s), direct replay ${result.replay_wall_s} s\n`,
      );
      process.stdout.write(JSON.stringify(result) + '\n');
    } finally {
      await verifier.close();
      await executor.stop();
    }
  });
}
