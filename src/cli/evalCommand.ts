/** `tracelift eval`: trace source → executor → verifier over a task, as a run directory. */
import * as path from 'node:path';
import { Command } from 'commander';
import {
  E2E_CHOICES,
  EVAL_OPTION_DEFAULTS,
  EXEC_STYLES,
  defaultRewardMode,
  REWARD_MODE_DEFAULT_RULE,
  REWARD_MODES,
  type E2eChoice,
  type ExecStyle,
  type RewardMode,
  type RolloutGroup,
  type RunSummary,
} from '../engine/contract';
import { defaultRunDirName, type TraceSourceRequest } from '../engine/eval/buildConfig';
import { assembleRun } from '../engine/eval/runComponents';
import { missingRewardEndpoint, runEval } from '../engine/eval/runEval';
import { rmModelRef } from '../engine/rm/rmModel';
import { checkUrlFlag } from './errors';
import { CANCELLED_EXIT_CODE, cancelOnSignals, type CancelOnSignals } from './signals';
import { resolveDataDir } from '../engine/tasks/dataDir';
import { getTask, listTasks } from '../engine/tasks/registry';
import {
  addExecutorOptions,
  addProtocolOptions,
  choiceOption,
  executorRequestFromFlags,
  knobOption,
  logToStderr,
  nonNegativeInt,
  positiveInt,
  presetValues,
  protocolInputFromFlags,
  type ExecutorFlags,
  type ProtocolFlags,
} from './options';

interface EvalFlags extends ExecutorFlags, ProtocolFlags {
  task: string;
  split?: string;
  limit?: number;
  offset: number;
  traces: string;
  plannerUrl?: string;
  plannerModel?: string;
  plannerKeyEnv?: string;
  tracesPerProblem: number;
  k: number;
  m: number;
  out?: string;
  dataDir?: string;
  cacheDir?: string;
  cache: boolean;
  rewardMode?: RewardMode;
  execStyle: ExecStyle;
  e2e?: E2eChoice;
  rmUrl?: string;
  rmModel?: string;
  judgeUrl?: string;
  judgeModel?: string;
  allowUnsandboxed?: boolean;
  json?: boolean;
  newRun?: boolean;
}

export function registerEvalCommand(program: Command): void {
  const d = EVAL_OPTION_DEFAULTS;
  const cmd = program
    .command('eval')
    .description('Score traces on a task: with-trace success, the cached no-trace baseline, uplift and reward per trace.')
    .requiredOption(
      '--task <name>',
      `task: ${listTasks()
        .map((t) => t.name)
        .join(', ')} (see \`tracelift tasks\`)`,
    )
    .option('--split <name>', 'dataset split (default: the task default)')
    .option('--limit <n>', 'score at most n problems', positiveInt)
    .option('--offset <n>', 'skip the first n problems', nonNegativeInt, d.offset)
    .option('--traces <source>', 'trace source: "reference", "planner", or a traces/groups JSONL file', 'reference')
    .option(
      '--planner-url <url>',
      "planner endpoint (with --traces planner); without it the executor's own server plans (the embedded default: a 135M planner, weak)",
    )
    .option('--planner-model <name>', 'planner model name (needed with --planner-url)')
    .option('--planner-key-env <VAR>', 'environment variable holding the planner API key')
    .option('--traces-per-problem <n>', 'planner traces per problem', positiveInt, d.tracesPerProblem)
    .option('-k, --k <n>', 'with-trace executor samples per trace', positiveInt, d.k)
    .option('-m, --m <n>', 'no-trace baseline samples per problem (cached)', positiveInt, d.baselineSamples)
    .option('--out <dir>', 'run directory (default: .tracelift/runs/<task>-<time>)')
    .option('--data-dir <dir>', 'benchmark data directory (default: $TRACELIFT_DATA_DIR)')
    .option('--cache-dir <dir>', `baseline cache directory (default: $${d.cacheDirEnv} or ~/.cache/tracelift)`)
    .option('--no-cache', 'do not read or write the baseline cache')
    .addOption(choiceOption('--reward-mode <mode>', `reward; default: ${REWARD_MODE_DEFAULT_RULE}`, REWARD_MODES))
    .addOption(choiceOption('--exec-style <style>', 'code execution reward shaping', EXEC_STYLES, d.execStyle))
    .addOption(
      knobOption(
        '--e2e <how>',
        `e2e term of the reward; default: the protocol's (${presetValues((p) => (p.e2e_source === 'extra_call' ? 'extra_call' : d.e2e))})`,
        E2E_CHOICES,
      ),
    )
    .option('--rm-url <url>', 'Reason RM scoring endpoint (official protocol, e.g. http://127.0.0.1:8001/score)')
    .option(
      '--rm-model <dir>',
      'a Reason RM trained with `tracelift rm train` (its run or model directory), served by the engine for this run',
    )
    .option('--judge-url <url>', 'LLM-as-judge endpoint (OpenAI-compatible)')
    .option('--judge-model <name>', `judge model name (default: ${d.judgeModel})`)
    .option('--allow-unsandboxed', 'code tasks: run programs without bubblewrap (warns on every run)')
    .option('--json', 'print one JSON line per scored trace instead of a table row')
    .option('--new-run', 'when --out already holds a run, start a fresh one beside it (<out>-2, <out>-3, …) instead of resuming it');
  addProtocolOptions(addExecutorOptions(cmd)).action(async (flags: EvalFlags) => {
    process.exitCode = await evalAction(flags);
  });
}

function traceSourceFromFlags(flags: EvalFlags): TraceSourceRequest {
  if (flags.traces === 'reference') return { kind: 'reference' };
  if (flags.traces === 'planner') {
    // Without --planner-url the executor's own server plans too.
    if (!flags.plannerUrl) return { kind: 'executor_planner', tracesPerProblem: flags.tracesPerProblem };
    if (!flags.plannerModel) throw new Error('--planner-url needs --planner-model.');
    return {
      kind: 'planner',
      url: flags.plannerUrl,
      model: flags.plannerModel,
      apiKeyEnv: flags.plannerKeyEnv ?? null,
      tracesPerProblem: flags.tracesPerProblem,
    };
  }
  return { kind: 'file', path: flags.traces };
}

async function evalAction(flags: EvalFlags): Promise<number> {
  const task = getTask(flags.task);
  const outDir = flags.out ?? path.join('.tracelift', 'runs', defaultRunDirName(task.name));
  const log = logToStderr;
  // Bad values and missing reward endpoints fail before a server starts or a call is made.
  checkUrlFlag('--executor-url', flags.executorUrl);
  checkUrlFlag('--planner-url', flags.plannerUrl);
  checkUrlFlag('--rm-url', flags.rmUrl);
  checkUrlFlag('--judge-url', flags.judgeUrl);
  if (flags.rmUrl && flags.rmModel) throw new Error('give --rm-url or --rm-model, not both');
  const missing = missingRewardEndpoint({
    mode: flags.rewardMode ?? defaultRewardMode({ rmUrl: flags.rmUrl, rmModel: flags.rmModel, judgeUrl: flags.judgeUrl }),
    rm_url: flags.rmUrl ?? null,
    rm_model: flags.rmModel ?? null,
    judge: flags.judgeUrl ?? null,
  });
  if (missing) throw new Error(missing);
  const cancel = cancelOnSignals(log);
  try {
    return await assembleAndRun(flags, task.name, outDir, cancel);
  } finally {
    cancel.dispose();
  }
}

async function assembleAndRun(flags: EvalFlags, taskName: string, outDir: string, cancel: CancelOnSignals): Promise<number> {
  const log = logToStderr;
  const task = getTask(taskName);
  const run = await assembleRun({
    config: {
      task: task.name,
      split: flags.split,
      limit: flags.limit,
      offset: flags.offset,
      k: flags.k,
      m: flags.m,
      traceSource: traceSourceFromFlags(flags),
      temperature: flags.temperature,
      maxTokens: flags.maxTokens,
      topP: flags.topP,
      protocol: protocolInputFromFlags(flags),
      rewardMode: flags.rewardMode,
      execStyle: flags.execStyle,
      e2e: flags.e2e,
      rmUrl: flags.rmUrl,
      // Resolved (run dir → model/) and hashed before any server starts; a bad directory fails here.
      rmModel: flags.rmModel ? rmModelRef(flags.rmModel) : null,
      judgeUrl: flags.judgeUrl,
      judgeModel: flags.judgeModel,
      dataDir: resolveDataDir(flags.dataDir),
      cacheDir: flags.cacheDir,
    },
    executor: executorRequestFromFlags(flags),
    verifierOptions: { allowUnsandboxed: flags.allowUnsandboxed },
    noCache: flags.cache === false,
    clientOptions: { signal: cancel.signal },
    log,
  });
  try {
    if (cancel.signal.aborted) return CANCELLED_EXIT_CODE; // stopped while the executor was starting: no run yet
    const { config, executor } = run;
    log(
      `eval ${task.name}/${config.split} → ${outDir} (executor: ${executor.origin} ${executor.endpoint.model}, K=${config.k}, M=${config.baseline_samples})`,
    );
    if (!flags.json) process.stdout.write(tableHeader() + '\n');
    const started = Date.now();
    const result = await runEval({
      run,
      outDir,
      newRun: flags.newRun,
      signal: cancel.signal,
      exitGuard: cancel.guard,
      log,
      onProgress: (p) => {
        if (p.group) {
          for (const line of flags.json ? jsonRows(p.group) : tableRows(p.group)) process.stdout.write(line + '\n');
        }
        const secs = (Date.now() - started) / 1000;
        process.stderr.write(`progress ${p.done}/${p.total} problems (${secs.toFixed(0)} s)\n`);
      },
    });
    process.stdout.write(formatSummary(result.summary, result.runDir) + '\n');
    return result.status === 'completed' ? 0 : CANCELLED_EXIT_CODE;
  } finally {
    await run.close();
  }
}

const pct = (x: number | null) => (x === null ? '   n/a' : `${(100 * x).toFixed(1).padStart(5)}%`);
const signed = (x: number | null) => (x === null ? '   n/a' : `${x >= 0 ? '+' : ''}${x.toFixed(3)}`);

function tableHeader(): string {
  return ['problem'.padEnd(28), 'trace'.padEnd(14), 'with k/K', 'baseline', ' uplift', ' reward', 'notes'].join('  ');
}

function tableRows(g: RolloutGroup): string[] {
  return g.samples.map((s) =>
    [
      g.problem_id.slice(0, 28).padEnd(28),
      (s.label ?? s.source).slice(0, 14).padEnd(14),
      `${s.with_trace.tally.successes}/${s.with_trace.tally.valid}`.padStart(8),
      `${pct(g.baseline.tally.rate)}/${g.baseline.tally.valid}${g.baseline.from_cache ? 'c' : ' '}`.padStart(8),
      signed(s.uplift).padStart(7),
      (s.reward ? s.reward.value.toFixed(3) : 'n/a').padStart(7),
      s.errors.join('; '),
    ].join('  '),
  );
}

function jsonRows(g: RolloutGroup): string[] {
  return g.samples.map((s) =>
    JSON.stringify({
      problem_id: g.problem_id,
      sample_id: s.sample_id,
      with_trace_successes: s.with_trace.tally.successes,
      k: s.with_trace.tally.valid,
      baseline_rate: g.baseline.tally.rate,
      baseline_samples: g.baseline.tally.valid,
      uplift: s.uplift,
      reward: s.reward?.value ?? null,
      errors: s.errors,
    }),
  );
}

export function formatSummary(s: RunSummary, runDir: string): string {
  const lines = [
    '',
    `summary (${s.status}) — ${runDir}`,
    `  with-trace success  ${pct(s.with_trace_success)}`,
    `  no-trace success    ${pct(s.no_trace_success)}`,
    `  mean uplift         ${signed(s.mean_uplift)}`,
    `  mean reward         ${s.mean_reward === null ? 'n/a' : s.mean_reward.toFixed(3)}`,
    `  problems ${s.micro.problems}, traces ${s.micro.traces}, uplift +${s.micro.positive_uplift_traces}/−${s.micro.negative_uplift_traces}, failed calls ${s.micro.failed_calls}`,
    `  executor generations ${s.executor_generations}, baselines from cache ${s.baseline_cache_hits}`,
  ];
  if (s.tasks.length > 1) {
    for (const t of s.tasks)
      lines.push(
        `  ${t.task.padEnd(12)} with ${pct(t.with_trace_success)}  no ${pct(t.no_trace_success)}  uplift ${signed(t.mean_uplift)}`,
      );
  }
  lines.push(`  files: ${path.join(runDir, 'summary.json')}, samples.jsonl, events.jsonl`);
  return lines.join('\n');
}
