/**
 * Runs the set-up's external commands (uv, pip, python): output goes to the
 * set-up log, a cancel ends the whole process group, and a failure says
 * which command failed and shows the end of its output.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';

export class SetupCancelledError extends Error {
  constructor(message = 'Set-up cancelled.') {
    super(message);
    this.name = 'SetupCancelledError';
  }
}

export class SetupCommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
  ) {
    super(message);
    this.name = 'SetupCommandError';
  }
}

export interface CommandOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  signal?: AbortSignal;
  /** Appended to with the command line and its output. */
  logFile: string;
  /** Each output line, as it comes (for a progress view). */
  onLine?: (line: string) => void;
}

const TAIL_CHARS = 4000;

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function formatCommand(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map(quote).join(' ');
}

/** Resolves with the command's stdout when it exits 0. */
export async function runCommand(cmd: string, args: readonly string[], opts: CommandOptions): Promise<string> {
  if (opts.signal?.aborted) throw new SetupCancelledError();
  const line = formatCommand(cmd, args);
  fs.appendFileSync(opts.logFile, `\n$ ${line}\n`);
  return new Promise<string>((resolve, reject) => {
    // Its own process group, so a cancel also ends the compilers and builders it starts.
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
    });
    let stdout = '';
    let tail = '';
    let partial = '';
    const take = (chunk: Buffer, isStdout: boolean) => {
      const text = chunk.toString('utf8');
      fs.appendFileSync(opts.logFile, text);
      if (isStdout) stdout += text;
      tail = (tail + text).slice(-TAIL_CHARS);
      if (opts.onLine) {
        const lines = (partial + text).split(/\r?\n|\r/);
        partial = lines.pop() ?? '';
        for (const l of lines) if (l.trim()) opts.onLine(l);
      }
    };
    child.stdout.on('data', (c: Buffer) => take(c, true));
    child.stderr.on('data', (c: Buffer) => take(c, false));
    const kill = () => {
      try {
        if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, 'SIGTERM');
        else child.kill('SIGTERM');
      } catch {
        // already gone
      }
    };
    opts.signal?.addEventListener('abort', kill, { once: true });
    child.on('error', (err) => {
      opts.signal?.removeEventListener('abort', kill);
      reject(new SetupCommandError(`Could not start ${cmd}: ${err.message}`, null));
    });
    child.on('close', (code, signal) => {
      opts.signal?.removeEventListener('abort', kill);
      if (opts.signal?.aborted) return reject(new SetupCancelledError());
      if (code === 0) return resolve(stdout);
      reject(
        new SetupCommandError(
          `This command failed (${signal ? `signal ${signal}` : `exit ${code}`}):\n  ${line}\n` +
            `Last output:\n${tail.trimEnd()}\nFull log: ${opts.logFile}`,
          code,
        ),
      );
    });
  });
}
