/**
 * Finding bubblewrap and checking that it actually works here. Some hosts
 * have `bwrap` installed but forbid user namespaces (containers, hardened
 * kernels, Ubuntu's AppArmor restriction), so the check runs a trivial
 * program through the real sandbox layout once and caches the answer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';

export const BWRAP_INSTALL_HINT = [
  'TraceLift runs generated programs only inside bubblewrap (bwrap).',
  'Install it:  Debian/Ubuntu: sudo apt-get install bubblewrap   Fedora/RHEL: sudo dnf install bubblewrap',
  '             Arch: sudo pacman -S bubblewrap   openSUSE: sudo zypper install bubblewrap   Alpine: apk add bubblewrap',
  'bwrap needs Linux with user namespaces. If it is installed but fails with "No permissions to create new namespace"',
  'or "setting up uid map: Permission denied", allow unprivileged user namespaces (e.g. sysctl kernel.unprivileged_userns_clone=1;',
  'on Ubuntu 23.10+ sysctl kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for bwrap), or run the',
  'container with --security-opt seccomp=unconfined / --privileged. On macOS or Windows use a Linux machine, WSL2 or Remote-SSH.',
  'Running without a sandbox is possible only by explicit opt-in (allowUnsandboxed / --allow-unsandboxed); it warns on every run.',
].join('\n');

export class SandboxUnavailableError extends Error {
  constructor(
    readonly reason: string,
    readonly hint: string = BWRAP_INSTALL_HINT,
  ) {
    super(`Code sandbox unavailable: ${reason}\n${hint}`);
    this.name = 'SandboxUnavailableError';
  }
}

/** First executable called `name` on $PATH (or the usual system dirs), else null. */
export function findExecutable(name: string, envPath: string | undefined = process.env.PATH): string | null {
  if (name.includes('/')) return isExecutable(name) ? name : null;
  const dirs = [...(envPath ?? '').split(path.delimiter), '/usr/bin', '/bin', '/usr/local/bin', '/usr/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(file: string): boolean {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  error?: string;
}

/** Runs a short trusted command with a timeout (for probes only). */
export function execShort(
  file: string,
  args: readonly string[],
  opts: { timeoutMs?: number; uid?: number; gid?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<ExecResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    const child = spawn(file, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: opts.env ?? { PATH: '/usr/bin:/bin' },
      cwd: opts.cwd ?? '/',
      ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
      ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
    });
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, opts.timeoutMs ?? 10_000);
    child.stdout?.on('data', (b: Buffer) => {
      if (stdout.length < 65536) stdout += b.toString('utf8');
    });
    child.stderr?.on('data', (b: Buffer) => {
      if (stderr.length < 65536) stderr += b.toString('utf8');
    });
    const finish = (r: ExecResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    child.on('error', (err) => finish({ code: null, signal: null, stdout, stderr, error: err.message }));
    child.on('close', (code, signal) => finish({ code, signal, stdout, stderr }));
  });
}

/** Does this bwrap understand an option (0.8 added --disable-userns, for instance)? */
export async function bwrapSupports(bwrap: string, option: string): Promise<boolean> {
  const r = await execShort(bwrap, ['--help'], { timeoutMs: 5000 });
  return (r.stdout + r.stderr).includes(option);
}
