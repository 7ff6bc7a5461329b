/** `tracelift report RUN… --out DIR`: the analyses of runs as report.md, CSVs and SVG plots. */
import * as path from 'node:path';
import { Command } from 'commander';
import { REPORT_FILES, writeReport } from '../engine/report/report';
import { isRunDir } from '../engine/run/runReader';

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description(
      'Analyses of one or more runs (eval or training): uplift estimate stability vs K, uplift and success vs trace length, ' +
        'utility over training steps, judge saturation, reward ablations — as report.md, CSVs and SVG plots. ' +
        'Each section says what the runs do not allow.',
    )
    .argument('<runs...>', 'run directories')
    .requiredOption('--out <dir>', 'output directory')
    .action(async (runs: string[], flags: { out: string }) => {
      for (const r of runs) if (!isRunDir(r)) throw new Error(`${r} is not a run directory (no events.jsonl)`);
      const report = await writeReport(runs, flags.out);
      process.stdout.write(
        `report: ${path.join(flags.out, REPORT_FILES.markdown)} (${report.files.length} files: ${report.files.join(', ')})\n`,
      );
    });
}
