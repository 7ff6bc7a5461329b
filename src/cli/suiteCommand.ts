/** `tracelift suite`: every benchmark without and with a planner's traces, as runs and one table. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { EVAL_OPTION_DEFAULTS } from '../engine/contract';
import { runSuite, SUITE_DEFAULT_TASKS, SUITE_FILES, type SuitePlannerRequest } from '../engine/suite/runSuite';
import { resolveDataDir } from '../engine/tasks/dataDir';
import { getTask } from '../engine/tasks/registry';
import { checkUrlFlag } from './errors';
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
import { CANCELLED_EXIT_CODE, cancelOnSignals } from './signals';
import * as path from 'node:path';
import * as fs from 'node:fs';

interface SuiteFlags extends ExecutorFlags, ProtocolFlags {
  out: string;
  tasks: string[];
  limit?: number;
  plannerUrl?: string;
  plannerModel?: string;
  plannerKeyEnv?: string;
  planner2Url?: string;
  planner2Model?: string;
  planner2KeyEnv?: string;
  tracesPerProblem: number;
  plannerMaxTokens?: number;
  k: number;
  m: number;
  dataDir?: string;
  cacheDir?: string;
  cache: boolean;
  allowUnsandboxed?: boolean;
}

/** A comma-separated list of task names, each one known. */
function taskList(value: string): string[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!names.length) throw new InvalidArgumentError('expected task names separated by commas');
  for (const n of names) {
    try {
      getTask(n);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  }
  return names;
}

/** "embedded" (or no URL): the executor's own server plans; else an endpoint that needs a model. */
function plannerRequest(name: string, url: string | undefined, model: string | undefined, keyEnv: string | undefined): SuitePlannerRequest {
  if (!url || url === 'embedded') return { name };
  checkUrlFlag(`--${name}-url`, url);
  if (!model) throw new Error(`--${name}-url needs --${name}-model`);
  return { name, url, model, apiKeyEnv: keyEnv ?? null };
}

export function registerSuiteCommand(program: Command): void {
  const d = EVAL_OPTION_DEFAULTS;
  const cmd = program
    .command('suite')
    .description(
      'The benchmark table: each benchmark with the executor alone (its no-trace baseline) and with the planner’s traces, ' +
        'as run directories under --out, then table.md/.csv/.json with deltas, micro-averages and 95% intervals. Resumable.',
    )
    .requiredOption('--out <dir>', 'suite directory (runs, traces and the table); re-running into it resumes')
    .addOption(
      new Option('--tasks <list>', 'benchmarks, comma-separated')
        .argParser(taskList)
        .default(SUITE_DEFAULT_TASKS, SUITE_DEFAULT_TASKS.join(',')),
    )
    .option('--limit <n>', 'the first n problems of each benchmark', positiveInt)
    .option(
      '--planner-url <url>',
      'planner endpoint, or "embedded"; default: the executor’s own server plans (the embedded default is a 135M model: a weak planner)',
    )
    .option('--planner-model <name>', 'planner model name (with --planner-url)')
    .option('--planner-key-env <VAR>', 'environment variable holding the planner API key')
    .option('--planner2-url <url>', 'a second planner (e.g. a trained checkpoint) adds columns: endpoint, or "embedded"')
    .option('--planner2-model <name>', 'second planner model name')
    .option('--planner2-key-env <VAR>', 'environment variable holding the second planner’s API key')
    .option('--traces-per-problem <n>', 'planner traces per problem', positiveInt, d.tracesPerProblem)
    .option('--planner-max-tokens <n>', `planner token budget per trace (default: ${d.plannerSampling.max_tokens})`, positiveInt)
    .option('-k, --k <n>', 'with-trace executor samples per trace', positiveInt, d.k)
    .option('-m, --m <n>', 'no-trace baseline samples per problem (cached)', positiveInt, d.baselineSamples)
    .option('--data-dir <dir>', 'benchmark data directory (default: $TRACELIFT_DATA_DIR)')
    .option('--cache-dir <dir>', `baseline cache directory (default: $${d.cacheDirEnv} or ~/.cache/tracelift)`)
    .option('--no-cache', 'do not read or write the baseline cache')
    .option('--allow-unsandboxed', 'code tasks: run programs without bubblewrap (warns on every run)');
  addProtocolOptions(addExecutorOptions(cmd)).action(async (flags: SuiteFlags) => {
    process.exitCode = await suiteAction(flags);
  });
}

async function suiteAction(flags: SuiteFlags): Promise<number> {
  const log = logToStderr;
  checkUrlFlag('--executor-url', flags.executorUrl);
  const planners = [plannerRequest('planner', flags.plannerUrl, flags.plannerModel, flags.plannerKeyEnv)];
  if (flags.planner2Url) planners.push(plannerRequest('planner2', flags.planner2Url, flags.planner2Model, flags.planner2KeyEnv));
  const cancel = cancelOnSignals(log);
  try {
    const result = await runSuite({
      outDir: flags.out,
      tasks: flags.tasks,
      limit: flags.limit ?? null,
      planners,
      tracesPerProblem: flags.tracesPerProblem,
      plannerMaxTokens: flags.plannerMaxTokens,
      executor: executorRequestFromFlags(flags),
      config: {
        k: flags.k,
        m: flags.m,
        temperature: flags.temperature,
        maxTokens: flags.maxTokens,
        topP: flags.topP,
        protocol: protocolInputFromFlags(flags),
        rewardMode: 'exec_only',
        dataDir: resolveDataDir(flags.dataDir),
        cacheDir: flags.cacheDir,
      },
      noCache: flags.cache === false,
      verifierOptions: { allowUnsandboxed: flags.allowUnsandboxed },
      signal: cancel.signal,
      exitGuard: cancel.guard,
      log,
      onProgress: (p) => process.stderr.write(`progress ${p.task}/${p.planner} ${p.done}/${p.total}\n`),
    });
    process.stdout.write(fs.readFileSync(path.join(result.outDir, SUITE_FILES.tableMd), 'utf8'));
    process.stdout.write(`\nfiles: ${path.join(result.outDir, SUITE_FILES.tableMd)}, ${SUITE_FILES.tableCsv}, ${SUITE_FILES.tableJson}\n`);
    return result.status === 'completed' ? 0 : CANCELLED_EXIT_CODE;
  } finally {
    cancel.dispose();
  }
}
