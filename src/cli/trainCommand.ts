/** `tracelift train`: GRPO training of a planner on the engine's reward (src/engine/train/launcher.ts). */
import * as path from 'node:path';
import { Command } from 'commander';
import { REWARD_MODES, type RewardMode, type RunEvent } from '../engine/contract';
import { defaultRunDirName } from '../engine/eval/buildConfig';
import { launchTraining, REWARD_TOKEN_ENV, TRAIN_EXIT_CODES } from '../engine/train/launcher';
import { choiceOption, logToStderr, positiveInt } from './options';

interface TrainFlags {
  out?: string;
  resume?: string;
  maxSteps?: number;
  python?: string;
  trainerCommand?: string;
  servicePort?: number;
  allowUnsandboxed?: boolean;
  rmModel?: string;
  rewardMode?: RewardMode;
}

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description(
      'Train a planner with GRPO on the TraceLift reward: the Python trainer (TRL) gets its rewards from the engine. ' +
        'Recipes: recipes/*.json; see docs/training.md.',
    )
    .argument('[config]', 'training config (JSON, e.g. recipes/cpu-smollm2.json); omit with --resume')
    .option('--out <dir>', 'run directory (default: .tracelift/runs/train-<time>)')
    .option('--resume <dir>', 'continue the run in this directory from its last checkpoint')
    .option('--max-steps <n>', "train until this step (overrides the config's max_steps)", positiveInt)
    .option('--python <path>', 'Python of the training environment (default: $TRACELIFT_PYTHON or .venv)')
    .option(
      '--trainer-command <cmd>',
      'the trainer command before its arguments, split at spaces (default: <python> -m tracelift_backend.train; ' +
        'multi-GPU: "accelerate launch --config_file FILE -m tracelift_backend.train")',
    )
    .option('--service-port <n>', `reward service port (default: a free one); its token is $${REWARD_TOKEN_ENV} when set`, positiveInt)
    .option('--allow-unsandboxed', 'run code verifiers without bubblewrap (trusted tasks only)')
    .option(
      '--rm-model <dir>',
      "a Reason RM trained with `tracelift rm train`, served by the engine for the run (overrides the config's reward.rm_model)",
    )
    .addOption(choiceOption('--reward-mode <mode>', "reward (overrides the config's reward.mode)", REWARD_MODES))
    .action(async (config: string | undefined, flags: TrainFlags) => {
      process.exitCode = await trainAction(config, flags);
    });
}

async function trainAction(config: string | undefined, flags: TrainFlags): Promise<number> {
  if (!config === !flags.resume) throw new Error('give a config file to start a run, or --resume DIR to continue one (not both)');
  if (flags.resume && flags.out) throw new Error('--resume names the run directory; --out is for a new run');
  const runDir = flags.resume ?? flags.out ?? path.join('.tracelift', 'runs', defaultRunDirName('train'));
  const log = logToStderr;
  const started = Date.now();
  let lastStepAt = started;
  let total = 0;
  const run = await launchTraining({
    runDir,
    configFile: config ?? null,
    maxSteps: flags.maxSteps,
    rmModel: flags.rmModel,
    rewardMode: flags.rewardMode,
    pythonPath: flags.python,
    trainerCommand: flags.trainerCommand?.trim().split(/\s+/),
    servicePort: flags.servicePort,
    serviceToken: process.env[REWARD_TOKEN_ENV] || null,
    allowUnsandboxed: flags.allowUnsandboxed,
    log,
    onTrainerOutput: (text) => process.stderr.write(text),
    onEvent: (e) => {
      if (e.type !== 'step_metrics') return;
      const now = Date.now();
      process.stdout.write(progressLine(e, total, (now - lastStepAt) / 1000) + '\n');
      lastStepAt = now;
    },
  });
  total = run.config.max_steps;
  const onSignal = () => run.stop();
  // SIGHUP: the terminal of the editor's training task was closed; stop as gracefully as a Ctrl-C.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, onSignal);
  try {
    const result = await run.done;
    const s = result.summary;
    process.stdout.write(
      `train ${result.status} — ${result.runDir}: ${s.micro.traces} traces, mean reward ${fmt(s.mean_reward)}, ` +
        `mean uplift ${fmt(s.mean_uplift)}, ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
    );
    if (result.message && result.status === 'failed') log(result.message);
    return result.exitCode;
  } catch (err) {
    log((err as Error).message);
    return TRAIN_EXIT_CODES.failed;
  } finally {
    for (const signal of signals) process.removeListener(signal, onSignal);
  }
}

const fmt = (x: number | null | undefined, digits = 3) => (x === null || x === undefined ? 'n/a' : x.toFixed(digits));

/** `step 3/20  reward 0.500  uplift +0.125  12.3 s`: one line per step_metrics event. */
export function progressLine(e: Extract<RunEvent, { type: 'step_metrics' }>, total: number, seconds: number): string {
  const m = e.metrics;
  const uplift = m.uplift_mean === undefined ? 'n/a' : `${m.uplift_mean >= 0 ? '+' : ''}${m.uplift_mean.toFixed(3)}`;
  const secs = m.time_step_s ?? seconds;
  const extra = m.loss === undefined ? '' : `  loss ${fmt(m.loss, 4)}`;
  return `step ${e.step}/${total || '?'}  reward ${fmt(m.reward_mean)}  uplift ${uplift}${extra}  ${secs.toFixed(1)} s`;
}
