/**
 * The tracelift CLI: the engine's first front door (the VS Code extension is
 * the second). Commands: eval, verify math|code, baselines, bench reward, tasks, schemas.
 * This file only wires the commands; what they share is in options.ts.
 */
import { Command } from 'commander';
import { formatCliError } from './errors';
import { registerEvalCommand } from './evalCommand';
import { registerBaselinesCommand } from './baselinesCommand';
import { registerBenchCommand } from './benchCommand';
import { registerMiscCommands } from './miscCommands';
import { registerVerifyCommand } from './verifyCommand';
import { registerTrainCommand } from './trainCommand';
import { registerDoctorCommand } from './doctorCommand';
import { registerGroupsCommand } from './groupsCommand';
import { registerRmCommand } from './rmCommand';
import { registerSuiteCommand } from './suiteCommand';
import { registerAblateCommand } from './ablateCommand';
import { registerReportCommand } from './reportCommand';
import { registerDataCommand } from './dataCommand';
import { registerSetupCommand } from './setupCommand';

async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program
    .name('tracelift')
    .description('Measure how much reasoning traces lift a frozen executor; score them as TraceLift rewards.')
    .showHelpAfterError();
  registerEvalCommand(program);
  registerVerifyCommand(program);
  registerBaselinesCommand(program);
  registerBenchCommand(program);
  registerMiscCommands(program);
  registerTrainCommand(program);
  registerDoctorCommand(program);
  registerGroupsCommand(program);
  registerRmCommand(program);
  registerSuiteCommand(program);
  registerAblateCommand(program);
  registerReportCommand(program);
  registerDataCommand(program);
  registerSetupCommand(program);
  await program.parseAsync(argv);
}

main(process.argv).catch((err: unknown) => {
  process.stderr.write(`tracelift: ${formatCliError(err)}\n`);
  process.exitCode = process.exitCode || 1;
});
