/** `tracelift data fetch|status`: benchmark files from their published sources (src/engine/data). */
import { Command } from 'commander';
import { DataFetchCancelledError, type FetchProgress } from '../engine/data/fetch';
import { dataStatus, fetchTaskData, formatDataStatus } from '../engine/data/taskData';
import { checkUrlFlag } from './errors';

interface FetchFlags {
  dataDir?: string;
  mirror?: string;
  json?: boolean;
}

/** One line per file when it ends; on a terminal, a running percentage too. */
function progressPrinter(): (p: FetchProgress) => void {
  const tty = process.stderr.isTTY === true;
  return (p) => {
    if (p.phase === 'downloading') {
      if (tty) process.stderr.write(`\r${p.path} ${Math.floor((100 * p.received) / p.total)}%`);
      return;
    }
    if (p.phase === 'verifying') return;
    const what = p.phase === 'present' ? 'already present' : `downloaded, sha256 ok (${p.total} bytes)`;
    process.stderr.write(`${tty ? '\r' : ''}${p.path}: ${what}\n`);
  };
}

export function registerDataCommand(program: Command): void {
  const data = program.command('data').description('Benchmark data: fetch it from its published sources, see what is where.');

  data
    .command('fetch [tasks...]')
    .description(
      'Download the benchmark files of TASKS (default: all) from their published sources, check each against its pinned ' +
        'sha256 and store it in the data cache (or --data-dir). Resumes partial downloads; Ctrl-C cancels.',
    )
    .option('--data-dir <dir>', 'where to store the files (default: $TRACELIFT_DATA_DIR, else the data cache)')
    .option('--mirror <url>', 'fetch from this base URL instead (same layout as the data directory, e.g. <url>/gsm8k/test.jsonl)')
    .option('--json', 'print the result as one JSON object')
    .action(async (tasks: string[], flags: FetchFlags) => {
      checkUrlFlag('--mirror', flags.mirror);
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const result = await fetchTaskData({
          tasks,
          dataDir: flags.dataDir,
          mirror: flags.mirror ?? process.env.TRACELIFT_DATA_MIRROR,
          signal: controller.signal,
          onProgress: progressPrinter(),
        });
        if (flags.json) process.stdout.write(JSON.stringify(result) + '\n');
        else process.stdout.write(`${result.files.length} file(s) in ${result.dataDir}\n`);
      } catch (err) {
        if (!(err instanceof DataFetchCancelledError)) throw err;
        process.stderr.write(`\ntracelift: ${err.message}\n`);
        process.exitCode = 130;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });

  data
    .command('status')
    .description('List, per task, where each benchmark file is found (and whether it has the published bytes) or that it is missing.')
    .option('--data-dir <dir>', 'look here first (as the other commands would)')
    .option('--json', 'print the report as one JSON object')
    .action(async (flags: { dataDir?: string; json?: boolean }) => {
      const report = await dataStatus(flags.dataDir);
      process.stdout.write(flags.json ? JSON.stringify(report) + '\n' : formatDataStatus(report));
      process.exitCode = report.tasks.every((t) => t.ready) ? 0 : 1;
    });
}
