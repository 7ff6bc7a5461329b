/**
 * `tracelift groups build`: a TraceLift-Groups file for GSM8K (docs/groups.md),
 * with `<out>.summary.json` beside it. The LLM kinds use --perturb-url (default:
 * the embedded executor server), the rubric --judge-url (default: the per-kind
 * prior), and --measure scores every trace on the executor.
 */
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { defaultCacheDir, EVAL_OPTION_DEFAULTS, EndpointSchema, MATH_NEGATIVE_KINDS, type MathNegativeKind } from '../engine/contract';
import { buildEvalConfig } from '../engine/eval/buildConfig';
import { buildRunComponents, type RunComponents } from '../engine/eval/runComponents';
import { ExecutorClient } from '../engine/executor/client';
import { resolveExecutor, type ExecutorChoice } from '../engine/executor/resolve';
import {
  buildGsm8kGroups,
  DEFAULT_MIN_NEGATIVES,
  GroupMeasurer,
  LlmPerturber,
  MATH_KIND_ORDER,
  PERTURB_PROMPTS,
  PROGRAMMATIC_MATH_KINDS,
  RubricJudge,
  summaryPath,
} from '../engine/groups/build';
import type { GroupsBuildSummary } from '../engine/contract';
import { resolveDataDir } from '../engine/tasks/dataDir';
import { checkUrlFlag } from './errors';
import { addExecutorOptions, executorRequestFromFlags, logToStderr, nonNegativeInt, positiveInt, type ExecutorFlags } from './options';
import { CANCELLED_EXIT_CODE, cancelOnSignals } from './signals';

interface GroupsBuildFlags extends ExecutorFlags {
  task: string;
  split: string;
  limit?: number;
  offset: number;
  out: string;
  seed: number;
  kinds?: MathNegativeKind[];
  minNegatives: number;
  perturbUrl?: string;
  perturbModel?: string;
  perturbKeyEnv?: string;
  perturbMaxTokens?: number;
  judgeUrl?: string;
  judgeModel?: string;
  judgeKeyEnv?: string;
  measure?: boolean;
  k: number;
  m: number;
  dataDir?: string;
  cacheDir?: string;
  cache: boolean;
}

function kindList(value: string): MathNegativeKind[] {
  const kinds = value
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const unknown = kinds.filter((k) => !(k in MATH_NEGATIVE_KINDS));
  if (unknown.length || !kinds.length) {
    throw new InvalidArgumentError(`expected a comma-separated list of: ${MATH_KIND_ORDER.join(', ')}`);
  }
  return kinds as MathNegativeKind[];
}

export function registerGroupsCommand(program: Command): void {
  const groups = program.command('groups').description('TraceLift-Groups files: reference traces with controlled perturbations.');
  const d = EVAL_OPTION_DEFAULTS;
  const build = groups
    .command('build')
    .description('Build a groups file: positive reference trace, six perturbation kinds, rubric, optional measured uplift.')
    .option('--task <name>', 'task (gsm8k; code tasks are not built yet)', 'gsm8k')
    .option('--split <name>', 'dataset split', 'train')
    .option('--limit <n>', 'build at most n problems', positiveInt)
    .option('--offset <n>', 'skip the first n problems', nonNegativeInt, 0)
    .requiredOption('--out <file>', 'groups JSONL file to write (resumed when it exists); the summary goes to <file>.summary.json')
    .option('--seed <n>', 'seed of every perturbation choice', nonNegativeInt, 0)
    .option('--kinds <list>', `negative kinds, comma-separated (default: all: ${MATH_KIND_ORDER.join(', ')})`, kindList)
    .option('--min-negatives <n>', 'drop a problem with fewer negatives (official: 4)', nonNegativeInt, DEFAULT_MIN_NEGATIVES)
    .option('--perturb-url <url>', 'OpenAI-compatible endpoint writing the LLM kinds (default: the embedded executor server)')
    .option('--perturb-model <name>', 'model name at --perturb-url')
    .option('--perturb-key-env <VAR>', 'environment variable holding the perturber API key')
    .option(
      '--perturb-max-tokens <n>',
      `max tokens of a perturbation reply (default: the prompt file's, ${PERTURB_PROMPTS.sampling.max_tokens})`,
      positiveInt,
    )
    .option('--judge-url <url>', 'OpenAI-compatible rubric judge (default: the per-kind prior rubric)')
    .option('--judge-model <name>', `judge model name (default: ${d.judgeModel})`)
    .option('--judge-key-env <VAR>', 'environment variable holding the judge API key')
    .option('--measure', 'score every trace on the executor and store its uplift')
    .option('-k, --k <n>', '--measure: with-trace executor samples per trace', positiveInt, d.k)
    .option('-m, --m <n>', '--measure: no-trace baseline samples per problem (cached)', positiveInt, d.baselineSamples)
    .option('--data-dir <dir>', 'benchmark data directory (default: $TRACELIFT_DATA_DIR)')
    .option('--cache-dir <dir>', `baseline and LLM-output cache directory (default: $${d.cacheDirEnv} or ~/.cache/tracelift)`)
    .option('--no-cache', 'do not read or write the caches (LLM kinds are then only as repeatable as the server)');
  addExecutorOptions(build).action(async (flags: GroupsBuildFlags) => {
    process.exitCode = await buildAction(flags);
  });
}

async function buildAction(flags: GroupsBuildFlags): Promise<number> {
  const log = logToStderr;
  if (flags.task !== 'gsm8k') throw new Error(`groups build supports --task gsm8k only for now (got "${flags.task}").`);
  for (const [flag, value] of [
    ['--executor-url', flags.executorUrl],
    ['--perturb-url', flags.perturbUrl],
    ['--judge-url', flags.judgeUrl],
  ] as const)
    checkUrlFlag(flag, value);
  if (flags.perturbUrl && !flags.perturbModel) throw new Error('--perturb-url needs --perturb-model.');
  const dataDir = resolveDataDir(flags.dataDir);
  const cacheDir = flags.cacheDir ?? defaultCacheDir();
  const kinds = flags.kinds ?? MATH_KIND_ORDER;
  const needsLlm = kinds.some((k) => !(PROGRAMMATIC_MATH_KINDS as readonly string[]).includes(k));
  const cancel = cancelOnSignals(log);
  const started: ExecutorChoice[] = [];
  let run: RunComponents | null = null;
  try {
    let measure: GroupMeasurer | null = null;
    let executor: ExecutorChoice | null = null;
    if (flags.measure) {
      executor = await resolveExecutor({ ...executorRequestFromFlags(flags), log });
      started.push(executor);
      const config = buildEvalConfig({
        task: 'gsm8k',
        split: flags.split,
        k: flags.k,
        m: flags.m,
        traceSource: { kind: 'reference' },
        executor: { endpoint: executor.endpoint, origin: executor.origin },
        temperature: flags.temperature,
        maxTokens: flags.maxTokens,
        topP: flags.topP,
        rewardMode: 'exec_only',
        dataDir,
        cacheDir,
      });
      run = buildRunComponents(config, {
        executorIdentity: executor.identity,
        noCache: !flags.cache,
        clientOptions: { signal: cancel.signal },
        log,
      });
      measure = new GroupMeasurer(
        run.scorer,
        { executor: executor.identity, k: config.k, baselineSamples: config.baseline_samples, promptVersion: config.prompt_version },
        'gsm8k',
      );
    }
    let perturber: LlmPerturber | null = null;
    if (needsLlm) {
      let choice: ExecutorChoice;
      if (flags.perturbUrl) {
        choice = await resolveExecutor({ url: flags.perturbUrl, model: flags.perturbModel, apiKeyEnv: flags.perturbKeyEnv, log });
      } else if (executor?.origin === 'embedded') {
        choice = executor; // one embedded server serves both
      } else {
        choice = await resolveExecutor({ log });
        started.push(choice);
      }
      const client = new ExecutorClient(choice.endpoint, { log, signal: cancel.signal });
      perturber = new LlmPerturber(client, {
        identity: choice.identity,
        cacheDir: flags.cache ? path.join(cacheDir, 'perturb') : null,
        maxTokens: flags.perturbMaxTokens,
      });
    }
    const judge = flags.judgeUrl
      ? new RubricJudge(
          new ExecutorClient(
            EndpointSchema.parse({
              base_url: flags.judgeUrl,
              model: flags.judgeModel ?? EVAL_OPTION_DEFAULTS.judgeModel,
              api_key_env: flags.judgeKeyEnv ?? null,
            }),
            { log, signal: cancel.signal },
          ),
        )
      : null;
    if (cancel.signal.aborted) return CANCELLED_EXIT_CODE;
    const summary = await buildGsm8kGroups({
      split: flags.split,
      dataDir,
      offset: flags.offset,
      limit: flags.limit ?? null,
      out: flags.out,
      seed: flags.seed,
      kinds,
      minNegatives: flags.minNegatives,
      perturber,
      judge,
      measure,
      signal: cancel.signal,
      log,
      onProgress: (p) =>
        log(`progress ${p.done}/${p.total} ${p.problemId}: ${p.written ? `${p.negatives} negatives` : `dropped (${p.dropReason})`}`),
    });
    process.stdout.write(formatBuildSummary(summary, flags.out) + '\n');
    return summary.status === 'completed' ? 0 : CANCELLED_EXIT_CODE;
  } finally {
    cancel.dispose();
    await run?.close();
    for (const s of started) await s.stop();
  }
}

const signed = (x: number | null) => (x === null ? 'n/a' : `${x >= 0 ? '+' : ''}${x.toFixed(3)}`);

export function formatBuildSummary(s: GroupsBuildSummary, out: string): string {
  const lines = [
    `groups ${s.status}: ${s.groups_written} written, ${s.groups_dropped} dropped of ${s.problems_seen} problems — ${out}`,
    `  negatives by kind: ${
      Object.entries(s.negative_kind_counts)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    }`,
  ];
  for (const [kind, reasons] of Object.entries(s.candidates_dropped)) {
    lines.push(
      `  ${kind} not written: ${Object.entries(reasons)
        .map(([r, n]) => `${r} ×${n}`)
        .join(', ')}`,
    );
  }
  if (Object.keys(s.drop_reasons).length) {
    lines.push(
      `  problems dropped: ${Object.entries(s.drop_reasons)
        .map(([r, n]) => `${r} ×${n}`)
        .join(', ')}`,
    );
  }
  if (s.measured) {
    lines.push(`  measured uplift: positive ${signed(s.measured.positive.mean_uplift)} (${s.measured.positive.traces} traces)`);
    for (const [kind, st] of Object.entries(s.measured.per_kind)) {
      const rate = st.at_least_positive_rate === null ? 'n/a' : `${(100 * st.at_least_positive_rate).toFixed(0)}%`;
      lines.push(
        `    ${kind.padEnd(20)} mean ${signed(st.mean_uplift)}, lifts at least as much as its positive: ${rate} of ${st.compared}`,
      );
    }
  }
  lines.push(`  summary: ${summaryPath(out)}`);
  return lines.join('\n');
}
