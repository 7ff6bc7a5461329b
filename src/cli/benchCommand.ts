/**
 * `tracelift bench reward`: the official scoring loop vs the engine on one GRPO-shaped batch.
 * `tracelift bench train`: a training step's cost (src/engine/bench/trainBench.ts).
 * `tracelift bench rm`: the RM server's batching vs one item per forward pass (src/engine/bench/rmBench.ts).
 */
import { Command } from 'commander';
import { EVAL_OPTION_DEFAULTS, resolveProtocol } from '../engine/contract';
import { runRewardBench } from '../engine/bench/rewardBench';
import { runRmBench } from '../engine/bench/rmBench';
import { runTrainBench } from '../engine/bench/trainBench';
import { resolveExecutor } from '../engine/executor/resolve';
import { resolveDataDir } from '../engine/tasks/dataDir';
import {
  addExecutorOptions,
  addProtocolOptions,
  executorRequestFromFlags,
  logToStderr,
  positiveInt,
  protocolInputFromFlags,
  type ExecutorFlags,
  type ProtocolFlags,
} from './options';

interface BenchFlags extends ExecutorFlags, ProtocolFlags {
  problems: number;
  traces: number;
  k: number;
  m: number;
  dataDir?: string;
}

export function registerBenchCommand(program: Command): void {
  const bench = program.command('bench').description('Benchmarks that print their numbers (last line JSON).');
  const reward = bench
    .command('reward')
    .description('Score one GRPO batch as the official code does and with the engine; compare generations and wall time.')
    .option('--problems <n>', 'problems in the batch', positiveInt, 4)
    .option('--traces <n>', 'traces per problem (GRPO num_generations; official: 4)', positiveInt, 4)
    .option('-k, --k <n>', 'with-trace samples per trace', positiveInt, EVAL_OPTION_DEFAULTS.k)
    .option('-m, --m <n>', 'baseline samples per problem', positiveInt, EVAL_OPTION_DEFAULTS.baselineSamples)
    .option('--data-dir <dir>', 'benchmark data directory');
  addProtocolOptions(addExecutorOptions(reward)).action(async (flags: BenchFlags) => {
    const log = logToStderr;
    const dataDir = resolveDataDir(flags.dataDir);
    const protocol = protocolInputFromFlags(flags);
    const request = executorRequestFromFlags(flags);
    const executor = await resolveExecutor({ ...request, api: request.api ?? resolveProtocol(protocol).executor_api, log });
    try {
      const result = await runRewardBench({
        executor,
        dataDir,
        problems: flags.problems,
        tracesPerProblem: flags.traces,
        k: flags.k,
        baselineSamples: flags.m,
        temperature: flags.temperature,
        maxTokens: flags.maxTokens,
        topP: flags.topP,
        protocol,
        log,
      });
      process.stdout.write(
        `generations: official ${result.official_generations}, engine ${result.engine_generations} (warm cache ${result.engine_warm_generations})\n` +
          `wall: official ${result.official_wall_s} s, engine ${result.engine_wall_s} s (warm ${result.engine_warm_wall_s} s), direct replay ${result.replay_wall_s} s\n`,
      );
      process.stdout.write(JSON.stringify(result) + '\n');
    } finally {
      await executor.stop();
    }
  });
  registerTrainBench(bench);
  registerRmBench(bench);
}

interface RmBenchFlags {
  model: string;
  traces: number;
  clients: number;
  maxBatch: number;
  maxLength: number;
  dataDir?: string;
  python?: string;
}

function registerRmBench(bench: Command): void {
  bench
    .command('rm')
    .description(
      'Items/s scoring GSM8K reference traces one item per request against a server that scores one item per forward pass ' +
        "(the official clients' pattern) vs the same requests from concurrent clients batched by the server; " +
        'per-request latency p50/p95. Prints one JSON line.',
    )
    .requiredOption('--model <dir>', 'a Reason RM (its directory, or the `rm train` run directory)')
    .option('--traces <n>', 'traces to score', positiveInt, 256)
    .option('--clients <n>', 'concurrent clients in the batched measurement', positiveInt, 8)
    .option('--max-batch <n>', "the batching server's max batch", positiveInt, 16)
    .option('--max-length <n>', 'RM token limit per item', positiveInt, 512)
    .option('--data-dir <dir>', 'benchmark data directory')
    .option('--python <path>', 'Python of the training environment (default: $TRACELIFT_PYTHON or .venv)')
    .action(async (flags: RmBenchFlags) => {
      const result = await runRmBench({
        modelDir: flags.model,
        dataDir: resolveDataDir(flags.dataDir),
        traces: flags.traces,
        clients: flags.clients,
        maxBatch: flags.maxBatch,
        maxLength: flags.maxLength,
        pythonPath: flags.python,
        log: logToStderr,
      });
      process.stdout.write(JSON.stringify(result) + '\n');
    });
}

interface TrainBenchFlags {
  config: string;
  run?: string;
  out?: string;
  steps: number;
  limit: number;
  overhead: boolean;
  overheadProblems: number;
  python?: string;
  allowUnsandboxed?: boolean;
}

function registerTrainBench(bench: Command): void {
  bench
    .command('train')
    .description(
      'Seconds per training step (generation / reward / update), executor generations per step vs the official 2K+1 per trace, ' +
        "step 1 vs revisited problems (cached baselines), and the reward service's overhead over its bare executor requests. " +
        'Trains a few steps of the recipe on a small problem window (or reads --run DIR). Prints one JSON line.',
    )
    .option('--config <file>', 'training recipe', 'recipes/cpu-smollm2.json')
    .option('--run <dir>', 'read the step figures of this training run instead of training')
    .option('--out <dir>', 'run directory of the bench run (default: a temporary one, kept)')
    .option('--steps <n>', 'training steps', positiveInt, 4)
    .option('--limit <n>', 'problems per task (fewer than steps x prompts_per_step: later steps revisit them)', positiveInt, 2)
    .option('--no-overhead', "skip the reward service's overhead measurement")
    .option('--overhead-problems <n>', 'problems in the overhead batch (G completions each)', positiveInt, 2)
    .option('--python <path>', 'Python of the training environment (default: $TRACELIFT_PYTHON or .venv)')
    .option('--allow-unsandboxed', 'run code verifiers without bubblewrap (trusted tasks only)')
    .action(async (flags: TrainBenchFlags) => {
      const result = await runTrainBench({
        configFile: flags.run ? null : flags.config,
        runDir: flags.run ?? null,
        out: flags.out ?? null,
        steps: flags.steps,
        limit: flags.limit,
        overhead: flags.overhead,
        overheadProblems: flags.overheadProblems,
        pythonPath: flags.python,
        allowUnsandboxed: flags.allowUnsandboxed,
        log: logToStderr,
      });
      process.stdout.write(JSON.stringify(result) + '\n');
    });
}
