/** `tracelift eval`: trace source → executor → verifier over a task, as a run directory. */
import * as path from 'node:path';
import { Command, Option } from 'commander';
import type { RolloutGroup, RunSummary } from '../engine/contract';
import { buildEvalConfig, buildTraceSource, defaultCacheDir, defaultRunDirName, type TraceSourceRequest } from '../engine/eval/buildConfig';
import { runEval } from '../engine/eval/runEval';
import { resolveDataDir } from '../engine/tasks/dataDir';
import { getTask } from '../engine/tasks/registry';
import { EngineVerifier } from '../engine/verify';
import { addExecutorOptions, positiveInt, executorFromFlags, logToStderr } from './main';

interface EvalFlags {
  task: string;
  split?: string;
  limit?: number;
  offset?: number;
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
  executorUrl?: string;
  executorModel?: string;
  executorApi: 'chat' | 'completions';
  executorKeyEnv?: string;
  concurrency?: number;
  temperature: number;
  maxTokens?: number;
  rewardMode?: string;
  execStyle: string;
  e2e: 'first' | 'mean';
  rmUrl?: string;
  judgeUrl?: string;
  judgeModel?: string;
  allowUnsandboxed?: boolean;
  json?: boolean;
}

export function registerEvalCommand(program: Command): void {
  const cmd = program
    .command('eval')
    .description('Score traces on a task: with-trace success, the cached no-trace baseline, uplift and reward per trace.')
    .requiredOption('--task <name>', 'task: gsm8k, gsm_hard, svamp, math500 (see `tracelift tasks`)')
    .option('--split <name>', 'dataset split (default: the task default)')
    .option('--limit <n>', 'score at most n problems', positiveInt)
    .option('--offset <n>', 'skip the first n problems', (v) => Number(v), 0)
    .option('--traces <source>', 'trace source: "reference", "planner", or a traces/groups JSONL file', 'reference')
    .option('--planner-url <url>', 'planner endpoint (with --traces planner)')
    .option('--planner-model <name>', 'planner model name')
    .option('--planner-key-env <VAR>', 'environment variable holding the planner API key')
    .option('--traces-per-problem <n>', 'planner traces per problem', positiveInt, 1)
    .option('-k, --k <n>', 'with-trace executor samples per trace', positiveInt, 3)
    .option('-m, --m <n>', 'no-trace baseline samples per problem (cached)', positiveInt, 8)
    .option('--out <dir>', 'run directory (default: .tracelift/runs/<task>-<time>)')
    .option('--data-dir <dir>', 'benchmark data directory (default: $TRACELIFT_DATA_DIR)')
    .option('--cache-dir <dir>', 'baseline cache directory (default: $TRACELIFT_CACHE_DIR or ~/.cache/tracelift)')
    .option('--no-cache', 'do not read or write the baseline cache')
    .addOption(
      new Option('--reward-mode <mode>', 'default: tracelift with --rm-url, llm_judge with --judge-url, else exec_only').choices([
        'tracelift',
        'exec_only',
        'no_uplift',
        'rm_uplift_only',
        'llm_judge',
      ]),
    )
    .addOption(new Option('--exec-style <style>', 'code exec shaping').choices(['binary', 'pass_rate', 'coderl', 'hybrid']).default('hybrid'))
    .addOption(new Option('--e2e <how>', 'e2e term: first with-trace sample or mean of K').choices(['first', 'mean']).default('first'))
    .option('--rm-url <url>', 'Reason RM scoring endpoint (official protocol, e.g. http://127.0.0.1:8001/score)')
    .option('--judge-url <url>', 'LLM-as-judge endpoint (OpenAI-compatible)')
    .option('--judge-model <name>', 'judge model name')
    .option('--allow-unsandboxed', 'code tasks: run programs without bubblewrap (warns on every run)')
    .option('--json', 'print one JSON line per scored trace instead of a table row');
  addExecutorOptions(cmd).action(async (flags: EvalFlags) => {
    process.exitCode = await evalAction(flags);
  });
}

async function evalAction(flags: EvalFlags): Promise<number> {
  const task = getTask(flags.task);
  const dataDir = resolveDataDir(flags.dataDir);
  const outDir = flags.out ?? path.join('.tracelift', 'runs', defaultRunDirName(task.name));
  const log = logToStderr;

  let traceSource: TraceSourceRequest;
  if (flags.traces === 'reference') traceSource = { kind: 'reference' };
  else if (flags.traces === 'planner') {
    if (!flags.plannerUrl || !flags.plannerModel) throw new Error('--traces planner needs --planner-url and --planner-model.');
    traceSource = { kind: 'planner', url: flags.plannerUrl, model: flags.plannerModel, apiKeyEnv: flags.plannerKeyEnv ?? null, tracesPerProblem: flags.tracesPerProblem };
  } else traceSource = { kind: 'file', path: flags.traces };
  buildTraceSource(traceSource); // validate before starting an executor

  const executor = await executorFromFlags(flags, log);
  const abort = new AbortController();
  const onSigint = () => {
    log('stopping after the groups in flight (Ctrl-C again to quit now)…');
    abort.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  const verifier = new EngineVerifier({
    allowUnsandboxed: flags.allowUnsandboxed,
    expectedCacheDir: path.join(flags.cacheDir ?? defaultCacheDir(), 'expected-outputs'),
    log,
  });
  try {
    const config = buildEvalConfig({
      task: task.name,
      split: flags.split,
      limit: flags.limit,
      offset: flags.offset,
      k: flags.k,
      m: flags.m,
      traceSource,
      executor,
      temperature: flags.temperature,
      maxTokens: flags.maxTokens,
      rewardMode: flags.rewardMode,
      execStyle: flags.execStyle,
      e2e: flags.e2e,
      rmUrl: flags.rmUrl,
      judgeUrl: flags.judgeUrl,
      judgeModel: flags.judgeModel,
      dataDir,
      cacheDir: flags.cacheDir,
    });
    log(`eval ${task.name}/${config.split} → ${outDir} (executor: ${executor.origin} ${executor.endpoint.model}, K=${config.k}, M=${config.baseline_samples})`);
    if (!flags.json) process.stdout.write(tableHeader() + '\n');
    const started = Date.now();
    const result = await runEval({
      config,
      outDir,
      executorIdentity: executor.identity,
      verifier,
      noCache: flags.cache === false,
      signal: abort.signal,
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
    return result.status === 'completed' ? 0 : 130;
  } finally {
    process.removeListener('SIGINT', onSigint);
    await verifier.close();
    await executor.stop();
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
    for (const t of s.tasks) lines.push(`  ${t.task.padEnd(12)} with ${pct(t.with_trace_success)}  no ${pct(t.no_trace_success)}  uplift ${signed(t.mean_uplift)}`);
  }
  lines.push(`  files: ${path.join(runDir, 'summary.json')}, samples.jsonl, events.jsonl`);
  return lines.join('\n');
}
