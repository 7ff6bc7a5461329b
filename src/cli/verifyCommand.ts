/** `tracelift verify math|code FILE.jsonl`: verdicts as JSON lines on stdout. */
import { Command } from 'commander';
import { positiveInt } from './options';

export function registerVerifyCommand(program: Command): void {
  const verify = program.command('verify').description('Verify predictions (math) or programs (code) from a JSONL file.');
  verify
    .command('math <file>')
    .description('Lines {"id","prediction","reference","task"?} → lines {"id","correct","extracted"}')
    .option('--python <path>', 'Python with math-verify (default: the project .venv)')
    .action(async (file: string, flags: { python?: string }) => {
      const { runVerifyMath } = await import('./verifyMath');
      process.exitCode = await runVerifyMath(file, { python: flags.python }, process.stdout);
    });
  verify
    .command('code <file>')
    .description('Lines {"id","program","tests","timeout_s"?} → lines {"id","passed","status","tests_passed","tests_total"}')
    .option('--concurrency <n>', 'programs run at once (default: CPU count)', positiveInt)
    .option('--allow-unsandboxed', 'run without bubblewrap (unsafe; warns on every run)')
    .action(async (file: string, flags: { concurrency?: number; allowUnsandboxed?: boolean }) => {
      const { runVerifyCode } = await import('./verifyCode');
      process.exitCode = await runVerifyCode(
        file,
        { concurrency: flags.concurrency, allowUnsandboxed: flags.allowUnsandboxed },
        process.stdout,
      );
    });
}
