/** `tracelift ablate RUN --out DIR`: every reward mode on a run's recorded rollouts, no executor call. */
import * as path from 'node:path';
import { Command } from 'commander';
import { loadRun } from '../engine/analysis/loadRun';
import { ABLATION_FILES, ablationMarkdown, writeAblationReport } from '../engine/report/ablationReport';
import { isRunDir } from '../engine/run/runReader';
import { logToStderr } from './options';

export function registerAblateCommand(program: Command): void {
  program
    .command('ablate')
    .description(
      'Re-score a run’s recorded rollouts under every reward mode (no executor call): rank correlation between modes, ' +
        'preference for perturbed traces on a groups-file run, reward variance within groups. Modes whose signal the run ' +
        'did not record (RM or judge scores) are reported unavailable.',
    )
    .argument('<run>', 'run directory (eval or training)')
    .requiredOption('--out <dir>', `output directory (${Object.values(ABLATION_FILES).join(', ')})`)
    .action((runDir: string, flags: { out: string }) => {
      if (!isRunDir(runDir)) throw new Error(`${runDir} is not a run directory (no events.jsonl)`);
      const run = loadRun(runDir);
      for (const issue of run.issues) logToStderr(`warning: ${issue} (skipped)`);
      if (!run.groups.length) throw new Error(`${runDir} has no scored groups to ablate`);
      const result = writeAblationReport(run, flags.out);
      process.stdout.write(ablationMarkdown(result));
      process.stdout.write(
        `\nfiles: ${path.join(flags.out, ABLATION_FILES.markdown)}, ${Object.values(ABLATION_FILES).slice(1).join(', ')}\n`,
      );
    });
}
