/** `tracelift rm train|serve|score-groups`: the Reason RM (docs/reason-rm.md; src/engine/rm/). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { defaultRunDirName } from '../engine/eval/buildConfig';
import { expandGroup, streamGroupRecords } from '../engine/groups';
import { groupRanking, readRmGroupScores, scoreGroupsFile } from '../engine/rm/groupScores';
import { launchRmTraining, RM_MODEL_DIR, RM_TOKEN_ENV, startRmServer } from '../engine/rm/rmProcess';
import { rmModelRef, serveRunRm } from '../engine/rm/rmModel';
import { checkUrlFlag } from './errors';
import { logToStderr, nonNegativeNumber, positiveInt } from './options';

interface RmTrainFlags {
  groups: string[];
  out?: string;
  recipe?: string;
  base?: string;
  epochs?: number;
  maxSteps?: number;
  python?: string;
}

interface RmScoreGroupsFlags {
  rmUrl?: string;
  rmModel?: string;
  outDir: string;
  python?: string;
}

interface RmServeFlags {
  model: string;
  port?: number;
  host: string;
  token?: string;
  batchSize?: number;
  maxWaitMs?: number;
  maxQueue?: number;
  device?: string;
  python?: string;
}

export function registerRmCommand(program: Command): void {
  const rm = program
    .command('rm')
    .description('The Reason RM: train one on TraceLift-Groups files, serve it in the official /score protocol');
  rm.command('train')
    .description('Train a Reason RM (rubric heads + total head over a causal LM) on TraceLift-Groups files; writes a run directory')
    .requiredOption('--groups <files...>', 'TraceLift-Groups files (a dev split is taken from them by hash)')
    .option('--out <dir>', 'run directory (default: .tracelift/runs/rm-<time>); the trained RM is <dir>/model')
    .option('--recipe <file>', 'RM training config (default: recipes/rm/cpu-smollm2.json, the embedded CPU default)')
    .option('--base <model>', 'base model: "embedded", a Hugging Face causal-LM id or a local directory')
    .option('--epochs <n>', 'epochs over the training groups', positiveInt)
    .option('--max-steps <n>', 'stop after this many optimizer steps', positiveInt)
    .option('--python <path>', 'Python of the training environment (default: $TRACELIFT_PYTHON or .venv)')
    .action(async (flags: RmTrainFlags) => {
      process.exitCode = await trainAction(flags);
    });
  rm.command('serve')
    .description('Serve a Reason RM: POST /score in the official protocol (batched across requests), GET /health')
    .requiredOption('--model <dir>', "a Reason RM directory (a training run's model/, or the run directory itself)")
    .option('--port <n>', "port (default 8001, the official configs' RM_SCORE_URL)", positiveInt)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--token <token>', `bearer token the server requires (default: $${RM_TOKEN_ENV} when set)`)
    .option('--batch-size <n>', 'items per forward pass (default 16)', positiveInt)
    .option('--max-wait-ms <ms>', 'after the first item, wait this long for more (default 5)', nonNegativeNumber)
    .option('--max-queue <n>', 'items waiting before requests are refused with 503 (default 1024)', positiveInt)
    .option('--device <device>', 'auto, cpu, cuda, cuda:1… (default auto)')
    .option('--python <path>', 'Python of the training environment (default: $TRACELIFT_PYTHON or .venv)')
    .action(async (flags: RmServeFlags) => {
      process.exitCode = await serveAction(flags);
    });
  rm.command('score-groups')
    .description(
      'Score every trace of a groups file with a Reason RM; appends one line per trace (score, dimensions, gold total) to ' +
        '<out-dir>/<file>-<sha256>.rm-scores.jsonl (resumable); prints how often the RM ranks the reference first',
    )
    .argument('<groups>', 'TraceLift-Groups file')
    .option('--rm-url <url>', 'Reason RM scoring endpoint (official protocol)')
    .option('--rm-model <dir>', 'a Reason RM trained here, served for the command')
    .option('--out-dir <dir>', 'where the scores file goes', path.join('.tracelift', 'rm-scores'))
    .option('--python <path>', 'Python of the training environment (default: $TRACELIFT_PYTHON or .venv)')
    .action(async (groups: string, flags: RmScoreGroupsFlags) => {
      process.exitCode = await scoreGroupsAction(groups, flags);
    });
}

async function trainAction(flags: RmTrainFlags): Promise<number> {
  const runDir = flags.out ?? path.join('.tracelift', 'runs', defaultRunDirName('rm'));
  const run = launchRmTraining({
    runDir,
    recipeFile: flags.recipe ?? null,
    overrides: { groups: flags.groups, base: flags.base, epochs: flags.epochs, maxSteps: flags.maxSteps },
    pythonPath: flags.python,
    onOutput: (text) => process.stderr.write(text),
  });
  logToStderr(`RM training run in ${run.runDir}: base ${run.config.base.model}, ${run.config.groups.length} groups file(s)`);
  const onSignal = () => run.stop();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await run.done;
    process.stdout.write(
      `rm train ${result.status} — ${run.runDir}${result.status === 'failed' ? '' : ` (RM: ${path.join(run.runDir, RM_MODEL_DIR)})`}\n`,
    );
    if (result.message && result.status === 'failed') logToStderr(result.message);
    return result.exitCode;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

async function serveAction(flags: RmServeFlags): Promise<number> {
  const server = await startRmServer({
    // A run directory stands for its model/.
    modelDir: modelDirOf(flags.model),
    port: flags.port ?? 8001,
    host: flags.host,
    token: flags.token ?? (process.env[RM_TOKEN_ENV] || null),
    batchSize: flags.batchSize,
    maxWaitMs: flags.maxWaitMs,
    maxQueue: flags.maxQueue,
    device: flags.device,
    pythonPath: flags.python,
    onOutput: (text) => process.stderr.write(text),
  });
  process.stdout.write(`rm serve: ${server.scoreUrl}${server.token ? ' (bearer token required)' : ''}\n`);
  const onSignal = () => void server.stop();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const code = await server.exited;
    return code ?? 0;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

function modelDirOf(dir: string): string {
  return !fs.existsSync(path.join(dir, 'rm_config.json')) && fs.existsSync(path.join(dir, RM_MODEL_DIR, 'rm_config.json'))
    ? path.join(dir, RM_MODEL_DIR)
    : dir;
}

async function scoreGroupsAction(groupsFile: string, flags: RmScoreGroupsFlags): Promise<number> {
  if (!flags.rmUrl === !flags.rmModel) throw new Error('give --rm-url URL or --rm-model DIR (one of them)');
  if (!fs.existsSync(groupsFile)) throw new Error(`groups file not found: ${groupsFile}`);
  checkUrlFlag('--rm-url', flags.rmUrl);
  const ref = flags.rmModel ? rmModelRef(flags.rmModel) : null;
  const served = ref ? await serveRunRm(ref, { pythonPath: flags.python, log: logToStderr }) : null;
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await scoreGroupsFile({
      groupsFile,
      scoresDir: flags.outDir,
      endpoint: served?.endpoint ?? { url: flags.rmUrl!, apiKey: process.env[RM_TOKEN_ENV] || null },
      rmName: ref ? `${ref.dir} ${ref.id}` : flags.rmUrl!,
      signal: controller.signal,
      onProgress: (p) => process.stderr.write(`progress ${p.scored}/${p.total} traces\n`),
    });
    const scores = readRmGroupScores(result.scoresFile, result.sha256);
    const byProblem = new Map<string, Map<string, number>>();
    for (const s of scores) {
      const m = byProblem.get(s.problem_id) ?? new Map<string, number>();
      m.set(s.trace_id, s.score);
      byProblem.set(s.problem_id, m);
    }
    let groups = 0;
    let first = 0;
    let pairs = 0;
    let pairWins = 0;
    for await (const { record } of streamGroupRecords(groupsFile)) {
      const traces = expandGroup(record);
      const r = groupRanking(byProblem.get(record.problem_id) ?? new Map(), traces);
      if (r.positiveFirst === null) continue;
      groups += 1;
      if (r.positiveFirst) first += 1;
      const negs = traces.filter((t) => t.role === 'negative').length;
      pairs += negs;
      pairWins += Math.round(r.pairAccuracy! * negs);
    }
    process.stdout.write(
      `rm score-groups${controller.signal.aborted ? ' (cancelled)' : ''}: ${result.scored} traces scored, ${result.skipped} already scored — ${result.scoresFile}\n` +
        (groups
          ? `  reference ranked first in ${first}/${groups} groups (${((100 * first) / groups).toFixed(1)}%), pair accuracy ${((100 * pairWins) / pairs).toFixed(1)}% of ${pairs} pairs\n`
          : ''),
    );
    return controller.signal.aborted ? 130 : 0;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await served?.server.stop();
  }
}
