/**
 * `tracelift groups build`: a TraceLift-Groups file for GSM8K (docs/groups.md),
 * with `<out>.summary.json` beside it. The LLM kinds use --perturb-url (default:
 * the embedded executor server), the rubric --judge-url (default: the per-kind
 * prior), and --measure scores every trace on the executor.
 */
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import {
  CODE_NEGATIVE_KINDS,
  defaultCacheDir,
  EVAL_OPTION_DEFAULTS,
  EndpointSchema,
  MATH_NEGATIVE_KINDS,
  SamplingSchema,
  type CodeNegativeKind,
  type CodeProblem,
  type MathNegativeKind,
} from '../engine/contract';
import { sha256OfFile } from '../engine/data/fetch';
import { extractPlannerTrace, tracesFromFile } from '../engine/eval/traceSources';
import { plannerMessages, PROMPT_SETS } from '../engine/prompts/templates';
import { getTask } from '../engine/tasks/registry';
import { buildEvalConfig } from '../engine/eval/buildConfig';
import { buildRunComponents, type RunComponents } from '../engine/eval/runComponents';
import { ExecutorClient } from '../engine/executor/client';
import { resolveExecutor, type ExecutorChoice } from '../engine/executor/resolve';
import {
  buildCodeGroups,
  buildGsm8kGroups,
  CODE_KIND_ORDER,
  DEFAULT_MIN_NEGATIVES,
  LiftChecker,
  type PositiveSource,
  GroupMeasurer,
  LlmPerturber,
  MATH_KIND_ORDER,
  PERTURB_PROMPTS,
  PROGRAMMATIC_MATH_KINDS,
  RubricJudge,
  summaryPath,
} from '../engine/groups/build';
import type { GroupsBuildSummary } from '../engine/contract';
import { formatGroupsStats, groupsFileStats } from '../engine/groups';
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
  kinds?: string[];
  minNegatives: number;
  positives?: string;
  plannerUrl?: string;
  plannerModel?: string;
  plannerKeyEnv?: string;
  liftCheck?: boolean;
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

function kindList(value: string): string[] {
  const kinds = value
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const unknown = kinds.filter((k) => !(k in MATH_NEGATIVE_KINDS) && !(k in CODE_NEGATIVE_KINDS));
  if (unknown.length || !kinds.length) {
    throw new InvalidArgumentError(`expected a comma-separated list of: ${[...MATH_KIND_ORDER, ...CODE_KIND_ORDER].join(', ')}`);
  }
  return kinds;
}

/** The task's kinds out of --kinds, or an error naming the ones of the other domain. */
function kindsForTask<K extends string>(kinds: string[] | undefined, valid: readonly K[], task: string): K[] {
  if (!kinds) return [...valid];
  const wrong = kinds.filter((k) => !(valid as readonly string[]).includes(k));
  if (wrong.length) throw new Error(`--kinds ${wrong.join(', ')}: not kinds of ${task} (its kinds: ${valid.join(', ')})`);
  return kinds as K[];
}

export function registerGroupsCommand(program: Command): void {
  const groups = program.command('groups').description('TraceLift-Groups files: reference traces with controlled perturbations.');
  const d = EVAL_OPTION_DEFAULTS;
  const build = groups
    .command('build')
    .description('Build a groups file: positive reference trace, six perturbation kinds, rubric, optional measured uplift.')
    .option(
      '--task <name>',
      'task: gsm8k, or a code task (mbpp, mbppplus, humaneval, humanevalplus, livecodebench, code_contests)',
      'gsm8k',
    )
    .option('--split <name>', "dataset split (default: gsm8k train, a code task's default split)")
    .option('--limit <n>', 'build at most n problems', positiveInt)
    .option('--offset <n>', 'skip the first n problems', nonNegativeInt, 0)
    .requiredOption('--out <file>', 'groups JSONL file to write (resumed when it exists); the summary goes to <file>.summary.json')
    .option('--seed <n>', 'seed of every perturbation choice', nonNegativeInt, 0)
    .option('--kinds <list>', `negative kinds, comma-separated (default: all: ${MATH_KIND_ORDER.join(', ')})`, kindList)
    .option('--min-negatives <n>', 'drop a problem with fewer negatives (official: 4)', nonNegativeInt, DEFAULT_MIN_NEGATIVES)
    .option(
      '--positives <file>',
      "code: traces file ({problem_id, trace} lines) with each problem's positive (default: a planner writes it)",
    )
    .option('--planner-url <url>', 'code: OpenAI-compatible planner writing positives (default: the embedded executor server)')
    .option('--planner-model <name>', 'model name at --planner-url')
    .option('--planner-key-env <VAR>', 'environment variable holding the planner API key')
    .option('--lift-check', 'code: keep a positive only when it lifts the executor (default with a planner)')
    .option('--no-lift-check', 'code: keep every non-empty positive')
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

  groups
    .command('stats')
    .description('Per negative kind: mean measured uplift, how often the positive beats it, rubric–uplift Spearman ρ.')
    .argument('<file>', 'TraceLift-Groups JSONL file (measured with groups build --measure)')
    .option('--json', 'print the stats as JSON (GroupsStatsSchema)')
    .action(async (file: string, flags: { json?: boolean }) => {
      const stats = await groupsFileStats(file);
      process.stdout.write(`${flags.json ? JSON.stringify(stats, null, 2) : formatGroupsStats(stats)}\n`);
    });
}

async function buildAction(flags: GroupsBuildFlags): Promise<number> {
  for (const [flag, value] of [
    ['--executor-url', flags.executorUrl],
    ['--perturb-url', flags.perturbUrl],
    ['--judge-url', flags.judgeUrl],
    ['--planner-url', flags.plannerUrl],
  ] as const)
    checkUrlFlag(flag, value);
  if (flags.perturbUrl && !flags.perturbModel) throw new Error('--perturb-url needs --perturb-model.');
  if (flags.plannerUrl && !flags.plannerModel) throw new Error('--planner-url needs --planner-model.');
  const task = getTask(flags.task);
  if (task.kind === 'code') return buildCodeAction(flags, task.name, flags.split ?? task.defaultSplit);
  if (task.name !== 'gsm8k') throw new Error(`groups build makes math groups from gsm8k only (got "${flags.task}").`);
  for (const flag of ['positives', 'plannerUrl', 'liftCheck'] as const)
    if (flags[flag] !== undefined) throw new Error(`--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is for code tasks.`);
  const log = logToStderr;
  const split = flags.split ?? 'train';
  const dataDir = resolveDataDir(flags.dataDir);
  const cacheDir = flags.cacheDir ?? defaultCacheDir();
  const kinds = kindsForTask<MathNegativeKind>(flags.kinds, MATH_KIND_ORDER, 'gsm8k');
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
        split,
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
    const judge = judgeFromFlags(flags, log, cancel.signal);
    if (cancel.signal.aborted) return CANCELLED_EXIT_CODE;
    const summary = await buildGsm8kGroups({
      split,
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

/**
 * Code groups: positives from --positives or a planner (--planner-url, else
 * the embedded server), lift-checked and measured on the executor, negatives
 * from the LLM perturber (--perturb-url, else the embedded server).
 */
async function buildCodeAction(flags: GroupsBuildFlags, taskName: string, split: string): Promise<number> {
  const log = logToStderr;
  const dataDir = resolveDataDir(flags.dataDir);
  const cacheDir = flags.cacheDir ?? defaultCacheDir();
  const kinds = kindsForTask<CodeNegativeKind>(flags.kinds, CODE_KIND_ORDER, taskName);
  if (flags.positives && flags.plannerUrl) throw new Error('Give --positives or --planner-url, not both.');
  const liftCheck = flags.liftCheck ?? !flags.positives;
  const cancel = cancelOnSignals(log);
  const started: ExecutorChoice[] = [];
  let embedded: ExecutorChoice | null = null;
  /** One embedded server serves every role that has no URL. */
  const embeddedServer = async (): Promise<ExecutorChoice> => {
    if (!embedded) {
      embedded = await resolveExecutor({ log });
      started.push(embedded);
    }
    return embedded;
  };
  let run: RunComponents | null = null;
  try {
    let measure: GroupMeasurer | null = null;
    let lift: LiftChecker | null = null;
    if (flags.measure || liftCheck) {
      const executor = await resolveExecutor({ ...executorRequestFromFlags(flags), log });
      started.push(executor);
      if (executor.origin === 'embedded') embedded = executor;
      const config = buildEvalConfig({
        task: taskName,
        split,
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
      const info = { executor: executor.identity, k: config.k, baselineSamples: config.baseline_samples };
      if (flags.measure) measure = new GroupMeasurer(run.scorer, { ...info, promptVersion: config.prompt_version }, taskName);
      if (liftCheck) lift = new LiftChecker(run.scorer, info);
    }

    let positives: PositiveSource;
    if (flags.positives) {
      const problems = getTask(taskName).load(dataDir, split);
      const { items, unmatched } = tracesFromFile(flags.positives, problems);
      if (unmatched.length)
        log(`warning: ${unmatched.length} positive(s) name problems not in ${taskName}/${split}: ${unmatched.slice(0, 5).join(', ')}`);
      positives = {
        kind: 'file',
        file: path.resolve(flags.positives),
        sha256: await sha256OfFile(flags.positives),
        traces: new Map(items.map((i) => [i.problem.id, i.traces.map((t) => t.trace)])),
      };
    } else {
      const choice = flags.plannerUrl
        ? await resolveExecutor({ url: flags.plannerUrl, model: flags.plannerModel, apiKeyEnv: flags.plannerKeyEnv, log })
        : await embeddedServer();
      const planner = new ExecutorClient(choice.endpoint, { log, signal: cancel.signal });
      const prompts = run?.prompts ?? PROMPT_SETS.tracelift;
      const sampling = SamplingSchema.parse({ ...EVAL_OPTION_DEFAULTS.plannerSampling, seed: flags.seed });
      positives = {
        kind: 'planner',
        identity: choice.identity,
        write: async (problem: CodeProblem) => {
          const [gen] = await planner.sample(plannerMessages(prompts, 'code', problem.problem), sampling, 1);
          return gen && gen.error === null && gen.text !== null ? extractPlannerTrace(gen.text) : null;
        },
      };
    }
    const perturberEndpoint = flags.perturbUrl
      ? await resolveExecutor({ url: flags.perturbUrl, model: flags.perturbModel, apiKeyEnv: flags.perturbKeyEnv, log })
      : await embeddedServer();
    const perturber = new LlmPerturber(new ExecutorClient(perturberEndpoint.endpoint, { log, signal: cancel.signal }), {
      identity: perturberEndpoint.identity,
      cacheDir: flags.cache ? path.join(cacheDir, 'perturb') : null,
      maxTokens: flags.perturbMaxTokens,
    });
    if (cancel.signal.aborted) return CANCELLED_EXIT_CODE;
    const summary = await buildCodeGroups({
      task: taskName,
      split,
      dataDir,
      offset: flags.offset,
      limit: flags.limit ?? null,
      out: flags.out,
      seed: flags.seed,
      kinds,
      minNegatives: flags.minNegatives,
      positives,
      liftCheck: lift,
      perturber,
      judge: judgeFromFlags(flags, log, cancel.signal),
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

function judgeFromFlags(flags: GroupsBuildFlags, log: (line: string) => void, signal: AbortSignal): RubricJudge | null {
  if (!flags.judgeUrl) return null;
  const endpoint = EndpointSchema.parse({
    base_url: flags.judgeUrl,
    model: flags.judgeModel ?? EVAL_OPTION_DEFAULTS.judgeModel,
    api_key_env: flags.judgeKeyEnv ?? null,
  });
  return new RubricJudge(new ExecutorClient(endpoint, { log, signal }));
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
