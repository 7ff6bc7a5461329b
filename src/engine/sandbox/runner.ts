/**
 * Runs untrusted Python under bubblewrap.
 *
 * Every run: a fresh bwrap with all namespaces unshared (no network, own
 * pid/ipc/uts/cgroup/user namespace), uid/gid 65534 inside, no capabilities,
 * nested user namespaces disabled, read-only /usr (+ /bin, /lib* links and
 * two /etc files the dynamic linker and time zone need), a private size-capped
 * /tmp and /dev/shm, read-only /dev and /, no home directories, no workspace,
 * a scrubbed environment (--clearenv + PATH/LANG/HOME/TMPDIR), and the harness
 * directory read-only at /judge. Resource limits are applied by a Python
 * preamble inside the sandbox (backend/tracelift_backend/sandbox/preamble.py). The outer bwrap is
 * spawned detached (its own process group) and killed with SIGKILL at the
 * wall-clock limit; --die-with-parent then kills the sandbox's pid-namespace
 * init and with it every process the program started, so nothing outlives a
 * run. When the engine runs as root, bwrap itself is started as uid 65534 so
 * that RLIMIT_NPROC is enforced (the kernel never enforces it for uid 0).
 *
 * The process gets four pipes: stdin, stdout, stderr and fd 3 (the
 * "channel"), which the harness uses for its structured results. stdout and
 * stderr are captured with caps and never interpreted.
 *
 * Without a working bwrap the runner refuses (SandboxUnavailableError with
 * install instructions) unless `allowUnsandboxed: true` was given; then it runs
 * the same harness in a bare python3 subprocess and calls `onWarning` on every
 * run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import pLimit, { type LimitFunction } from 'p-limit';
import { formatLimits, preambleSource, type RLimits } from './preamble';
import { SandboxUnavailableError, bwrapSupports, execShort, findExecutable } from './detect';

export interface SandboxOptions {
  /** Run without bubblewrap when it is missing or broken. Unsafe; warns on every run. */
  allowUnsandboxed?: boolean;
  /** Receives warnings (every unsandboxed run, degraded sandbox). Default: console.warn. */
  onWarning?: (message: string) => void;
  /** Runs at once. Default: number of CPUs. */
  concurrency?: number;
  /** Python interpreter for the sandbox. Default /usr/bin/python3, else python3 on PATH. */
  python?: string;
  /** bwrap binary. Default: `bwrap` on PATH. */
  bwrap?: string;
  /** More host paths to expose read-only at the same path (e.g. a Python prefix outside /usr). */
  extraReadOnlyPaths?: string[];
  /** Size of the private /tmp (bytes). Default 64 MiB. */
  tmpfsBytes?: number;
  /** Host uid/gid to start bwrap as when the engine runs as root. Default 65534 (nobody); null keeps root. */
  runAs?: { uid: number; gid: number } | null;
}

export interface HarnessFiles {
  /** Stable id (e.g. a content hash); files are written once per runner. */
  id: string;
  files: Record<string, string>;
}

export interface SandboxRequest {
  harness: HarnessFiles;
  /** Python script (a file of the harness) to run after the limits are applied. */
  script: string;
  args?: string[];
  stdin?: string | Buffer;
  limits: Partial<RLimits>;
  /** Wall-clock limit for the whole process tree. */
  wallTimeoutMs: number;
  maxStdoutBytes?: number;
  maxStderrBytes?: number;
  maxChannelBytes?: number;
}

export interface SandboxResult {
  sandboxed: boolean;
  exitCode: number | null;
  signal: string | null;
  /** Killed at the wall-clock limit. */
  timedOut: boolean;
  /** Killed because the channel exceeded maxChannelBytes. */
  channelOverflow: boolean;
  stdout: Buffer;
  stdoutTruncated: boolean;
  /** Tail of stderr (capped). */
  stderr: string;
  /** Everything written to fd 3 (capped). */
  channel: Buffer;
  durationMs: number;
  spawnError?: string;
}

export interface SandboxInfo {
  sandboxed: boolean;
  bwrap: string | null;
  /** Interpreter path, valid inside the sandbox. */
  python: string;
  /** Where the harness directory appears to the sandboxed process. */
  harnessRoot: string;
  /** Host uid/gid bwrap runs as (null: the engine's own). */
  runAs: { uid: number; gid: number } | null;
  /** False when bwrap had to run as root, where RLIMIT_NPROC is not enforced. */
  nprocEnforced: boolean;
  disableUserns: boolean;
  warnings: string[];
}

const NOBODY = { uid: 65534, gid: 65534 };
const SANDBOX_ENV = ['PATH', '/usr/local/bin:/usr/bin:/bin', 'LANG', 'C.UTF-8', 'HOME', '/tmp', 'TMPDIR', '/tmp'];

interface Layout {
  bwrap: string;
  python: string;
  harnessHostDir: string;
  extraReadOnly: string[];
  tmpfsBytes: number;
  disableUserns: boolean;
}

/** bwrap arguments for one run (everything before the command). */
export function bwrapArgs(layout: Layout): string[] {
  const a: string[] = [
    '--unshare-all',
    '--unshare-user',
    '--die-with-parent',
    '--new-session',
    '--uid',
    '65534',
    '--gid',
    '65534',
    '--cap-drop',
    'ALL',
    '--hostname',
    'sandbox',
  ];
  if (layout.disableUserns) a.push('--disable-userns');
  a.push('--ro-bind', '/usr', '/usr');
  for (const dir of ['/bin', '/sbin', '/lib', '/lib64', '/lib32', '/libx32']) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(dir);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) a.push('--symlink', fs.readlinkSync(dir), dir);
    else if (st.isDirectory()) a.push('--ro-bind', dir, dir);
  }
  // The dynamic linker's cache and the time zone; nothing else from /etc.
  a.push('--ro-bind-try', '/etc/ld.so.cache', '/etc/ld.so.cache');
  a.push('--ro-bind-try', '/etc/localtime', '/etc/localtime');
  for (const p of layout.extraReadOnly) a.push('--ro-bind', p, p);
  a.push('--size', String(layout.tmpfsBytes), '--tmpfs', '/tmp');
  a.push('--proc', '/proc', '--dev', '/dev');
  a.push('--size', String(16 * 1024 * 1024), '--tmpfs', '/dev/shm');
  a.push('--ro-bind', layout.harnessHostDir, '/judge');
  a.push('--chdir', '/tmp', '--clearenv');
  for (let i = 0; i < SANDBOX_ENV.length; i += 2) a.push('--setenv', SANDBOX_ENV[i]!, SANDBOX_ENV[i + 1]!);
  a.push('--remount-ro', '/dev', '--remount-ro', '/');
  return a;
}

interface ProbeOutcome {
  info: SandboxInfo;
  layout: Layout | null;
}

const probeCache = new Map<string, Promise<ProbeOutcome>>();

async function resolvePython(explicit: string | undefined): Promise<{ python: string; prefix: string | null; error?: string }> {
  const candidate = explicit ?? (fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : findExecutable('python3'));
  if (!candidate) return { python: 'python3', prefix: null, error: 'no python3 found' };
  const r = await execShort(candidate, ['-I', '-S', '-c', 'import sys;print(sys.executable);print(sys.base_prefix)'], {
    timeoutMs: 15_000,
  });
  if (r.code !== 0) return { python: candidate, prefix: null, error: `${candidate} does not run: ${r.error ?? r.stderr.trim()}` };
  const [exe, prefix] = r.stdout.trim().split('\n');
  return { python: exe && path.isAbsolute(exe) ? exe : candidate, prefix: prefix ?? null };
}

function makeHarnessRoot(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracelift-harness-'));
  fs.chmodSync(dir, 0o755);
  const cleanup = () => {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  };
  process.once('exit', cleanup);
  return dir;
}

async function probe(opts: SandboxOptions): Promise<ProbeOutcome> {
  const warnings: string[] = [];
  const py = await resolvePython(opts.python);
  const harnessHostDir = makeHarnessRoot();
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const runAsPreferred = isRoot ? (opts.runAs === undefined ? NOBODY : opts.runAs) : null;

  const unsandboxed = (reason: string): ProbeOutcome => {
    if (!opts.allowUnsandboxed) throw new SandboxUnavailableError(reason);
    if (py.error) throw new SandboxUnavailableError(py.error, 'Install python3 (3.8 or newer).');
    warnings.push(`bubblewrap unavailable (${reason}); running programs UNSANDBOXED by explicit opt-in`);
    return {
      info: {
        sandboxed: false,
        bwrap: null,
        python: py.python,
        harnessRoot: harnessHostDir,
        runAs: runAsPreferred,
        nprocEnforced: !isRoot || runAsPreferred !== null,
        disableUserns: false,
        warnings,
      },
      layout: null,
    };
  };

  if (process.platform !== 'linux') return unsandboxed(`bubblewrap needs Linux (this is ${process.platform})`);
  const bwrap = findExecutable(opts.bwrap ?? 'bwrap');
  if (!bwrap) return unsandboxed(opts.bwrap ? `no executable bwrap at ${opts.bwrap}` : '`bwrap` was not found on PATH');
  if (py.error) throw new SandboxUnavailableError(py.error, 'Install python3 (3.8 or newer), or pass the interpreter path.');

  const extraReadOnly = [...(opts.extraReadOnlyPaths ?? [])];
  const realPy = fs.realpathSync(py.python);
  if (!realPy.startsWith('/usr/') && py.prefix && !extraReadOnly.includes(py.prefix)) {
    extraReadOnly.push(py.prefix);
    if (/^\/(home|root)(\/|$)/.test(py.prefix)) {
      warnings.push(`the sandbox exposes ${py.prefix} read-only because the Python interpreter lives there; prefer /usr/bin/python3`);
    }
  }
  const supportsDisable = await bwrapSupports(bwrap, '--disable-userns');
  const base = { bwrap, python: py.python, harnessHostDir, extraReadOnly, tmpfsBytes: opts.tmpfsBytes ?? 64 * 1024 * 1024 };
  const attempts: { runAs: { uid: number; gid: number } | null; disableUserns: boolean }[] = [];
  for (const runAs of runAsPreferred ? [runAsPreferred, null] : [null]) {
    if (supportsDisable) attempts.push({ runAs, disableUserns: true });
    attempts.push({ runAs, disableUserns: false });
  }
  let firstError = '';
  for (const attempt of attempts) {
    const layout: Layout = { ...base, disableUserns: attempt.disableUserns };
    const r = await execShort(bwrap, [...bwrapArgs(layout), '--', py.python, '-I', '-S', '-c', 'print("tracelift-sandbox-ok")'], {
      timeoutMs: 20_000,
      ...(attempt.runAs ? { uid: attempt.runAs.uid, gid: attempt.runAs.gid } : {}),
    });
    if (r.code === 0 && r.stdout.includes('tracelift-sandbox-ok')) {
      const nprocEnforced = !(isRoot && attempt.runAs === null);
      if (!nprocEnforced) {
        warnings.push(
          'bubblewrap works only as root here: RLIMIT_NPROC is not enforced for uid 0, so fork bombs are bounded only by the wall-clock kill',
        );
      }
      return {
        info: {
          sandboxed: true,
          bwrap,
          python: py.python,
          harnessRoot: '/judge',
          runAs: attempt.runAs,
          nprocEnforced,
          disableUserns: attempt.disableUserns,
          warnings,
        },
        layout,
      };
    }
    if (!firstError) firstError = (r.error ?? r.stderr.trim()) || `exit code ${r.code}`;
  }
  return unsandboxed(`bwrap is installed (${bwrap}) but cannot create a sandbox here: ${firstError.slice(0, 500)}`);
}

export class SandboxRunner {
  private readonly limit: LimitFunction;
  private probed: Promise<ProbeOutcome> | null = null;
  private readonly installed = new Set<string>();
  private closed = false;

  constructor(private readonly opts: SandboxOptions = {}) {
    const n = opts.concurrency ?? defaultConcurrency();
    this.limit = pLimit(Math.max(1, Math.floor(n)));
  }

  get concurrency(): number {
    return this.limit.concurrency;
  }

  /** Probes once (cached per process for the same settings). Throws SandboxUnavailableError. */
  async info(): Promise<SandboxInfo> {
    return (await this.outcome()).info;
  }

  private outcome(): Promise<ProbeOutcome> {
    if (!this.probed) {
      const key = JSON.stringify([
        this.opts.bwrap ?? null,
        this.opts.python ?? null,
        this.opts.extraReadOnlyPaths ?? [],
        this.opts.tmpfsBytes ?? null,
        this.opts.runAs === undefined ? 'default' : this.opts.runAs,
        Boolean(this.opts.allowUnsandboxed),
      ]);
      let p = probeCache.get(key);
      if (!p) {
        p = probe(this.opts);
        probeCache.set(key, p);
        p.then(
          (o) => {
            for (const w of o.info.warnings) this.warn(w);
          },
          () => probeCache.delete(key),
        );
      }
      this.probed = p;
    }
    return this.probed;
  }

  private warn(message: string): void {
    if (this.opts.onWarning) this.opts.onWarning(message);
    else console.warn(`[tracelift sandbox] ${message}`);
  }

  private install(harness: HarnessFiles, hostRoot: string): void {
    if (this.installed.has(harness.id)) return;
    if (!/^[A-Za-z0-9_.-]+$/.test(harness.id)) throw new Error(`bad harness id ${harness.id}`);
    const dir = path.join(hostRoot, harness.id);
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    for (const [name, content] of Object.entries(harness.files)) {
      if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`bad harness file name ${name}`);
      const file = path.join(dir, name);
      fs.writeFileSync(file, content, { mode: 0o644 });
      fs.chmodSync(file, 0o644);
    }
    this.installed.add(harness.id);
  }

  /** Path of a harness file as the sandboxed process sees it. */
  async harnessPath(harness: HarnessFiles, file: string): Promise<string> {
    const info = await this.info();
    return path.posix.join(info.harnessRoot, harness.id, file);
  }

  run(req: SandboxRequest): Promise<SandboxResult> {
    return this.limit(() => this.runNow(req));
  }

  private async runNow(req: SandboxRequest): Promise<SandboxResult> {
    if (this.closed) throw new Error('SandboxRunner is closed');
    const { info, layout } = await this.outcome();
    const hostRoot = layout ? layout.harnessHostDir : info.harnessRoot;
    this.install(req.harness, hostRoot);
    const script = path.posix.join(info.harnessRoot, req.harness.id, req.script);
    const pyArgs = ['-I', '-S', '-c', preambleSource(), formatLimits(req.limits), script, ...(req.args ?? [])];
    if (layout) {
      return spawnCaptured(
        layout.bwrap,
        [...bwrapArgs(layout), '--', info.python, ...pyArgs],
        { env: { PATH: '/usr/bin:/bin' }, cwd: '/', runAs: info.runAs, sandboxed: true },
        req,
      );
    }
    this.warn(
      'running an untrusted program WITHOUT a sandbox (allowUnsandboxed): it can read your files, use the network and outlive its time limit',
    );
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tracelift-run-'));
    try {
      if (info.runAs) fs.chownSync(work, info.runAs.uid, info.runAs.gid);
      return await spawnCaptured(
        info.python,
        pyArgs,
        {
          env: { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', HOME: work, TMPDIR: work },
          cwd: work,
          runAs: info.runAs,
          sandboxed: false,
        },
        req,
      );
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.limit.clearQueue();
  }
}

export function defaultConcurrency(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length || 1;
}

function spawnCaptured(
  file: string,
  args: string[],
  how: { env: NodeJS.ProcessEnv; cwd: string; runAs: { uid: number; gid: number } | null; sandboxed: boolean },
  req: SandboxRequest,
): Promise<SandboxResult> {
  const maxStdout = req.maxStdoutBytes ?? 64 * 1024;
  const maxStderr = req.maxStderrBytes ?? 64 * 1024;
  const maxChannel = req.maxChannelBytes ?? 64 * 1024 * 1024;
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      detached: true,
      env: how.env,
      cwd: how.cwd,
      ...(how.runAs ? { uid: how.runAs.uid, gid: how.runAs.gid } : {}),
    });
    const stdoutChunks: Buffer[] = [];
    let stdoutLen = 0;
    let stdoutTruncated = false;
    let stderrTail = Buffer.alloc(0);
    const channelChunks: Buffer[] = [];
    let channelLen = 0;
    let channelOverflow = false;
    let timedOut = false;
    let settled = false;
    let exitInfo: { code: number | null; signal: string | null } | null = null;
    let spawnError: string | undefined;

    const killTree = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    };
    const wall = setTimeout(() => {
      timedOut = true;
      killTree();
    }, req.wallTimeoutMs);

    child.stdout!.on('data', (b: Buffer) => {
      if (stdoutLen < maxStdout) {
        const take = b.subarray(0, maxStdout - stdoutLen);
        stdoutChunks.push(take);
        stdoutLen += take.length;
        if (take.length < b.length) stdoutTruncated = true;
      } else stdoutTruncated = true;
    });
    child.stderr!.on('data', (b: Buffer) => {
      stderrTail = Buffer.concat([stderrTail, b]);
      if (stderrTail.length > maxStderr) stderrTail = stderrTail.subarray(stderrTail.length - maxStderr);
    });
    const channel = child.stdio[3] as Readable | null;
    channel?.on('data', (b: Buffer) => {
      if (channelOverflow) return;
      channelLen += b.length;
      if (channelLen > maxChannel) {
        channelOverflow = true;
        killTree();
        return;
      }
      channelChunks.push(b);
    });
    for (const s of [child.stdout, child.stderr, channel]) s?.on('error', () => undefined);
    child.stdin!.on('error', () => undefined);
    if (req.stdin !== undefined) child.stdin!.end(req.stdin);
    else child.stdin!.end();

    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(wall);
      clearTimeout(grace);
      killTree();
      for (const s of [child.stdout, child.stderr, channel]) s?.destroy();
      resolve({
        sandboxed: how.sandboxed,
        exitCode: exitInfo?.code ?? null,
        signal: exitInfo?.signal ?? null,
        timedOut,
        channelOverflow,
        stdout: Buffer.concat(stdoutChunks),
        stdoutTruncated,
        stderr: stderrTail.toString('utf8'),
        channel: Buffer.concat(channelChunks),
        durationMs: performance.now() - started,
        ...(spawnError ? { spawnError } : {}),
      });
    };
    let grace: NodeJS.Timeout | undefined;
    child.on('error', (err) => {
      spawnError = err.message;
      finish();
    });
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      // Give the pipes a moment to drain, but do not wait for stray holders.
      grace = setTimeout(finish, 1000);
    });
    child.on('close', (code, signal) => {
      exitInfo = { code, signal };
      finish();
    });
  });
}
