/**
 * `tracelift suite`: the paper's benchmark table for one executor and one or
 * two planners. For every benchmark and planner: the planner's traces
 * (plannerTraces.ts), then an ordinary eval run of them under
 * DIR/runs/<benchmark>/<planner>/. The executor alone is the no-trace
 * baseline every group records (M samples, cached on disk and shared by the
 * planners' runs): no second run is needed for it. A finished run is reused
 * and a partial one resumed (the eval's resume). Then DIR/table.{md,csv,json}.
 *
 * Layout:
 *   suite.json                        what was asked and which runs hold it
 *   traces/<planner>/planner.json     the planner that wrote the traces
 *   traces/<planner>/<benchmark>.jsonl
 *   runs/<benchmark>/<planner>/       eval run directories
 *   table.md, table.csv, table.json
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { EndpointSchema, EVAL_OPTION_DEFAULTS, SamplingSchema, type Problem } from '../contract';
import { resolveExecutor, type ExecutorChoice, type ExecutorRequest } from '../executor/resolve';
import { buildEvalConfig, requestProtocol, type EvalConfigRequest } from '../eval/buildConfig';
import { buildRunComponents, type RunComponentsOptions } from '../eval/runComponents';
import { configWindow, runEval } from '../eval/runEval';
import { PROMPT_SETS } from '../prompts/templates';
import type { ExitGuard } from '../run/exitGuard';
import { readEvents } from '../run/runDir';
import { latestGroups } from '../run/supersede';
import { getTask } from '../tasks/registry';
import { ensurePlannerTraces, type PlannerManifest } from './plannerTraces';
import { SuiteTableSchema, suiteTable, tableCsv, tableMarkdown, type BenchmarkProblems, type SuiteProblem, type SuiteTable } from './table';

/** The paper's eight benchmarks, code first. */
export const SUITE_DEFAULT_TASKS = ['humaneval', 'humanevalplus', 'mbpp', 'livecodebench', 'gsm8k', 'gsm_hard', 'svamp', 'math500'];

export interface SuitePlannerRequest {
  /** Column name: "planner", "planner2". */
  name: string;
  /** An OpenAI-compatible endpoint; without it the executor's own server plans. */
  url?: string | null;
  model?: string | null;
  apiKeyEnv?: string | null;
}

export interface SuiteOptions {
  outDir: string;
  tasks: string[];
  /** Problems per benchmark (the first n of its default split); null: all. */
  limit: number | null;
  planners: SuitePlannerRequest[];
  tracesPerProblem?: number;
  /** The planner's token budget per trace; default: an eval's (EVAL_OPTION_DEFAULTS.plannerSampling). */
  plannerMaxTokens?: number;
  executor: Omit<ExecutorRequest, 'log'>;
  /** Everything of an eval's config the suite does not set itself. */
  config: Omit<EvalConfigRequest, 'task' | 'split' | 'limit' | 'offset' | 'traceSource' | 'executor'>;
  noCache?: boolean;
  verifierOptions?: RunComponentsOptions['verifierOptions'];
  signal?: AbortSignal;
  /** Where each eval registers its last words (CLI: second signal, uncaught error). */
  exitGuard?: ExitGuard;
  log?: (line: string) => void;
  /** Each eval's progress, for a front door's output. */
  onProgress?: (what: { task: string; planner: string; done: number; total: number }) => void;
}

export const SuiteRunSchema = z.object({
  task: z.string(),
  planner: z.string(),
  run_dir: z.string(),
  traces_file: z.string(),
  status: z.enum(['completed', 'cancelled', 'failed', 'skipped']),
  /** Why a run was skipped or failed. */
  note: z.string().nullable(),
});
export type SuiteRun = z.infer<typeof SuiteRunSchema>;

export const SuiteManifestSchema = z.object({
  tasks: z.array(z.string()),
  limit: z.number().int().positive().nullable(),
  planners: z.array(z.object({ name: z.string(), description: z.string(), identity: z.string() })),
  executor: z.object({ identity: z.string(), model: z.string(), origin: z.enum(['embedded', 'configured']) }),
  k: z.number().int().positive(),
  baseline_samples: z.number().int().positive(),
  runs: z.array(SuiteRunSchema),
  updated: z.string(),
});
export type SuiteManifest = z.infer<typeof SuiteManifestSchema>;

export const SUITE_FILES = {
  manifest: 'suite.json',
  tableMd: 'table.md',
  tableCsv: 'table.csv',
  tableJson: 'table.json',
} as const;

export interface SuiteResult {
  outDir: string;
  table: SuiteTable;
  manifest: SuiteManifest;
  status: 'completed' | 'cancelled';
}

/** A file name from a benchmark or planner name (they are ours, but keep paths plain). */
const fileName = (s: string) => s.replace(/[^\w.-]+/g, '_');

export function suiteRunDir(outDir: string, task: string, planner: string): string {
  return path.join(outDir, 'runs', fileName(task), fileName(planner));
}

export function suiteTracesFile(outDir: string, task: string, planner: string): string {
  return path.join(outDir, 'traces', fileName(planner), `${fileName(task)}.jsonl`);
}

function plannerManifest(
  req: SuitePlannerRequest,
  executor: ExecutorChoice,
  promptVersion: string,
  perProblem: number,
  maxTokens: number | undefined,
): PlannerManifest {
  const sampling = SamplingSchema.parse({ ...EVAL_OPTION_DEFAULTS.plannerSampling, ...(maxTokens ? { max_tokens: maxTokens } : {}) });
  if (req.url) {
    if (!req.model) throw new Error(`planner ${req.name}: an endpoint needs a model name`);
    return {
      name: req.name,
      identity: `${req.url}|${req.model}`,
      description: `${req.model} at ${req.url}`,
      sampling,
      prompt_version: promptVersion,
      traces_per_problem: perProblem,
    };
  }
  return {
    name: req.name,
    identity: `executor:${executor.identity}`,
    description: `the executor's own server (${executor.origin} ${executor.endpoint.model})`,
    sampling,
    prompt_version: promptVersion,
    traces_per_problem: perProblem,
  };
}

/** Writes a file atomically (temp + rename): readers never see half of it. */
function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

export async function runSuite(opts: SuiteOptions): Promise<SuiteResult> {
  const log = opts.log ?? (() => {});
  const outDir = path.resolve(opts.outDir);
  // Everything that can be checked is checked before a server starts.
  const tasks = opts.tasks.map((t) => getTask(t));
  const names = opts.planners.map((p) => p.name);
  if (!names.length) throw new Error('a suite needs at least one planner');
  if (new Set(names).size !== names.length) throw new Error(`planner names must differ: ${names.join(', ')}`);
  const protocol = requestProtocol(opts.config);
  const prompts = PROMPT_SETS[protocol.prompt_set];
  const perProblem = opts.tracesPerProblem ?? EVAL_OPTION_DEFAULTS.tracesPerProblem;
  for (const p of opts.planners) if (p.url && !p.model) throw new Error(`planner ${p.name}: an endpoint needs a model name`);

  fs.mkdirSync(outDir, { recursive: true });
  const executor = await resolveExecutor({ ...opts.executor, api: opts.executor.api ?? protocol.executor_api, log });
  const runs: SuiteRun[] = [];
  let manifest: SuiteManifest | null = null;
  const writeManifest = (planners: PlannerManifest[], k: number, m: number) => {
    manifest = SuiteManifestSchema.parse({
      tasks: tasks.map((t) => t.name),
      limit: opts.limit,
      planners: planners.map((p) => ({ name: p.name, description: p.description, identity: p.identity })),
      executor: { identity: executor.identity, model: executor.endpoint.model, origin: executor.origin },
      k,
      baseline_samples: m,
      runs,
      updated: new Date().toISOString(),
    });
    writeAtomic(path.join(outDir, SUITE_FILES.manifest), JSON.stringify(manifest, null, 2) + '\n');
  };
  let cancelled = false;
  /** The run in flight, recorded as failed when its eval throws. */
  let failedRun: SuiteRun | null = null;
  const planners = opts.planners.map((p) => plannerManifest(p, executor, prompts.version, perProblem, opts.plannerMaxTokens));
  try {
    for (const task of tasks) {
      let problems: Problem[];
      try {
        problems = configWindow({ offset: 0, limit: opts.limit }, task.load(opts.config.dataDir, task.defaultSplit));
      } catch (err) {
        const note = `benchmark not loaded: ${(err as Error).message}`;
        log(`warning: ${task.name}: ${note}`);
        for (const p of planners) runs.push({ task: task.name, planner: p.name, run_dir: '', traces_file: '', status: 'skipped', note });
        continue;
      }
      for (const [i, planner] of planners.entries()) {
        if (opts.signal?.aborted) break;
        const request = opts.planners[i]!;
        const tracesFile = suiteTracesFile(outDir, task.name, planner.name);
        const runDir = suiteRunDir(outDir, task.name, planner.name);
        const endpoint = request.url
          ? EndpointSchema.parse({ base_url: request.url, model: request.model, api_key_env: request.apiKeyEnv ?? null })
          : executor.endpoint;
        const planning = await ensurePlannerTraces({
          file: tracesFile,
          manifest: planner,
          endpoint,
          problems,
          prompts,
          sampling: planner.sampling,
          truncation: protocol.truncation,
          signal: opts.signal,
          log,
        });
        for (const f of planning.failures.slice(0, 5)) log(`warning: ${f}`);
        if (opts.signal?.aborted) break;
        if (!planning.withTraces) {
          const note = `the planner wrote no trace for any of the ${problems.length} problem(s)`;
          log(`warning: ${task.name}/${planner.name}: ${note}`);
          runs.push({ task: task.name, planner: planner.name, run_dir: runDir, traces_file: tracesFile, status: 'skipped', note });
          continue;
        }
        const config = buildEvalConfig({
          ...opts.config,
          task: task.name,
          limit: opts.limit,
          traceSource: { kind: 'file', path: tracesFile, format: 'traces' },
          executor: { endpoint: executor.endpoint, origin: executor.origin },
        });
        const parts = buildRunComponents(config, {
          executorIdentity: executor.identity,
          verifierOptions: opts.verifierOptions,
          noCache: opts.noCache,
          clientOptions: opts.signal ? { signal: opts.signal } : undefined,
          log,
        });
        try {
          log(`suite: ${task.name} with ${planner.name} → ${runDir}`);
          failedRun = { task: task.name, planner: planner.name, run_dir: runDir, traces_file: tracesFile, status: 'failed', note: null };
          const result = await runEval({
            run: parts,
            outDir: runDir,
            signal: opts.signal,
            exitGuard: opts.exitGuard,
            log,
            onProgress: (p) => opts.onProgress?.({ task: task.name, planner: planner.name, done: p.done, total: p.total }),
          });
          runs.push({
            task: task.name,
            planner: planner.name,
            run_dir: runDir,
            traces_file: tracesFile,
            status: result.status === 'completed' ? 'completed' : 'cancelled',
            note: null,
          });
          failedRun = null;
        } finally {
          await parts.close();
        }
        writeManifest(planners, config.k, config.baseline_samples);
      }
      if (opts.signal?.aborted) {
        cancelled = true;
        break;
      }
    }
  } catch (err) {
    if (failedRun) runs.push({ ...(failedRun as SuiteRun), note: (err as Error).message });
    writeManifest(planners, opts.config.k ?? EVAL_OPTION_DEFAULTS.k, opts.config.m ?? EVAL_OPTION_DEFAULTS.baselineSamples);
    writeSuiteTable(outDir, manifest!);
    throw err;
  } finally {
    await executor.stop();
  }
  const k = opts.config.k ?? EVAL_OPTION_DEFAULTS.k;
  const m = opts.config.m ?? EVAL_OPTION_DEFAULTS.baselineSamples;
  writeManifest(planners, k, m);
  const table = writeSuiteTable(outDir, manifest!);
  return { outDir, table, manifest: manifest!, status: cancelled ? 'cancelled' : 'completed' };
}

/** One run's per-problem figures: the recorded no-trace rate and the mean with-trace rate over the problem's traces. */
export function problemRates(runDir: string): Map<string, { without: number | null; with: number | null }> {
  const out = new Map<string, { without: number | null; with: number | null }>();
  for (const g of latestGroups(readEvents(runDir).events)) {
    if (g.step !== null) continue;
    const rates = g.samples.flatMap((s) => (s.with_trace.tally.rate === null ? [] : [s.with_trace.tally.rate]));
    out.set(g.problem_id, {
      without: g.baseline.tally.rate,
      with: rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : null,
    });
  }
  return out;
}

/** The table of a suite directory's runs (as its manifest lists them), from the runs on disk; writes nothing. */
export function computeSuiteTable(outDir: string, manifest: SuiteManifest): SuiteTable {
  const benchmarks: BenchmarkProblems[] = [];
  for (const taskName of manifest.tasks) {
    const task = getTask(taskName);
    const byProblem = new Map<string, SuiteProblem>();
    for (const planner of manifest.planners) {
      // Every run on disk counts, also those of earlier invocations this one did not reach.
      const runDir = suiteRunDir(outDir, taskName, planner.name);
      if (!fs.existsSync(runDir)) continue;
      for (const [id, rates] of problemRates(runDir)) {
        const p = byProblem.get(id) ?? { problem_id: id, without: null, with: {} };
        // The executor alone: the first planner's run's baseline (the planners share the cached one).
        if (p.without === null) p.without = rates.without;
        p.with[planner.name] = rates.with;
        byProblem.set(id, p);
      }
    }
    if (byProblem.size) benchmarks.push({ benchmark: task.name, kind: task.kind, problems: [...byProblem.values()] });
  }
  return SuiteTableSchema.parse(
    suiteTable(
      benchmarks,
      manifest.planners.map((p) => ({ name: p.name, description: p.description })),
    ),
  );
}

/**
 * The suite directory the runs belong to, when they all are runs of one
 * suite (…/runs/<task>/<planner> under a directory with a valid suite.json); else null.
 */
export function suiteOfRuns(runDirs: string[]): { outDir: string; manifest: SuiteManifest } | null {
  const outDirs = new Set(runDirs.map((d) => path.resolve(d, '..', '..', '..')));
  if (outDirs.size !== 1) return null;
  const outDir = [...outDirs][0]!;
  let manifest: SuiteManifest;
  try {
    manifest = SuiteManifestSchema.parse(JSON.parse(fs.readFileSync(path.join(outDir, SUITE_FILES.manifest), 'utf8')));
  } catch {
    return null;
  }
  const members = new Set(manifest.tasks.flatMap((t) => manifest.planners.map((p) => path.resolve(suiteRunDir(outDir, t, p.name)))));
  return runDirs.every((d) => members.has(path.resolve(d))) ? { outDir, manifest } : null;
}

/** The table of a suite directory's runs (as its manifest lists them), written as table.md, table.csv and table.json. */
export function writeSuiteTable(outDir: string, manifest: SuiteManifest): SuiteTable {
  const table = computeSuiteTable(outDir, manifest);
  const notes = manifest.runs
    .filter((r) => r.status !== 'completed')
    .map((r) => `- ${r.task} / ${r.planner}: ${r.status}${r.note ? ` (${r.note})` : ''}`);
  const header = [
    `# Benchmark suite`,
    '',
    `Executor: ${manifest.executor.origin} ${manifest.executor.model}; K = ${manifest.k} with-trace samples per trace, ` +
      `M = ${manifest.baseline_samples} no-trace samples per problem; ${manifest.limit ? `first ${manifest.limit} problems of each benchmark` : 'every problem'}.`,
    '',
  ];
  const md = [...header, tableMarkdown(table), ...(notes.length ? ['', 'Not complete:', ...notes, ''] : [])].join('\n');
  writeAtomic(path.join(outDir, SUITE_FILES.tableMd), md);
  writeAtomic(path.join(outDir, SUITE_FILES.tableCsv), tableCsv(table));
  writeAtomic(path.join(outDir, SUITE_FILES.tableJson), JSON.stringify(table, null, 2) + '\n');
  return table;
}
